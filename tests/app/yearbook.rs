//! The demo township end to end, and the year-end workbook against the summary.

use std::io::Cursor;

use calamine::{Data, DataType, Reader, Xlsx};
use chrono::NaiveDate;
use pufa::domain::person::PersonInput;
use pufa::domain::Role;
use pufa::services::summary::annual_summary;
use pufa::services::{people, Actor};
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp};

on_both_backends!(
    demo_township_has_the_report_figures,
    workbook_totals_equal_the_summary,
    long_lists_read_alike
);

fn demo_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/demo")
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
}

async fn demo_township_has_the_report_figures(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "demo_township").await else {
        return;
    };
    let report = pufa::services::demo::load_demo(&app.db, &demo_dir())
        .await
        .unwrap();
    assert!(
        report.files.len() >= 30,
        "every village's spreadsheets went through the import"
    );
    let s = annual_summary(&app.db, &Actor::operator(), 2021, None, today())
        .await
        .unwrap();
    assert_eq!(s.villages, 10);
    assert_eq!(s.sessions_by_kind["committee"], 3);
    assert_eq!(s.sessions_by_kind["pre_meeting"], 12);
    assert!(s.sessions_by_kind["lecture"] >= 1);
    assert!(
        s.materials_distributed >= 2000,
        "{}",
        s.materials_distributed
    );
    assert_eq!(s.legal_literates_new, 12);
    for group in ["youth", "migrant_workers", "remote_villages", "enterprises"] {
        assert!(s.audience_by_group[group] > 0, "{group} reached");
    }
    // Loading it twice is refused, nothing doubles.
    assert!(pufa::services::demo::load_demo(&app.db, &demo_dir())
        .await
        .is_err());
    let again = annual_summary(&app.db, &Actor::operator(), 2021, None, today())
        .await
        .unwrap();
    assert_eq!(again.materials_distributed, s.materials_distributed);
}

fn cell(range: &calamine::Range<Data>, row: u32, col: u32) -> Data {
    range.get_value((row, col)).cloned().unwrap_or(Data::Empty)
}

/// The last row's value in a column (the totals row).
fn total(range: &calamine::Range<Data>, col: u32) -> f64 {
    let last = range.height() as u32 - 1;
    cell(range, last, col).as_f64().unwrap_or(f64::NAN)
}

async fn workbook_totals_equal_the_summary(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "workbook_totals").await else {
        return;
    };
    pufa::services::demo::load_demo(&app.db, &demo_dir())
        .await
        .unwrap();
    let village = pufa::store::villages::find_by_name(&app.db, "龙凤村")
        .await
        .unwrap()
        .unwrap()
        .id;
    let id = format!(
        "51192119800101123{}",
        pufa::domain::id_number::check_char("51192119800101123")
    );
    let input = PersonInput {
        name: "=HYPERLINK(\"x\")".into(),
        village_id: Some(village),
        id_number: id.clone(),
        categories: vec![("legal_literate".into(), "2021-05-01".into(), String::new())],
        ..PersonInput::default()
    };
    people::create_person(&app.db, &Actor::operator(), &input)
        .await
        .unwrap();
    let s = annual_summary(&app.db, &Actor::operator(), 2021, None, today())
        .await
        .unwrap();
    app.user("viewer", Role::Viewer, None).await;
    let viewer = app.session("viewer").await;
    let (status, _, bytes) = viewer.get_bytes("/export?year=2021").await;
    assert_eq!(status, Status::Ok);
    let mut book = Xlsx::new(Cursor::new(bytes)).expect("a valid workbook");
    let names = book.sheet_names().to_vec();
    assert_eq!(
        names,
        [
            "总览",
            "各村汇总",
            "学法活动",
            "人员学时",
            "自学",
            "法律明白人",
            "资料发放",
            "普法活动",
            "覆盖情况"
        ]
    );

    let villages = book.worksheet_range("各村汇总").unwrap();
    assert_eq!(
        villages.height(),
        13,
        "header, ten villages, township level, totals"
    );
    assert_eq!(cell(&villages, 12, 0), Data::String("合计".into()));
    assert_eq!(total(&villages, 1), s.sessions_held as f64);
    assert_eq!(total(&villages, 2), s.activities_held as f64);
    assert_eq!(total(&villages, 3), s.activity_audience_total as f64);
    assert_eq!(total(&villages, 4), s.materials_distributed as f64);
    assert_eq!(total(&villages, 5), s.legal_literates_on_roster as f64);
    assert_eq!(total(&villages, 6), s.legal_literates_new as f64);
    assert_eq!(total(&villages, 7), s.attendance_person_times as f64);
    assert_eq!(total(&villages, 8), s.study_hours_total);
    assert_eq!(total(&villages, 9), s.self_study_hours);
    let formulas = book.worksheet_formula("各村汇总").unwrap();
    assert!(
        formulas
            .get_value((12, 4))
            .is_some_and(|f| f.contains("SUM(E2:E12)")),
        "totals row is a formula"
    );

    let materials = book.worksheet_range("资料发放").unwrap();
    assert_eq!(total(&materials, 4), s.materials_distributed as f64);
    assert!(
        matches!(cell(&materials, 1, 0), Data::DateTime(_)),
        "dates are dates"
    );
    let activities = book.worksheet_range("普法活动").unwrap();
    assert_eq!(total(&activities, 6), s.activity_audience_total as f64);
    let sessions = book.worksheet_range("学法活动").unwrap();
    assert_eq!(
        total(&sessions, 9),
        s.attendance_person_times as f64,
        "person-times of held sessions"
    );
    let hours = book.worksheet_range("人员学时").unwrap();
    assert_eq!(total(&hours, 4), s.study_hours_total);

    let literates = book.worksheet_range("法律明白人").unwrap();
    let rows: Vec<(String, String)> = literates
        .rows()
        .skip(1)
        .map(|r| (r[0].to_string(), r[4].to_string()))
        .collect();
    let formula_person = rows
        .iter()
        .find(|(n, _)| n == "=HYPERLINK(\"x\")")
        .expect("the name comes back as text");
    assert_eq!(formula_person.1, pufa::domain::id_number::mask(&id));
    assert!(!formula_person.1.contains("19800101"), "IDs are masked");
    let literate_formulas = book.worksheet_formula("法律明白人").unwrap();
    assert!(
        literate_formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no formula was injected"
    );
    let overview = book.worksheet_range("总览").unwrap();
    let texts: Vec<String> = overview
        .rows()
        .flat_map(|r| r.iter().map(|c| c.to_string()))
        .collect();
    assert!(texts
        .iter()
        .any(|t| t.contains(&format!("发放普法宣传资料{}份", s.materials_distributed))));
}

/// The workbooks' long lists (on SQLite read on a connection of their own, `store::bulk`)
/// hold the same rows, in the same order, as the paged lists the pages show.
async fn long_lists_read_alike(backend: Backend) {
    use pufa::domain::dates::Period;
    use pufa::domain::VillageScope;
    use pufa::store::activities::{self, ActivityFilter};
    use pufa::store::distributions::{self, DistributionFilter};

    let Some(app) = TestApp::spawn(backend, "long_lists").await else {
        return;
    };
    pufa::services::demo::load_demo(&app.db, &demo_dir())
        .await
        .unwrap();
    let village = pufa::store::villages::list(&app.db).await.unwrap()[0].id;
    let period = Period::of(2021, None).unwrap();
    for scope in [
        VillageScope::Any,
        VillageScope::Township,
        VillageScope::of(Some(village)),
    ] {
        let filter = DistributionFilter {
            period,
            village: scope,
            material_kind: None,
            material_id: None,
        };
        let all = distributions::list_all(&app.db, &filter).await.unwrap();
        let paged = distributions::list(&app.db, &filter, i64::MAX, 0)
            .await
            .unwrap();
        assert_eq!(format!("{all:?}"), format!("{paged:?}"), "{scope:?}");
        let filter = ActivityFilter {
            period,
            village: scope,
            form: None,
            place: None,
            group: None,
        };
        let all = activities::list_all(&app.db, &filter).await.unwrap();
        let paged = activities::list(&app.db, &filter, i64::MAX, 0)
            .await
            .unwrap();
        assert_eq!(format!("{all:?}"), format!("{paged:?}"), "{scope:?}");
        if scope == VillageScope::Any {
            assert!(!all.is_empty(), "the demo township has activities");
            assert!(all.iter().any(|a| a.group_codes.is_some()));
        }
    }
}
