//! What holds when things go wrong or get busy: a process killed (SIGKILL) while it commits
//! an import or writes a backup leaves all or nothing; twenty clerks uploading and
//! committing at once while others read the dashboard see no error and no duplicate.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pufa::domain::Role;
use pufa::services::Db;
use pufa::store::transfer;
use rocket::http::Status;

use crate::helpers::{on_both_backends, Backend, TestApp};
use crate::imports::{multipart, xlsx, C};

on_both_backends!(
    a_killed_import_or_backup_leaves_all_or_nothing,
    twenty_clerks_commit_at_once_while_others_read,
);

const VILLAGES: usize = 10;
const ROWS: usize = 4_000;

/// An attendance sheet of `ROWS` rows: villagers of ten villages at monthly sessions.
fn big_sheet() -> Vec<u8> {
    let mut rows = vec![vec![
        C::T("日期"),
        C::T("学习内容"),
        C::T("姓名"),
        C::T("村(社区)"),
        C::T("签到情况"),
        C::T("学时"),
    ]];
    for i in 0..ROWS {
        let village = i % VILLAGES;
        let month = (i / VILLAGES) % 12 + 1;
        rows.push(vec![
            C::S(format!("2021-{month:02}-10")),
            C::S(format!("{month}月会前学法")),
            C::S(format!("村民{village}号{}", (i / (VILLAGES * 12)) % 40)),
            C::S(format!("第{village}村")),
            C::T("出勤"),
            C::N(1.5),
        ]);
    }
    xlsx("签到表", &rows, &[])
}

async fn township(app: &TestApp) {
    for v in 0..VILLAGES {
        app.village(&format!("第{v}村")).await;
    }
    app.user("admin", Role::Admin, None).await;
}

/// Rows of the tables an import writes.
async fn written(db: &Db) -> [i64; 4] {
    let counts = transfer::row_counts(db).await.expect("counts");
    [
        counts["import_batches"],
        counts["people"],
        counts["sessions"],
        counts["attendance"],
    ]
}

fn import(app: &TestApp, file: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pufa"));
    command
        .args(["--database-url", &app.url, "import"])
        .arg(file)
        .args(["--as", "admin"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    command
}

fn kill(child: &mut std::process::Child) -> bool {
    let signal = Command::new("kill")
        .args(["-KILL", &child.id().to_string()])
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    signal.success() && status.code().is_none()
}

async fn a_killed_import_or_backup_leaves_all_or_nothing(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("签到表.xlsx");
    std::fs::write(&file, big_sheet()).expect("write sheet");

    // A whole run first: how long it takes and what it writes.
    let Some(full) = TestApp::spawn(backend, "killed_import_full").await else {
        return;
    };
    township(&full).await;
    let started = Instant::now();
    let status = import(&full, &file).status().expect("import");
    let whole_run = started.elapsed();
    assert!(status.success(), "the import itself works");
    let complete = written(&full.db).await;
    assert_eq!(complete[0], 1);
    assert_eq!(complete[3], ROWS as i64);
    let nothing = [0, 0, 0, 0];

    // Killed at points spread over the run, most in its last part, where it commits (the
    // last one may come after the end: then the whole batch is there).
    let mut killed = 0;
    let mut outcomes = Vec::new();
    for percent in [60u32, 75, 85, 92, 97, 103] {
        let Some(app) = TestApp::spawn(backend, "killed_import").await else {
            return;
        };
        township(&app).await;
        let mut child = import(&app, &file).spawn().expect("import");
        std::thread::sleep(whole_run * percent / 100);
        if kill(&mut child) {
            killed += 1;
        }
        let after = written(&app.db).await;
        outcomes.push(format!(
            "{percent}%: {}",
            if after == nothing { "none" } else { "all" }
        ));
        assert!(
            after == nothing || after == complete,
            "killed at {percent}% of the run: batches, people, sessions, marks = {after:?}"
        );
        assert_eq!(
            transfer::sqlite_integrity(&app.db).await.expect("check"),
            "ok"
        );
    }
    assert!(killed > 0, "at least one run was killed before it ended");
    crate::helpers::say(&format!(
        "killed import ({whole_run:.1?} whole): {}",
        outcomes.join(", ")
    ));

    // A backup killed while it writes leaves no file with the backup's name, or a whole one.
    for delay_ms in [0, 5, 20, 60] {
        let target = dir.path().join(format!("backup-{delay_ms}.db"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_pufa"))
            .args(["--database-url", &full.url, "backup", "-o"])
            .arg(&target)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("backup");
        std::thread::sleep(Duration::from_millis(delay_ms));
        kill(&mut child);
        if target.exists() {
            let restored = format!(
                "sqlite://{}",
                dir.path().join(format!("r{delay_ms}.db")).display()
            );
            pufa::services::backup::restore(&restored, &target)
                .await
                .expect("a backup file that exists is whole");
            let db = Db::connect(&restored).await.expect("restored");
            assert_eq!(written(&db).await, complete);
            db.close().await;
        }
    }
    assert_eq!(written(&full.db).await, complete);
}

/// Twenty villages' clerks each upload a roster and commit it at the same moment, while
/// viewers load the dashboard: every request succeeds and every batch is there once.
async fn twenty_clerks_commit_at_once_while_others_read(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "twenty_clerks").await else {
        return;
    };
    const CLERKS: usize = 20;
    const PEOPLE: usize = 25;
    let mut clerks = Vec::new();
    for c in 0..CLERKS {
        let name = format!("村{c}");
        let village = app.village(&name).await;
        let user = format!("clerk{c}");
        app.user(&user, Role::Clerk, Some(village)).await;
        clerks.push((app.session(&user).await, name));
    }
    app.user("viewer", Role::Viewer, None).await;
    let viewer = std::sync::Arc::new(app.session("viewer").await);
    let mut tasks = Vec::new();
    for (c, (clerk, village)) in clerks.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut rows = vec![vec![C::T("姓名"), C::T("村(社区)"), C::T("身份类别")]];
            for p in 0..PEOPLE {
                rows.push(vec![
                    C::S(format!("{village}居民{p}")),
                    C::S(village.clone()),
                    C::T("群众"),
                ]);
            }
            let bytes = xlsx("花名册", &rows, &[]);
            let (content_type, body) = multipart(
                &clerk.csrf_token,
                &format!("{village}花名册.xlsx"),
                &bytes,
                &[("kind", "")],
            );
            let response = clerk
                .client
                .post("/imports")
                .header(content_type)
                .body(body)
                .dispatch()
                .await;
            assert_eq!(response.status(), Status::SeeOther, "upload {c}");
            let location = response
                .headers()
                .get_one("Location")
                .unwrap_or_default()
                .to_string();
            assert!(location.starts_with("/imports/preview/"), "{c}: {location}");
            let reply = clerk.post(&format!("{location}/commit"), &[]).await;
            let batch = reply.location.unwrap_or_default();
            assert!(
                batch.starts_with("/imports/batches/"),
                "commit {c}: {} {}",
                reply.status,
                reply.body
            );
            let page = clerk.get(&batch).await;
            assert_eq!(page.status, Status::Ok);
            assert!(!page.body.contains("database is locked"), "{}", page.body);
        }));
    }
    for r in 0..10 {
        let viewer = viewer.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..4 {
                let page = viewer.get("/?year=2021").await;
                assert_eq!(page.status, Status::Ok, "dashboard read {r}: {}", page.body);
            }
        }));
    }
    for task in tasks {
        task.await.expect("a request failed");
    }
    let counts = transfer::row_counts(&app.db).await.expect("counts");
    assert_eq!(counts["import_batches"], CLERKS as i64);
    assert_eq!(counts["people"], (CLERKS * PEOPLE) as i64);
    assert_eq!(counts["pending_imports"], 0);
}
