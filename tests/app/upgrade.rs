//! A database made by the first release (schema 0001, `tests/fixtures/schema_v1_township.sql`)
//! is brought up to date by this program: its figures are intact and every page opens.

use chrono::NaiveDate;
use pufa::domain::Role;
use pufa::services::summary::compute_summary;
use pufa::store::transfer;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp};

on_both_backends!(a_first_release_database_is_upgraded_and_every_page_opens);

const FIXTURE: &str = include_str!("../fixtures/schema_v1_township.sql");

async fn a_first_release_database_is_upgraded_and_every_page_opens(backend: Backend) {
    let Some(app) = TestApp::spawn_from_first_schema(backend, "upgrade_v1", FIXTURE).await else {
        return;
    };
    assert_eq!(
        transfer::schema_version(&app.db).await.expect("version"),
        transfer::known_schema_version(&app.db)
    );
    // What `pufa` does when it opens a database: tokens kept in full become hashes.
    assert_eq!(
        pufa::services::sessions::hash_stored_feed_tokens(&app.db)
            .await
            .expect("feed tokens"),
        1
    );
    assert_eq!(
        pufa::services::attendance::hash_stored_checkin_tokens(&app.db)
            .await
            .expect("check-in tokens"),
        1
    );

    let today = NaiveDate::from_ymd_opt(2026, 12, 6).expect("date");
    let summary = compute_summary(&app.db, 2021, None, today)
        .await
        .expect("summary");
    assert_eq!(summary.sessions_held, 1);
    assert_eq!(summary.attendance_person_times, 2);
    assert_eq!(summary.study_hours_total, 2.5);
    assert_eq!(summary.materials_distributed, 80);
    assert_eq!(summary.activities_held, 1);
    assert_eq!(summary.activity_audience_total, 120);
    assert_eq!(summary.legal_literates_on_roster, 1);

    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    for page in [
        "/",
        "/?year=2021",
        "/people",
        "/people/1",
        "/people/2/edit",
        "/sessions?year=2021&month=3",
        "/sessions/1",
        "/sessions/1/invite",
        "/sessions/requirements?year=2021",
        "/materials",
        "/materials/1",
        "/distributions?year=2021",
        "/activities?year=2021",
        "/activities/1",
        "/self-study?year=2021",
        "/villages",
        "/villages/2?year=2021",
        "/users",
        "/users/1",
        "/imports",
        "/settings/requirements",
        "/audit",
        "/account",
    ] {
        let reply = admin.get(page).await;
        assert_eq!(reply.status, Status::Ok, "{page}: {}", reply.body);
    }
    let dashboard = admin.get("/?year=2021").await;
    assert!(dashboard.body.contains("龙凤村") && dashboard.body.contains("石桥社区"));
    let (status, _, workbook) = admin.get_bytes("/export?year=2021").await;
    assert_eq!(status, Status::Ok);
    assert!(workbook.starts_with(b"PK"));
    // The QR code printed by the first release still opens its check-in page.
    let phone = app.anonymous().await;
    let old_link = phone
        .get("/checkin/old-checkin-token-kept-in-full-0000001")
        .await;
    assert_eq!(old_link.status, Status::Ok);
    // New records continue after the old ones.
    app.person("升级后登记的人", Some(1)).await;
}
