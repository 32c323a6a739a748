//! The county the benchmarks measure: 300 villages, 60,000 people, 5,000 sessions,
//! 1,000,000 attendance rows, 50,000 distributions and 20,000 activities in 2021, loaded
//! with multi-row INSERTs (shared by `county` and `pages`).

use chrono::{NaiveDate, NaiveTime};
use pufa::store::Db;

const VILLAGES: i64 = 300;
const PEOPLE: i64 = 60_000;
const SESSIONS: i64 = 5_000;
const ATTENDANCE: i64 = 1_000_000;
const DISTRIBUTIONS: i64 = 50_000;
const ACTIVITIES: i64 = 20_000;
const CHUNK: i64 = 1_000;

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2021, 1, 1).unwrap() + chrono::Duration::days(n % 365)
}

/// Runs `sql` (a prefix “INSERT … VALUES”) for `total` rows, `columns` values each,
/// built by `row(i)` as SQL literals (numbers and quoted ASCII only).
async fn bulk(db: &Db, prefix: &str, total: i64, row: impl Fn(i64) -> String) {
    let mut i = 0;
    while i < total {
        let end = (i + CHUNK).min(total);
        let values: Vec<String> = (i..end).map(&row).collect();
        let sql = format!("{prefix} VALUES {}", values.join(","));
        match db {
            Db::Sqlite(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
            Db::Postgres(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
        }
        .expect("bulk insert");
        i = end;
    }
}

/// Fills an empty, migrated database with the county.
pub async fn fill(db: &Db) {
    let now = "'2021-01-01 00:00:00'";
    bulk(
        db,
        "INSERT INTO villages (name, kind, display_order, created_at)",
        VILLAGES,
        |v| format!("('village-{v}', 'village', {v}, {now})"),
    )
    .await;
    bulk(
        db,
        "INSERT INTO people (name, village_id, post, active, notes, created_at, updated_at)",
        PEOPLE,
        |p| {
            format!(
                "('person-{p}', {}, '', TRUE, '', {now}, {now})",
                p % VILLAGES + 1
            )
        },
    )
    .await;
    bulk(
        db,
        "INSERT INTO person_categories (person_id, category, since)",
        PEOPLE / 10,
        |p| format!("({}, 'legal_literate', '{}')", p * 10 + 1, day(p)),
    )
    .await;
    bulk(
        db,
        "INSERT INTO sessions (kind, topic, starts_at, ends_at, village_id, hours_credited, status, notes, checkin_token, created_at, updated_at)",
        SESSIONS,
        |s| {
            let start = day(s).and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap());
            let end = start + chrono::Duration::hours(1);
            let kind = ["pre_meeting", "committee", "lecture", "training", "collective"][(s % 5) as usize];
            format!(
                "('{kind}', 'topic-{s}', '{}', '{}', {}, 1.0, 'held', '', 'token-{s}', {now}, {now})",
                start.format("%Y-%m-%d %H:%M:%S"),
                end.format("%Y-%m-%d %H:%M:%S"),
                s % VILLAGES + 1
            )
        },
    )
    .await;
    // 200 attendance rows per session, each session's people distinct.
    bulk(db, "INSERT INTO attendance (session_id, person_id, status, hours_credited, source, updated_at)", ATTENDANCE, |a| {
        let session = a / 200 + 1;
        let person = (session * 37 + (a % 200) * 300) % PEOPLE + 1;
        let status = ["present", "present", "present", "late", "excused", "absent"][(a % 6) as usize];
        format!("({session}, {person}, '{status}', 1.0, 'manual', {now})")
    })
    .await;
    bulk(
        db,
        "INSERT INTO materials (title, kind, unit, notes, created_at)",
        20,
        |m| format!("('material-{m}', 'booklet', '份', '', {now})"),
    )
    .await;
    bulk(
        db,
        "INSERT INTO distributions (material_id, distributed_on, village_id, quantity, recipients, place, handled_by, notes, created_at, updated_at)",
        DISTRIBUTIONS,
        |d| format!("({}, '{}', {}, {}, '', '', '', '', {now}, {now})", d % 20 + 1, day(d), d % VILLAGES + 1, d % 90 + 10),
    )
    .await;
    bulk(
        db,
        "INSERT INTO activities (held_on, village_id, topic, form, place, audience_count, speaker, venue, notes, created_at, updated_at)",
        ACTIVITIES,
        |a| {
            let place = ["organ", "village", "community", "school", "enterprise", "institution", "temple"][(a % 7) as usize];
            format!("('{}', {}, 'activity-{a}', 'lecture', '{place}', {}, '', '', '', {now}, {now})", day(a * 3), a % VILLAGES + 1, a % 200 + 20)
        },
    )
    .await;
    bulk(
        db,
        "INSERT INTO activity_audience_groups (activity_id, audience_group)",
        ACTIVITIES,
        |a| {
            let group = [
                "youth",
                "migrant_workers",
                "remote_villages",
                "enterprises",
                "villagers",
                "cadres",
            ][(a % 6) as usize];
            format!("({}, '{group}')", a + 1)
        },
    )
    .await;
    // Statistics after a bulk load, as autovacuum / a nightly ANALYZE would leave them.
    match db {
        Db::Sqlite(pool) => sqlx::query("ANALYZE").execute(pool).await.map(|_| ()),
        Db::Postgres(pool) => sqlx::query("ANALYZE").execute(pool).await.map(|_| ()),
    }
    .expect("analyze");
    // The bulk load's write-ahead log folded into the database, as SQLite's automatic
    // checkpoints leave it on a server: a reader does not look pages up in 100 MB of log.
    if let Db::Sqlite(pool) = db {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .expect("checkpoint");
    }
}
