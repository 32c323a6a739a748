//! Backups taken while the township works, restoring them, moving to PostgreSQL, and the
//! server's housekeeping.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, Utc};
use pufa::domain::material::DistributionInput;
use pufa::domain::Role;
use pufa::services::backup;
use pufa::services::materials;
use pufa::services::summary::compute_summary;
use pufa::services::{Actor, Db, ServiceError};
use pufa::store::transfer;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp};

on_both_backends!(
    a_backup_taken_while_writing_restores_that_moment,
    every_table_is_in_the_copy,
    a_bad_backup_or_a_running_server_changes_nothing,
    housekeeping_forgets_what_is_no_longer_needed,
    the_admin_downloads_a_backup_that_restores,
);

const YEAR: i32 = 2021;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 6).unwrap_or_default()
}

async fn figures(db: &Db) -> serde_json::Value {
    let summary = compute_summary(db, YEAR, None, today())
        .await
        .expect("summary");
    serde_json::to_value(summary).expect("summary as JSON")
}

async fn distribution_ids(db: &Db) -> BTreeSet<i64> {
    let rows: Vec<i64> = crate::helpers::with_pool!(db, |pool| {
        sqlx::query_scalar("SELECT id FROM distributions")
            .fetch_all(pool)
            .await
            .expect("ids")
    });
    rows.into_iter().collect()
}

/// A small township: two villages, people, a session with marks, a material handed out.
async fn small_township(app: &TestApp) -> i64 {
    let village = app.village("龙凤村").await;
    let other = app.village("石桥村").await;
    app.person("张三", Some(village)).await;
    app.person("李四", Some(other)).await;
    app.study_session(Some(village), "2021-03-01", "09:00", "会前学法")
        .await;
    let material = app.material("宪法读本").await;
    app.receipt_on(material, "2021-01-05", 10_000).await;
    app.distribution(material, Some(village), "2021-03-02", 40)
        .await;
    material
}

async fn a_backup_taken_while_writing_restores_that_moment(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "backup_while_writing").await else {
        return;
    };
    pufa::services::demo::load_embedded_demo(&app.db)
        .await
        .expect("demo township");
    let material = app.material("备份期间发放的资料").await;
    app.receipt_on(material, "2021-01-05", 1_000_000).await;
    // A clerk keeps handing out material while the backup runs.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (db, stop) = (app.db.clone(), stop.clone());
        tokio::spawn(async move {
            let mut written = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) || written < 5 {
                let input = DistributionInput {
                    material_id: material.to_string(),
                    distributed_on: "2021-06-01".into(),
                    quantity: "3".into(),
                    ..DistributionInput::default()
                };
                materials::create_distribution(&db, &Actor::operator(), &input)
                    .await
                    .expect("a handout saved during the backup");
                written += 1;
            }
            written
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("backup.db");
    let size = backup::write_backup(&app.db, &file)
        .await
        .expect("backup while writing");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let written = writer.await.expect("writer");
    assert!(size > 0 && written >= 5);

    // Restored into a fresh SQLite database (and, on PostgreSQL, a fresh one there too).
    let restored_url = format!("sqlite://{}", dir.path().join("restored.db").display());
    backup::restore(&restored_url, &file)
        .await
        .expect("restore into SQLite");
    let restored = Db::connect(&restored_url).await.expect("restored database");
    let mut targets = vec![restored];
    let second = match backend {
        Backend::Postgres => TestApp::spawn(Backend::Postgres, "restore_target").await,
        Backend::Sqlite => None,
    };
    if let Some(second) = &second {
        second.person("将被替换的人", None).await;
        backup::restore(&second.url, &file)
            .await
            .expect("restore into PostgreSQL");
        targets.push(second.db.clone());
    }

    // The moment of the backup: the handouts written after it are taken away again; then
    // the source's figures must be the restored ones, to the last copy.
    let in_backup = distribution_ids(&targets[0]).await;
    let later: Vec<i64> = distribution_ids(&app.db)
        .await
        .difference(&in_backup)
        .copied()
        .collect();
    assert!(
        in_backup.len() > 40,
        "the demo's handouts and the first new ones are in the backup"
    );
    for id in later {
        materials::delete_distribution(&app.db, &Actor::operator(), id)
            .await
            .expect("delete a later handout");
    }
    let expected = figures(&app.db).await;
    for target in &targets {
        assert_eq!(figures(target).await, expected);
        assert_eq!(
            transfer::row_counts(target).await.expect("counts")["people"],
            transfer::row_counts(&app.db).await.expect("counts")["people"],
            "the person added to the restore target before is gone"
        );
    }
    // The restored database takes new records after the copied ids.
    let restored = &targets[targets.len() - 1];
    let new_id = materials::create_distribution(
        restored,
        &Actor::operator(),
        &DistributionInput {
            material_id: material.to_string(),
            distributed_on: "2021-07-01".into(),
            quantity: "1".into(),
            ..DistributionInput::default()
        },
    )
    .await
    .expect("a new handout after the restore");
    assert!(new_id > *in_backup.iter().max().unwrap_or(&0));
    for target in targets {
        target.close().await;
    }
}

async fn every_table_is_in_the_copy(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "every_table_copied").await else {
        return;
    };
    let tables: BTreeSet<String> = transfer::table_names(&app.db)
        .await
        .expect("tables")
        .into_iter()
        .filter(|t| !transfer::NOT_COPIED.contains(&t.as_str()))
        .collect();
    let copied: BTreeSet<String> = transfer::TABLES.iter().map(|t| t.to_string()).collect();
    assert_eq!(
        tables, copied,
        "a table of the schema is missing from transfer::TABLES (or NOT_COPIED)"
    );
}

async fn a_bad_backup_or_a_running_server_changes_nothing(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "restore_refusals").await else {
        return;
    };
    small_township(&app).await;
    let before = figures(&app.db).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = |outcome: Result<backup::Restored, ServiceError>, words: &str| match outcome {
        Err(ServiceError::Refused(message)) => {
            assert!(message.contains(words), "{message}")
        }
        other => panic!("expected a refusal saying {words}: {other:?}"),
    };

    let text = dir.path().join("notes.db");
    std::fs::write(&text, "这不是数据库").expect("write");
    refused(
        backup::restore(&app.url, &text).await,
        "不是 pufa 的备份文件",
    );

    let good = dir.path().join("good.db");
    backup::write_backup(&app.db, &good).await.expect("backup");
    let bytes = std::fs::read(&good).expect("read backup");
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).expect("write");
    refused(backup::restore(&app.url, &cut).await, "损坏");

    // A backup from a newer pufa (a schema version this program does not know).
    let newer = dir.path().join("newer.db");
    std::fs::copy(&good, &newer).expect("copy");
    let newer_db = Db::connect(&format!("sqlite://{}", newer.display()))
        .await
        .expect("open copy");
    if let Db::Sqlite(pool) = &newer_db {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES (99990101000000, 'from the future', TRUE, x'00', 0)",
        )
        .execute(pool)
        .await
        .expect("a future migration");
    }
    // Still open, so the new row sits in the write-ahead log beside the file, as in a
    // copy taken from a running pufa: the log is part of what is restored and checked.
    refused(backup::restore(&app.url, &newer).await, "更新版本");
    newer_db.close().await;

    // While a server uses the database.
    let serving = match &app.db {
        Db::Sqlite(_) => {
            let lock = backup::hold_server_lock(&app.url).expect("server lock");
            refused(backup::restore(&app.url, &good).await, "正在使用");
            drop(lock);
            None
        }
        Db::Postgres(_) => {
            use std::str::FromStr;
            let options = sqlx::postgres::PgConnectOptions::from_str(&app.url)
                .expect("url")
                .application_name(pufa::store::SERVER_APPLICATION_NAME);
            let server = sqlx::PgPool::connect_with(options)
                .await
                .expect("a server's connection");
            refused(backup::restore(&app.url, &good).await, "正在使用");
            Some(server)
        }
    };
    if let Some(server) = serving {
        server.close().await;
    }
    app.person("备份之后登记的人", None).await;
    let with_new_person = transfer::row_counts(&app.db).await.expect("counts")["people"];
    assert_eq!(
        figures(&app.db).await,
        before,
        "nothing was changed by the refusals"
    );

    // The good one restores once the server is gone (the person added since is not in it).
    backup::restore(&app.url, &good).await.expect("restore");
    let reopened = Db::connect(&app.url).await.expect("reopen");
    assert_eq!(
        transfer::row_counts(&reopened).await.expect("counts")["people"],
        with_new_person - 1
    );
    assert_eq!(figures(&reopened).await, before);
    reopened.close().await;
}

async fn housekeeping_forgets_what_is_no_longer_needed(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "housekeeping").await else {
        return;
    };
    let user = app.user("clerk", Role::Organizer, None).await;
    let now = Utc::now();
    let old_upload = pufa::store::imports::save_pending(&app.db, user, "旧.xlsx", None, None, b"x")
        .await
        .expect("pending");
    let new_upload = pufa::store::imports::save_pending(&app.db, user, "新.xlsx", None, None, b"y")
        .await
        .expect("pending");
    let sql_age = "UPDATE pending_imports SET created_at = $1 WHERE id = $2";
    let two_days_ago = now - Duration::days(2);
    crate::helpers::with_pool!(&app.db, |pool| {
        sqlx::query(sql_age)
            .bind(two_days_ago)
            .bind(old_upload)
            .execute(pool)
            .await
            .expect("age");
    });
    pufa::store::rate_limits::record_failure(&app.db, "login:old", now - Duration::days(3))
        .await
        .expect("old counter");
    pufa::store::rate_limits::record_failure(&app.db, "login:new", now)
        .await
        .expect("new counter");
    // A session begun 13 hours ago (past the 12-hour limit) and one begun now.
    let old_session = pufa::store::login_sessions::NewSession {
        user_id: user,
        at: now - Duration::hours(13),
        address: "10.0.0.1",
        user_agent: "test",
    };
    let expired = (now - Duration::days(30), now - Duration::days(30));
    pufa::store::login_sessions::create(&app.db, "old-hash", &old_session, expired, None)
        .await
        .expect("old session");
    let new_session = pufa::store::login_sessions::NewSession {
        at: now,
        ..old_session
    };
    pufa::store::login_sessions::create(&app.db, "new-hash", &new_session, expired, None)
        .await
        .expect("new session");

    let swept = pufa::services::housekeeping::sweep(&app.db, now)
        .await
        .expect("sweep");
    assert_eq!(
        swept,
        pufa::services::housekeeping::Swept {
            pending_uploads: 1,
            counters: 1,
            sessions: 1
        }
    );
    assert!(pufa::store::imports::get_pending(&app.db, old_upload)
        .await
        .expect("get")
        .is_none());
    assert!(pufa::store::imports::get_pending(&app.db, new_upload)
        .await
        .expect("get")
        .is_some());
    assert!(pufa::store::rate_limits::get(&app.db, "login:new")
        .await
        .expect("get")
        .is_some());
    // Saving an upload no longer sweeps on its own: that is the timer's work.
    let again = pufa::services::housekeeping::sweep(&app.db, now)
        .await
        .expect("sweep");
    assert_eq!(again, pufa::services::housekeeping::Swept::default());
}

async fn the_admin_downloads_a_backup_that_restores(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "backup_download").await else {
        return;
    };
    small_township(&app).await;
    app.user("admin", Role::Admin, None).await;
    let admin = app.session("admin").await;
    let page = admin.get("/settings/requirements").await;
    assert!(
        page.body.contains("下载备份"),
        "the settings page offers it"
    );
    let (status, content_type, bytes) = admin.get_bytes("/settings/backup").await;
    assert_eq!(status, Status::Ok);
    assert_eq!(content_type.as_deref(), Some("application/vnd.sqlite3"));
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("downloaded.db");
    std::fs::write(&file, &bytes).expect("save the download");
    let url = format!("sqlite://{}", dir.path().join("restored.db").display());
    backup::restore(&url, &file).await.expect("restore");
    let restored = Db::connect(&url).await.expect("restored");
    assert_eq!(figures(&restored).await, figures(&app.db).await);
    restored.close().await;
    // Nothing is left in the temp folder by the download. The folder is shared with the
    // tests running beside this one (this test's twin on the other database downloads too),
    // so a folder of theirs may be there for a moment: only one that stays is a leak.
    let mut left = backup_folders_in_temp();
    for _ in 0..100 {
        if left.is_empty() {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        left = backup_folders_in_temp();
    }
    assert!(left.is_empty(), "temp files left: {left:?}");
}

fn backup_folders_in_temp() -> Vec<std::path::PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .expect("temp dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("pufa-backup-"))
        .map(|e| e.path())
        .collect()
}

/// `pufa copy-data`: a township on SQLite moves to an empty PostgreSQL database (and back),
/// ids, audit log and import batches included; a second copy into it is refused.
#[rocket::async_test]
async fn copy_data_moves_a_township_between_backends() {
    let Some(sqlite) = TestApp::spawn(Backend::Sqlite, "copy_data_source").await else {
        return;
    };
    let Some(postgres) = TestApp::spawn(Backend::Postgres, "copy_data_target").await else {
        return;
    };
    pufa::services::demo::load_embedded_demo(&sqlite.db)
        .await
        .expect("demo township");
    let copied = backup::copy_data(&sqlite.db, &postgres.db, today())
        .await
        .expect("copy to PostgreSQL");
    assert_eq!(copied.years, vec![YEAR]);
    for table in [
        "people",
        "attendance",
        "audit_log",
        "import_batches",
        "self_study",
    ] {
        assert!(copied.counts[table] > 0, "{table} was copied");
    }
    assert_eq!(
        transfer::row_counts(&postgres.db).await.expect("counts"),
        transfer::row_counts(&sqlite.db).await.expect("counts")
    );
    assert_eq!(figures(&postgres.db).await, figures(&sqlite.db).await);
    // The same ids: an import batch can still be undone on the new database.
    let batch: i64 = match &postgres.db {
        Db::Postgres(pool) => sqlx::query_scalar("SELECT MAX(id) FROM import_batches")
            .fetch_one(pool)
            .await
            .expect("batch"),
        Db::Sqlite(_) => unreachable!("the target is PostgreSQL"),
    };
    pufa::services::imports::undo(&postgres.db, &Actor::operator(), batch, today())
        .await
        .expect("undo a copied batch");
    postgres.person("迁移后登记的人", None).await;

    match backup::copy_data(&sqlite.db, &postgres.db, today()).await {
        Err(ServiceError::Refused(message)) => assert!(message.contains("已经有数据"), "{message}"),
        other => panic!("a second copy must be refused: {other:?}"),
    }

    // And back, into an empty SQLite database.
    let Some(back) = TestApp::spawn(Backend::Sqlite, "copy_data_back").await else {
        return;
    };
    backup::copy_data(&postgres.db, &back.db, today())
        .await
        .expect("copy back to SQLite");
    assert_eq!(figures(&back.db).await, figures(&postgres.db).await);
}
