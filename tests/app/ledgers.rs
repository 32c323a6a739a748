//! Materials, stock, distributions and outreach activities: arithmetic, totals, the
//! activity ↔ distribution link, exports and village confinement.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx};
use chrono::NaiveDate;
use pufa::domain::activity::{ActivityInput, AudienceGroup, Place};
use pufa::domain::dates::Period;
use pufa::domain::material::DistributionInput;
use pufa::domain::Role;
use pufa::domain::VillageScope;
use pufa::services::{activities, materials, Actor};
use pufa::store::activities::{ActivityDimension, ActivityFilter};
use pufa::store::distributions::{DistributionDimension, DistributionFilter};
use pufa::store::{self, audit, Subtotal};
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp};

on_both_backends!(
    stock_is_receipts_minus_distributions_across_years,
    distribution_totals_agree_with_the_rows,
    activity_totals_agree_with_the_rows,
    activity_with_materials_creates_and_deletes_its_distributions,
    exported_distributions_open_with_real_dates_and_numbers,
    clerk_records_only_for_own_village,
    village_page_shows_the_year_and_the_literate_target,
    absurd_quantities_are_field_errors_and_the_year_still_adds_up,
    a_saved_distribution_opens_its_year_and_a_clerk_is_told_whom_to_ask,
);

fn year(y: i32) -> Period {
    Period::of(y, None).unwrap()
}

async fn stock_is_receipts_minus_distributions_across_years(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "stock_is_receipts_minus_distributions").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let booklet = app.material("民法典手册").await;
    let poster = app.material("宪法海报").await;
    app.receipt_on(booklet, "2020-03-01", 500).await;
    app.receipt_on(booklet, "2021-02-01", 300).await;
    app.distribution(booklet, Some(village), "2020-12-31", 200)
        .await;
    app.distribution(booklet, Some(village), "2021-01-01", 450)
        .await;
    app.receipt_on(poster, "2021-05-01", 50).await;
    app.distribution(poster, None, "2021-06-01", 80).await;

    let stock = materials::list_materials(&app.db, &Actor::operator(), year(2021))
        .await
        .unwrap();
    let find = |id| stock.iter().find(|m| m.id == id).unwrap();
    let b = find(booklet);
    assert_eq!((b.received_total, b.distributed_total), (800, 650));
    assert_eq!((b.received_in_period, b.distributed_in_period), (300, 450));
    assert_eq!(b.on_hand(), 150);
    assert!(!b.is_short());
    let p = find(poster);
    assert_eq!(p.on_hand(), -30);
    assert!(p.is_short(), "80 handed out, 50 received");
    let in_2020 = materials::get_material(&app.db, &Actor::operator(), booklet, year(2020))
        .await
        .unwrap();
    assert_eq!(
        (in_2020.received_in_period, in_2020.distributed_in_period),
        (500, 200)
    );

    // The materials page lists the shortfall so someone records the missing receipt.
    app.user("organizer", Role::Organizer, None).await;
    let session = app.session("organizer").await;
    let page = session.get("/materials?year=2021").await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("库存不足"));
    assert!(
        page.body.contains("缺 30张") || page.body.contains("缺 30册"),
        "{}",
        page.body
    );

    // Recording the missing receipt clears the flag.
    let reply = session
        .post(
            &format!("/materials/{poster}/receipts"),
            &[
                ("received_on", "2021-06-02"),
                ("quantity", "30"),
                ("source", "县司法局"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    let poster_now = materials::get_material(&app.db, &Actor::operator(), poster, year(2021))
        .await
        .unwrap();
    assert_eq!(poster_now.on_hand(), 0);
    assert!(!session
        .get("/materials?year=2021")
        .await
        .body
        .contains("库存不足"));
}

/// A small deterministic spread of rows over villages, months and kinds.
fn spread(i: usize) -> (usize, u32, usize, i64) {
    (
        i % 3,
        (i * 7 % 12) as u32 + 1,
        i % 4,
        (i as i64 * 37) % 90 + 10,
    )
}

fn as_map(subtotals: &[Subtotal]) -> BTreeMap<Option<String>, (i64, i64)> {
    subtotals
        .iter()
        .map(|s| (s.key.clone(), (s.rows, s.quantity)))
        .collect()
}

async fn distribution_totals_agree_with_the_rows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "distribution_totals_agree").await else {
        return;
    };
    let villages = [
        app.village("龙凤村").await,
        app.village("凤凰社区").await,
        app.village("石桥村").await,
    ];
    let names = ["龙凤村", "凤凰社区", "石桥村"];
    let kinds = ["booklet", "leaflet", "poster", "banner"];
    let mut material_ids = Vec::new();
    for (n, kind) in kinds.iter().enumerate() {
        let input = pufa::domain::material::MaterialInput {
            title: format!("资料{n}"),
            kind: kind.to_string(),
            unit: "份".into(),
            notes: String::new(),
        };
        material_ids.push(
            materials::create_material(&app.db, &Actor::operator(), &input)
                .await
                .unwrap(),
        );
    }
    let mut by_village: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    let mut by_month: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    let mut by_kind: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    let mut total = (0, 0);
    for i in 0..40 {
        let (v, month, k, quantity) = spread(i);
        let date = format!("2021-{month:02}-{:02}", i % 28 + 1);
        app.distribution(material_ids[k], Some(villages[v]), &date, quantity)
            .await;
        for (map, key) in [
            (&mut by_village, names[v].to_string()),
            (&mut by_month, format!("{month:02}")),
            (&mut by_kind, kinds[k].to_string()),
        ] {
            let entry = map.entry(Some(key)).or_default();
            entry.0 += 1;
            entry.1 += quantity;
        }
        total = (total.0 + 1, total.1 + quantity);
    }
    // Rows on the year's edges stay out of 2021.
    app.distribution(material_ids[0], Some(villages[0]), "2020-12-31", 999)
        .await;
    app.distribution(material_ids[0], Some(villages[0]), "2022-01-01", 999)
        .await;

    let filter = DistributionFilter {
        period: year(2021),
        village: VillageScope::Any,
        material_kind: None,
        material_id: None,
    };
    let totals = store::distributions::totals(&app.db, &filter)
        .await
        .unwrap();
    assert_eq!((totals.rows, totals.quantity), total);
    for (dimension, expected) in [
        (DistributionDimension::Village, &by_village),
        (DistributionDimension::Month, &by_month),
        (DistributionDimension::MaterialKind, &by_kind),
    ] {
        let got = store::distributions::subtotals(&app.db, &filter, dimension)
            .await
            .unwrap();
        assert_eq!(&as_map(&got), expected, "{dimension:?}");
    }
    // One village, one month: the filtered total is the sum of its rows.
    let march_in_village = DistributionFilter {
        period: Period::of(2021, Some(3)).unwrap(),
        village: VillageScope::Village(villages[1]),
        ..filter.clone()
    };
    let expected: i64 = (0..40)
        .map(spread)
        .filter(|(v, m, _, _)| *v == 1 && *m == 3)
        .map(|(.., q)| q)
        .sum();
    let got = store::distributions::totals(&app.db, &march_in_village)
        .await
        .unwrap();
    assert_eq!(got.quantity, expected);
    // The page shows the same total at the bottom.
    app.user("viewer", Role::Viewer, None).await;
    let page = app
        .session("viewer")
        .await
        .get("/distributions?year=2021")
        .await;
    assert!(
        page.body
            .contains(&format!("<th class=\"num\">{}</th>", total.1)),
        "{}",
        page.body
    );
}

async fn activity_totals_agree_with_the_rows(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "activity_totals_agree").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let places = Place::ALL;
    let groups = AudienceGroup::ALL;
    let mut by_place: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    let mut by_group: BTreeMap<Option<String>, (i64, i64)> = BTreeMap::new();
    let mut total = (0, 0);
    for i in 0..30usize {
        let place = places[i % places.len()];
        // One, two or three groups per activity.
        let chosen: Vec<AudienceGroup> = (0..=(i % 3))
            .map(|k| groups[(i + k * 2) % groups.len()])
            .collect();
        let audience = (i as i64 * 13) % 200 + 5;
        let input = ActivityInput {
            held_on: format!("2021-{:02}-15", i % 12 + 1),
            village_id: Some(village),
            topic: format!("活动{i}"),
            form: "stall".into(),
            place: place.code().into(),
            audience_groups: chosen.iter().map(|g| g.code().to_string()).collect(),
            audience_count: audience.to_string(),
            ..ActivityInput::default()
        };
        activities::create_activity(&app.db, &Actor::operator(), &input)
            .await
            .unwrap();
        let e = by_place.entry(Some(place.code().into())).or_default();
        e.0 += 1;
        e.1 += audience;
        let mut distinct = chosen.clone();
        distinct.dedup();
        distinct.sort_by_key(|g| g.code());
        distinct.dedup();
        for g in distinct {
            let e = by_group.entry(Some(g.code().into())).or_default();
            e.0 += 1;
            e.1 += audience;
        }
        total = (total.0 + 1, total.1 + audience);
    }
    let filter = ActivityFilter {
        period: year(2021),
        village: VillageScope::Any,
        form: None,
        place: None,
        group: None,
    };
    let totals = store::activities::totals(&app.db, &filter).await.unwrap();
    assert_eq!((totals.rows, totals.quantity), total);
    let got = store::activities::subtotals(&app.db, &filter, ActivityDimension::Place)
        .await
        .unwrap();
    assert_eq!(as_map(&got), by_place);
    let got = store::activities::subtotals(&app.db, &filter, ActivityDimension::AudienceGroup)
        .await
        .unwrap();
    assert_eq!(as_map(&got), by_group);
    // Filtering by a group gives the same count as that group's subtotal.
    let youth = ActivityFilter {
        group: Some(AudienceGroup::Youth),
        ..filter.clone()
    };
    let youth_totals = store::activities::totals(&app.db, &youth).await.unwrap();
    assert_eq!(
        Some(&(youth_totals.rows, youth_totals.quantity)),
        by_group.get(&Some("youth".to_string()))
    );
}

async fn activity_with_materials_creates_and_deletes_its_distributions(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "activity_with_materials").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let booklet = app.material("民法典手册").await;
    let leaflet = app.material("禁毒折页").await;
    app.user("clerk", Role::Clerk, Some(village)).await;
    let clerk = app.session("clerk").await;
    let v = village.to_string();
    let (b, l) = (booklet.to_string(), leaflet.to_string());
    let reply = clerk
        .post(
            "/activities",
            &[
                ("held_on", "2021年6月26日"),
                ("village_id", &v),
                ("topic", "国际禁毒日宣传"),
                ("form", "stall"),
                ("place", "village"),
                ("audience_groups", "youth"),
                ("audience_groups", "migrant_workers"),
                ("audience_count", "150人次"),
                ("speaker", "王律师"),
                ("venue", "村委会广场"),
                ("notes", ""),
                ("materials[0].material_id", &b),
                ("materials[0].quantity", "120"),
                ("materials[1].material_id", ""),
                ("materials[1].quantity", ""),
                ("materials[2].material_id", &l),
                ("materials[2].quantity", "80份"),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    let location = reply.location.unwrap();
    let id: i64 = location.trim_start_matches("/activities/").parse().unwrap();
    let linked = store::distributions::for_activity(&app.db, id)
        .await
        .unwrap();
    let lines: Vec<(i64, i64, Option<i64>, NaiveDate)> = linked
        .iter()
        .map(|d| (d.material_id, d.quantity, d.village_id, d.distributed_on))
        .collect();
    let day = NaiveDate::from_ymd_opt(2021, 6, 26).unwrap();
    assert_eq!(
        lines,
        vec![
            (booklet, 120, Some(village), day),
            (leaflet, 80, Some(village), day)
        ]
    );
    let page = clerk.get(&location).await;
    assert!(page.body.contains("青少年、外出务工人员"), "{}", page.body);

    // Editing replaces the lines instead of adding to them.
    let reply = clerk
        .post(
            &location,
            &[
                ("held_on", "2021-06-26"),
                ("village_id", &v),
                ("topic", "国际禁毒日宣传"),
                ("form", "stall"),
                ("place", "village"),
                ("audience_groups", "youth"),
                ("audience_count", "150"),
                ("speaker", ""),
                ("venue", ""),
                ("notes", ""),
                ("materials[0].material_id", &b),
                ("materials[0].quantity", "100"),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther, "{}", reply.body);
    let linked = store::distributions::for_activity(&app.db, id)
        .await
        .unwrap();
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0].quantity, 100);

    // Deleting asks first, naming what goes with it; then removes both.
    let confirm = clerk.get(&format!("{location}/delete")).await;
    assert_eq!(confirm.status, Status::Ok);
    assert!(
        confirm.body.contains("民法典手册 100册"),
        "{}",
        confirm.body
    );
    assert!(confirm.body.contains("确定删除"));
    assert_eq!(
        store::distributions::for_activity(&app.db, id)
            .await
            .unwrap()
            .len(),
        1
    );
    let page = clerk.get(&location).await;
    assert!(
        page.body
            .contains(r#"href="/activities?year=2021">返回活动台账"#),
        "the way back opens the activity's year"
    );
    // The list is drawn once per data version for each role and village: a viewer looking
    // first gets no 登记活动, and does not take it from the clerk.
    app.user("viewer", Role::Viewer, None).await;
    let viewer = app.session("viewer").await;
    let list = viewer.get("/activities?year=2021").await;
    assert!(
        list.body.contains("国际禁毒日宣传") && !list.body.contains("登记活动"),
        "{}",
        list.body
    );
    let list = clerk.get("/activities?year=2021").await;
    assert!(
        list.body.contains("国际禁毒日宣传") && list.body.contains("登记活动"),
        "{}",
        list.body
    );
    let reply = clerk.post(&format!("{location}/delete"), &[]).await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(reply.location.as_deref(), Some("/activities?year=2021"));
    // Drawn again after the change: the deleted activity is gone from the list.
    let list = clerk.get("/activities?year=2021").await;
    assert!(!list.body.contains("国际禁毒日宣传"), "{}", list.body);
    assert!(store::activities::get(&app.db, id).await.unwrap().is_none());
    assert!(store::distributions::for_activity(&app.db, id)
        .await
        .unwrap()
        .is_empty());
    let filter = DistributionFilter {
        period: Period::everything(),
        village: VillageScope::Any,
        material_kind: None,
        material_id: None,
    };
    assert_eq!(
        store::distributions::totals(&app.db, &filter)
            .await
            .unwrap()
            .rows,
        0
    );
    // Create, update and delete are all in the audit log, with the lines before deletion.
    let history = audit::for_entity(&app.db, "activity", id).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|h| h.action.as_str()).collect();
    assert_eq!(actions, vec!["delete", "update", "create"]);
    assert!(history[0]
        .before
        .as_deref()
        .unwrap()
        .contains("\"quantity\":100"));
    assert_eq!(history[0].username.as_deref(), Some("clerk"));
}

fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

async fn exported_distributions_open_with_real_dates_and_numbers(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "exported_distributions").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let booklet = app.material("=HYPERLINK(\"http://x\")").await;
    app.distribution(booklet, Some(village), "2021-03-05", 200)
        .await;
    app.distribution(booklet, None, "2021-11-30", 1200).await;
    app.user("viewer", Role::Viewer, None).await;
    let session = app.session("viewer").await;
    let (status, content_type, bytes) = session
        .get_bytes("/distributions/export.xlsx?year=2021")
        .await;
    assert_eq!(status, Status::Ok);
    assert!(content_type.unwrap().contains("spreadsheetml"));
    let mut workbook = Xlsx::new(Cursor::new(bytes)).expect("a valid xlsx");
    let range = workbook
        .worksheet_range("资料发放")
        .expect("sheet 资料发放");
    assert_eq!(cell(&range, 0, 0), Data::String("发放日期".into()));
    // Newest first: 30 Nov, then 5 Mar.
    let first_date = cell(&range, 1, 0);
    assert!(
        matches!(first_date, Data::DateTime(_)),
        "a real date: {first_date:?}"
    );
    assert_eq!(first_date.as_date(), NaiveDate::from_ymd_opt(2021, 11, 30));
    assert_eq!(
        cell(&range, 2, 0).as_date(),
        NaiveDate::from_ymd_opt(2021, 3, 5)
    );
    assert_eq!(cell(&range, 1, 4), Data::Float(1200.0));
    assert_eq!(cell(&range, 2, 4), Data::Float(200.0));
    assert_eq!(cell(&range, 1, 1), Data::String("镇级".into()));
    // A title that looks like a formula stays text.
    assert_eq!(
        cell(&range, 1, 2),
        Data::String("=HYPERLINK(\"http://x\")".into())
    );
    let formulas = workbook.worksheet_formula("资料发放").unwrap();
    assert!(formulas.used_cells().all(|(_, _, f)| f.is_empty()));
    // The totals row equals the rows.
    assert_eq!(cell(&range, 3, 0), Data::String("合计".into()));
    assert_eq!(cell(&range, 3, 4), Data::Float(1400.0));

    let (_, _, activity_bytes) = session.get_bytes("/activities/export.xlsx?year=2021").await;
    let mut activity_book = Xlsx::new(Cursor::new(activity_bytes)).expect("a valid xlsx");
    assert!(activity_book.worksheet_range("普法活动").is_ok());
}

async fn clerk_records_only_for_own_village(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_records_only_for_own_village").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    let other = app.village("石桥村").await;
    let material = app.material("民法典手册").await;
    let theirs = app
        .distribution(material, Some(other), "2021-03-01", 40)
        .await;
    let their_activity = app
        .activity(Some(other), "2021-03-02", "石桥村的活动")
        .await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk = app.session("clerk").await;
    let m = material.to_string();
    let form = |village: &str| {
        vec![
            ("material_id", m.clone()),
            ("distributed_on", "2021-04-01".to_string()),
            ("village_id", village.to_string()),
            ("quantity", "30".to_string()),
            ("recipients", String::new()),
            ("place", String::new()),
            ("handled_by", String::new()),
            ("session_id", String::new()),
            ("activity_id", String::new()),
            ("notes", String::new()),
        ]
    };
    let count = || async {
        let filter = DistributionFilter {
            period: Period::everything(),
            village: VillageScope::Any,
            material_kind: None,
            material_id: None,
        };
        store::distributions::totals(&app.db, &filter)
            .await
            .unwrap()
            .rows
    };
    let fields = |f: &Vec<(&'static str, String)>| -> Vec<(&'static str, String)> { f.clone() };
    for forged in [other.to_string(), String::new()] {
        let f = fields(&form(&forged));
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = clerk.post("/distributions", &pairs).await;
        assert_eq!(reply.status, Status::Forbidden, "village field {forged:?}");
        let reply = clerk
            .post(&format!("/distributions/{theirs}"), &pairs)
            .await;
        assert_eq!(reply.status, Status::NotFound);
    }
    assert_eq!(count().await, 1, "nothing was written");
    // Linking another village's activity is refused too.
    let mut f = form(&own.to_string());
    f[8].1 = their_activity.to_string();
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = clerk.post("/distributions", &pairs).await;
    assert_eq!(reply.status, Status::Ok);
    assert!(reply.body.contains("所选普法活动不存在"));
    assert_eq!(count().await, 1);
    // Their records do not exist for the clerk.
    for path in [
        format!("/distributions/{theirs}/edit"),
        format!("/distributions/{theirs}/delete"),
        format!("/activities/{their_activity}"),
        format!("/activities/{their_activity}/edit"),
        format!("/villages/{other}"),
    ] {
        assert_eq!(clerk.get(&path).await.status, Status::NotFound, "{path}");
    }
    let reply = clerk
        .post(&format!("/activities/{their_activity}/delete"), &[])
        .await;
    assert_eq!(reply.status, Status::NotFound);
    assert!(store::activities::get(&app.db, their_activity)
        .await
        .unwrap()
        .is_some());
    let list = clerk.get("/distributions?year=2021").await;
    assert!(!list.body.contains("石桥村"), "{}", list.body);
    // Their own village works.
    let f = form(&own.to_string());
    let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let reply = clerk.post("/distributions", &pairs).await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(count().await, 2);
    // The catalogue is not clerk work.
    let reply = clerk
        .post(
            "/materials",
            &[
                ("title", "新资料"),
                ("kind", "booklet"),
                ("unit", "份"),
                ("notes", ""),
            ],
        )
        .await;
    assert_eq!(reply.status, Status::Forbidden);
    // And a direct service call with another village is refused the same way.
    let clerk_actor = Actor {
        user_id: None,
        role: Role::Clerk,
        scope: VillageScope::Village(own),
    };
    let input = DistributionInput {
        material_id: m.clone(),
        distributed_on: "2021-04-01".into(),
        village_id: Some(other),
        quantity: "5".into(),
        ..DistributionInput::default()
    };
    assert!(matches!(
        materials::create_distribution(&app.db, &clerk_actor, &input).await,
        Err(pufa::services::ServiceError::Forbidden)
    ));
}

async fn village_page_shows_the_year_and_the_literate_target(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "village_page").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    let material = app.material("民法典手册").await;
    app.distribution(material, Some(village), "2021-02-10", 60)
        .await;
    app.activity(Some(village), "2021-01-20", "一月活动").await;
    app.activity(Some(village), "2021-03-20", "三月活动").await;
    app.activity(Some(village), "2020-05-20", "去年的活动")
        .await;
    for (name, since) in [
        ("甲", "2020-05-01"),
        ("乙", "2021-03-01"),
        ("丙", "2022-01-05"),
    ] {
        let input = pufa::domain::person::PersonInput {
            name: name.into(),
            village_id: Some(village),
            categories: vec![("legal_literate".into(), since.into(), String::new())],
            ..Default::default()
        };
        pufa::services::people::create_person(&app.db, &Actor::operator(), &input)
            .await
            .unwrap();
    }
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let report =
        pufa::services::villages::village_year(&app.db, &Actor::operator(), village, 2021, today)
            .await
            .unwrap();
    assert_eq!(report.legal_literates, 2, "丙 was certified after 2021");
    assert!(!report.meets_literate_target());
    assert_eq!(report.activities.len(), 2);
    assert_eq!(report.quiet_months, vec![2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(
        report
            .materials_received
            .iter()
            .map(|m| m.quantity)
            .sum::<i64>(),
        60
    );
    app.user("organizer", Role::Organizer, None).await;
    let page = app
        .session("organizer")
        .await
        .get(&format!("/villages/{village}?year=2021"))
        .await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("未达标"));
    assert!(page.body.contains("2月、4月、5月"), "{}", page.body);
    let page_2022 = app
        .session("organizer")
        .await
        .get(&format!("/villages/{village}?year=2022"))
        .await;
    assert!(page_2022.body.contains("达标"));
}

async fn absurd_quantities_are_field_errors_and_the_year_still_adds_up(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "absurd_quantities").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    let material = app.material("民法典手册").await;
    app.distribution(material, Some(own), "2021-03-01", 40)
        .await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk = app.session("clerk").await;
    let m = material.to_string();
    let v = own.to_string();
    for _ in 0..2 {
        let reply = clerk
            .post(
                "/distributions",
                &as_pairs(&distribution_form(
                    &m,
                    &v,
                    "2021-04-01",
                    "5000000000000000000",
                )),
            )
            .await;
        assert_eq!(reply.status, Status::Ok, "the form again, not a 500");
        assert!(reply.body.contains("超出合理范围"), "{}", reply.body);
    }
    let filter = DistributionFilter {
        period: Period::everything(),
        village: VillageScope::Any,
        material_kind: None,
        material_id: None,
    };
    let totals = store::distributions::totals(&app.db, &filter)
        .await
        .unwrap();
    assert_eq!((totals.rows, totals.quantity), (1, 40));
    let dashboard = clerk.get("/?year=2021").await;
    assert_eq!(dashboard.status, Status::Ok);
    // The same number in a ledger is a rejected row.
    let admin = pufa::services::Actor::operator();
    let csv = "发放日期,资料名称,数量\n2021-03-05,民法典手册,5000000000000000000\n";
    let preview = pufa::services::imports::preview(
        &app.db,
        &admin,
        &pufa::services::imports::Upload {
            file_name: "发放.csv",
            bytes: csv.as_bytes(),
            kind: None,
            village_id: Some(own),
        },
    )
    .await
    .unwrap();
    assert_eq!(preview.rejected, 1);
    assert!(preview.errors[0].message.contains("超出合理范围"));
}

async fn a_saved_distribution_opens_its_year_and_a_clerk_is_told_whom_to_ask(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "saved_distribution_year").await else {
        return;
    };
    let own = app.village("龙凤村").await;
    let material = app.material("民法典手册").await;
    app.user("clerk", Role::Clerk, Some(own)).await;
    let clerk = app.session("clerk").await;
    let m = material.to_string();
    let v = own.to_string();
    let reply = clerk
        .post(
            "/distributions",
            &as_pairs(&distribution_form(&m, &v, "2021-04-01", "30")),
        )
        .await;
    assert_eq!(reply.status, Status::SeeOther);
    assert_eq!(reply.location.as_deref(), Some("/distributions?year=2021"));
    let list = clerk.get("/distributions?year=2021").await;
    assert!(list.body.contains("库存不足"), "{}", list.body);
    assert!(
        list.body.contains("请联系镇里的组织者补录入库"),
        "a clerk cannot record receipts: {}",
        list.body
    );
    // Another village's shortage is not the clerk's to act on: the warning lists only
    // materials their village handed out.
    let other = app.village("石桥村").await;
    let posters = app.material("宪法挂图").await;
    app.distribution(posters, Some(other), "2021-05-01", 10)
        .await;
    let materials = clerk.get("/materials?year=2021").await;
    let warning = materials
        .body
        .split("<h2>库存不足</h2>")
        .nth(1)
        .and_then(|rest| rest.split("</div>").next())
        .unwrap_or_default()
        .to_string();
    assert!(
        warning.contains("民法典手册") && !warning.contains("宪法挂图"),
        "{}",
        materials.body
    );
    assert!(
        warning.contains("请联系镇里的组织者补录入库记录"),
        "{warning}"
    );
    app.user("organizer", Role::Organizer, None).await;
    let organizer = app.session("organizer").await;
    let township = organizer.get("/materials?year=2021").await.body;
    assert!(
        township.contains("宪法挂图") && township.contains("请补录入库记录"),
        "{township}"
    );
    // Deleting a record goes back to its year's list too.
    let filter = DistributionFilter {
        period: Period::everything(),
        village: VillageScope::Village(own),
        material_kind: None,
        material_id: None,
    };
    let row = store::distributions::list(&app.db, &filter, 1, 0)
        .await
        .unwrap()[0]
        .id;
    let reply = clerk
        .post(&format!("/distributions/{row}/delete"), &[])
        .await;
    assert_eq!(reply.location.as_deref(), Some("/distributions?year=2021"));
}

/// A distribution form's fields: material, village, date and quantity, the rest blank.
fn distribution_form(
    material: &str,
    village: &str,
    date: &str,
    quantity: &str,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("material_id", material.to_string()),
        ("distributed_on", date.to_string()),
        ("village_id", village.to_string()),
        ("quantity", quantity.to_string()),
    ];
    for blank in [
        "recipients",
        "place",
        "handled_by",
        "session_id",
        "activity_id",
        "notes",
    ] {
        fields.push((blank, String::new()));
    }
    fields
}

fn as_pairs<'a>(fields: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}
