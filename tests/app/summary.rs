//! The annual summary against hand-counted fixtures, on both databases: a village filter
//! and the year boundary (31 Dec / 1 Jan).

use chrono::NaiveDate;
use pufa::domain::person::PersonInput;
use pufa::domain::session::{AttendanceSource, AttendanceStatus, SessionStatus};
use pufa::domain::Role;
use pufa::services::summary::{annual_summary, report_paragraph};
use pufa::services::{people, Actor};
use pufa::store::attendance::{save_marks, Mark};
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp};

on_both_backends!(
    summary_matches_hand_counted_figures,
    clerk_dashboard_shows_only_their_village,
    an_empty_township_shows_where_to_start,
);

async fn an_empty_township_shows_where_to_start(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "empty_dashboard").await else {
        return;
    };
    app.user("admin", Role::Admin, None).await;
    app.user("viewer", Role::Viewer, None).await;
    // The page is drawn once per data version for each role: a viewer looking first does
    // not take the administrator's links away, nor get them.
    let viewer = app.session("viewer").await;
    let page = viewer.get("/").await;
    assert!(
        page.body.contains("从这里开始") && !page.body.contains("维护村(社区)名单"),
        "{}",
        page.body
    );
    let admin = app.session("admin").await;
    let page = admin.get("/").await;
    assert!(page.body.contains("维护村(社区)名单"), "{}", page.body);
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.body.contains("从这里开始") && page.body.contains("/imports"),
        "{}",
        page.body
    );
    // No attendance taken: no rate to show, not "0%" (in the figure or the paragraph).
    assert!(
        page.body.contains("出勤率 —")
            && !page.body.contains("出勤率 0%")
            && !page.body.contains("出勤率0%"),
        "{}",
        page.body
    );
    app.village("龙凤村").await;
    assert!(!admin.get("/").await.body.contains("从这里开始"));
}

async fn literate(app: &TestApp, name: &str, village: i64, since: &str) -> i64 {
    let input = PersonInput {
        name: name.into(),
        village_id: Some(village),
        categories: vec![("legal_literate".into(), since.into(), String::new())],
        ..PersonInput::default()
    };
    people::create_person(&app.db, &Actor::operator(), &input)
        .await
        .unwrap()
}

async fn mark(app: &TestApp, session: i64, marks: &[(i64, AttendanceStatus, f64)]) {
    let marks: Vec<Mark> = marks
        .iter()
        .map(|(p, s, h)| Mark {
            person_id: *p,
            status: *s,
            hours_credited: *h,
        })
        .collect();
    save_marks(&app.db, session, &marks, AttendanceSource::Manual, None)
        .await
        .unwrap();
}

async fn activity(
    app: &TestApp,
    village: Option<i64>,
    date: &str,
    place: &str,
    groups: &[&str],
    audience: i64,
) {
    let input = pufa::domain::activity::ActivityInput {
        held_on: date.into(),
        village_id: village,
        topic: format!("活动{date}"),
        form: "stall".into(),
        place: place.into(),
        audience_groups: groups.iter().map(|g| g.to_string()).collect(),
        audience_count: audience.to_string(),
        ..Default::default()
    };
    pufa::services::activities::create_activity(&app.db, &Actor::operator(), &input)
        .await
        .unwrap();
}

/// Two villages and a township, with rows on both sides of the 2021 boundaries.
async fn fixture(app: &TestApp) -> (i64, i64) {
    let a = app.village("龙凤村").await;
    let b = app.village("石桥村").await;
    let p1 = literate(app, "甲", a, "2021-01-01").await;
    let p2 = literate(app, "乙", a, "2021-06-30").await;
    literate(app, "丙", a, "2021-12-31").await;
    let p3 = literate(app, "丁", b, "2020-05-01").await;
    literate(app, "戊", b, "2022-01-01").await;
    let committee = app
        .study_session(Some(a), "2021-03-01", "09:00", "党委会")
        .await;
    let mut draft = pufa::store::sessions::get(&app.db, committee)
        .await
        .unwrap()
        .unwrap()
        .draft();
    draft.kind = pufa::domain::session::SessionKind::Committee;
    let before = pufa::store::sessions::get(&app.db, committee)
        .await
        .unwrap()
        .unwrap();
    pufa::store::sessions::update_many(&app.db, &[(before, draft)], None)
        .await
        .unwrap();
    mark(
        app,
        committee,
        &[
            (p1, AttendanceStatus::Present, 1.0),
            (p2, AttendanceStatus::Late, 0.5),
            (p3, AttendanceStatus::Absent, 0.0),
        ],
    )
    .await;
    let new_year_eve = app
        .study_session(None, "2021-12-31", "22:30", "跨年法治讲座")
        .await;
    mark(app, new_year_eve, &[(p1, AttendanceStatus::Present, 1.0)]).await;
    let next_year = app
        .study_session(None, "2022-01-01", "00:00", "新年学法")
        .await;
    mark(app, next_year, &[(p2, AttendanceStatus::Present, 1.0)]).await;
    app.study_session(Some(b), "2021-05-01", "09:00", "计划中")
        .await;
    let cancelled = app
        .study_session(Some(b), "2021-05-02", "09:00", "已取消")
        .await;
    let s = pufa::store::sessions::get(&app.db, cancelled)
        .await
        .unwrap()
        .unwrap();
    pufa::store::sessions::set_status(&app.db, &[s], SessionStatus::Cancelled, None)
        .await
        .unwrap();
    let material = app.material("民法典手册").await;
    app.distribution(material, Some(a), "2021-12-31", 100).await;
    app.distribution(material, Some(b), "2021-01-01", 50).await;
    app.distribution(material, Some(a), "2020-12-31", 999).await;
    app.distribution(material, None, "2021-06-01", 10).await;
    activity(app, Some(a), "2021-02-01", "school", &["youth"], 40).await;
    activity(
        app,
        Some(b),
        "2021-05-01",
        "village",
        &["youth", "villagers"],
        60,
    )
    .await;
    activity(app, Some(b), "2022-01-01", "village", &["cadres"], 500).await;
    (a, b)
}

fn map(pairs: &[(&str, i64)]) -> std::collections::BTreeMap<String, i64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

async fn summary_matches_hand_counted_figures(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "summary_hand_counted").await else {
        return;
    };
    let (a, _) = fixture(&app).await;
    let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
    let s = annual_summary(&app.db, &Actor::operator(), 2021, None, today)
        .await
        .unwrap();
    assert_eq!(s.villages, 2);
    assert_eq!(
        (s.sessions_held, s.sessions_planned, s.sessions_cancelled),
        (2, 1, 1)
    );
    assert_eq!(s.sessions_by_kind["committee"], 1);
    assert_eq!(
        s.sessions_by_kind["pre_meeting"], 1,
        "the 31 Dec session; 1 Jan is next year"
    );
    assert_eq!(s.attendance_person_times, 3);
    assert_eq!(s.attendance_rate, 75.0);
    assert_eq!(s.study_hours_total, 2.5);
    assert_eq!((s.legal_literates_on_roster, s.legal_literates_new), (4, 3));
    assert_eq!(s.villages_below_literate_target, vec!["石桥村".to_string()]);
    assert_eq!(s.materials_distributed, 160);
    assert_eq!(
        s.materials_by_village,
        map(&[("龙凤村", 100), ("石桥村", 50), ("镇级", 10)])
    );
    assert_eq!(
        (
            s.materials_by_month["12"],
            s.materials_by_month["01"],
            s.materials_by_month["06"],
            s.materials_by_month["03"]
        ),
        (100, 50, 10, 0)
    );
    assert_eq!((s.activities_held, s.activity_audience_total), (2, 100));
    assert_eq!(
        (
            s.activities_by_place["school"],
            s.activities_by_place["village"],
            s.activities_by_place["temple"]
        ),
        (1, 1, 0)
    );
    assert_eq!(
        (
            s.audience_by_group["youth"],
            s.audience_by_group["villagers"],
            s.audience_by_group["cadres"]
        ),
        (100, 60, 0)
    );
    let quarters = &s.villages_without_activity_by_quarter;
    assert_eq!(quarters["Q1"], vec!["石桥村".to_string()]);
    assert_eq!(quarters["Q2"], vec!["龙凤村".to_string()]);
    assert_eq!(
        quarters["Q4"],
        vec!["龙凤村".to_string(), "石桥村".to_string()]
    );
    let paragraph = report_paragraph(&s);
    assert!(
        paragraph.starts_with("2021年，全镇共开展学法活动2场次"),
        "{paragraph}"
    );
    assert!(
        paragraph.contains("发放普法宣传资料160份") && paragraph.contains("新培养法律明白人3人"),
        "{paragraph}"
    );

    // One village: its sessions, its people's attendance (township sessions included).
    let v = annual_summary(&app.db, &Actor::operator(), 2021, Some(a), today)
        .await
        .unwrap();
    assert_eq!(
        (
            v.villages,
            v.sessions_held,
            v.attendance_person_times,
            v.attendance_rate
        ),
        (1, 1, 3, 100.0)
    );
    // The monthly chart counts the same person-times: the township session of 31 December
    // is in December for the village's attendee.
    assert_eq!(
        v.attendance_by_month.values().sum::<i64>(),
        v.attendance_person_times
    );
    assert_eq!(
        (v.attendance_by_month["03"], v.attendance_by_month["12"]),
        (2, 1)
    );
    assert_eq!(
        (
            v.materials_distributed,
            v.activities_held,
            v.legal_literates_on_roster
        ),
        (100, 1, 3)
    );
    assert!(v.villages_below_literate_target.is_empty());
    // The village's paragraph speaks of the village, and leaves out kinds that did not happen.
    let village_paragraph = report_paragraph(&v);
    assert!(
        !village_paragraph.contains("各村(社区)")
            && village_paragraph.contains("达到每村不少于3名"),
        "{village_paragraph}"
    );
    for zero in [
        ("committee", "党委会专题学法0次"),
        ("pre_meeting", "会前学法0次"),
        ("lecture", "法治讲座0场"),
    ] {
        if v.sessions_by_kind.get(zero.0).copied().unwrap_or(0) == 0 {
            assert!(!village_paragraph.contains(zero.1), "{village_paragraph}");
        }
    }
    assert!(
        v.sessions_by_kind.values().any(|n| *n == 0) || v.sessions_by_kind.len() < 3,
        "the fixture has a kind that did not happen: {:?}",
        v.sessions_by_kind
    );
}

async fn clerk_dashboard_shows_only_their_village(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "clerk_dashboard").await else {
        return;
    };
    let (a, b) = fixture(&app).await;
    app.user("clerk", Role::Clerk, Some(a)).await;
    let clerk = app.session("clerk").await;
    let page = clerk.get("/?year=2021").await;
    assert_eq!(page.status, Status::Ok);
    assert!(
        page.body.contains("龙凤村") && !page.body.contains("石桥村"),
        "{}",
        page.body
    );
    assert!(page.body.contains("发放普法宣传资料100份"), "{}", page.body);
    // Even asking for the other village gives their own.
    let forged = clerk.get(&format!("/?year=2021&village={b}")).await;
    assert!(!forged.body.contains("石桥村"));
    app.user("viewer", Role::Viewer, None).await;
    let viewer = app.session("viewer").await;
    let page = viewer.get("/?year=2021").await;
    assert!(page.body.contains("石桥村") && page.body.contains("发放普法宣传资料160份"));
    assert!(page.body.contains("<svg"), "charts are inline SVG");
    // The coverage grid's legend shows the cells as they are drawn: "·" on the gap colour.
    assert!(
        page.body
            .contains(r#"<span class="swatch gap">·</span>当月没有活动"#)
            && page.body.contains(r#"<td class="gap">·</td>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("空格为没有活动"));
    // The village view says what its person-times count.
    let village_page = viewer.get(&format!("/?year=2021&village={a}")).await;
    assert!(village_page.body.contains("参学人次（含参加镇级活动）"));
}
