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
use crate::imports::{multipart, upload_through_web, xlsx, C};

on_both_backends!(
    a_killed_import_or_backup_leaves_all_or_nothing,
    twenty_clerks_commit_at_once_while_others_read,
    a_killed_or_stopped_server_finishes_or_leaves_nothing,
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
            let location =
                upload_through_web(&clerk, &format!("{village}花名册.xlsx"), &bytes).await;
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

/// `count` people in the village, in one statement.
async fn many_people(db: &Db, village: i64, count: i64) {
    const SQL: &str =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO people (name, village_id, post, notes, active, created_at, updated_at) \
         SELECT '村民' || i, $2, '', '', TRUE, $3, $3 FROM n";
    let now = chrono::Utc::now();
    crate::helpers::with_pool!(db, |pool| {
        sqlx::query(SQL)
            .bind(count)
            .bind(village)
            .bind(now)
            .execute(pool)
            .await
            .expect("people");
    });
}

async fn marks_of(db: &Db, session: i64) -> i64 {
    let grid = pufa::store::attendance::grid(db, session, pufa::domain::VillageScope::Any)
        .await
        .expect("grid");
    grid.iter().filter(|r| r.status.is_some()).count() as i64
}

async fn clear_marks(db: &Db) {
    match db {
        Db::Sqlite(pool) => {
            sqlx::query("DELETE FROM attendance")
                .execute(pool)
                .await
                .expect("clear");
        }
        Db::Postgres(pool) => {
            sqlx::query("DELETE FROM attendance")
                .execute(pool)
                .await
                .expect("clear");
        }
    }
}

/// `pufa serve` on the test's database; returns the server and its port once it listens.
fn serve(app: &TestApp, data: &std::path::Path) -> (crate::binary::Server, u16) {
    let port = crate::binary::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_pufa"))
        .args(["--database-url", &app.url, "serve"])
        .env("PUFA_DATA_DIR", data)
        .env("PUFA_BACKUP_KEEP", "0")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env_remove("PUFA_TEMPLATE_DIR")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let server = crate::binary::Server(child);
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "server start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (server, port)
}

/// Logs in over HTTP; returns the cookies and the session's form token.
fn log_in(port: u16) -> (Vec<String>, String) {
    use crate::binary::request;
    let token_in = |html: &str| {
        html.split("name=\"csrf_token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("a form token")
            .to_string()
    };
    let page = request(port, "GET", "/login", &[], None);
    let mut cookies = page.cookies();
    let form = format!(
        "csrf_token={}&username=admin&password={}",
        url::form_urlencoded::byte_serialize(token_in(&page.text()).as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(crate::helpers::PASSWORD.as_bytes())
            .collect::<String>()
    );
    let reply = request(port, "POST", "/login", &cookies, Some(&form));
    assert_eq!(reply.status, 303, "{}", reply.text());
    let fresh = reply.cookies();
    let names: Vec<String> = fresh
        .iter()
        .filter_map(|c| c.split('=').next().map(str::to_string))
        .collect();
    cookies.retain(|c| !names.iter().any(|n| c.starts_with(&format!("{n}="))));
    cookies.extend(fresh);
    let account = request(port, "GET", "/account", &cookies, None);
    cookies.extend(account.cookies());
    (cookies, token_in(&account.text()))
}

fn encoded(token: &str) -> String {
    url::form_urlencoded::byte_serialize(token.as_bytes()).collect()
}

/// The server killed while it writes a meeting's marks (全部出勤, the grid's writer) leaves
/// every mark or none; stopped with SIGTERM while it commits an upload, it finishes the
/// import, answers, and exits cleanly.
async fn a_killed_or_stopped_server_finishes_or_leaves_nothing(backend: Backend) {
    const PEOPLE: i64 = 3_000;
    let Some(app) = TestApp::spawn(backend, "server_killed").await else {
        return;
    };
    let village = app.village("第0村").await;
    for v in 1..VILLAGES {
        app.village(&format!("第{v}村")).await;
    }
    app.user("admin", Role::Admin, None).await;
    many_people(&app.db, village, PEOPLE).await;
    let session = app
        .study_session(Some(village), "2021-03-01", "09:00", "会前学法")
        .await;
    let selection = pufa::services::sessions::InviteSelection {
        village_ids: vec![village],
        category: None,
        person_ids: vec![],
        by_group: true,
        scope: pufa::services::sessions::Scope::This,
    };
    pufa::services::sessions::invite(
        &app.db,
        &pufa::services::Actor::operator(),
        session,
        &selection,
        true,
    )
    .await
    .expect("invite");
    let data = tempfile::tempdir().expect("data dir");

    // How long marking everyone takes, then kills within that time.
    let (server, port) = serve(&app, data.path());
    let (cookies, token) = log_in(port);
    let path = format!("/sessions/{session}/all-present");
    let form = format!("csrf_token={}", encoded(&token));
    let started = Instant::now();
    let reply = crate::binary::request(port, "POST", &path, &cookies, Some(&form));
    let whole = started.elapsed();
    assert_eq!(reply.status, 303, "{}", reply.text());
    assert_eq!(marks_of(&app.db, session).await, PEOPLE);
    drop(server);
    let mut outcomes = Vec::new();
    for percent in [30u32, 60, 90, 100, 110] {
        clear_marks(&app.db).await;
        let (mut server, port) = serve(&app, data.path());
        let (cookies, token) = log_in(port);
        let form = format!("csrf_token={}", encoded(&token));
        let path = path.clone();
        let cookies_sent = cookies.clone();
        let sender = std::thread::spawn(move || {
            // The connection breaks when the server dies: no reply is expected.
            std::panic::catch_unwind(|| {
                crate::binary::request(port, "POST", &path, &cookies_sent, Some(&form))
            })
            .is_ok()
        });
        std::thread::sleep(whole * percent / 100);
        kill(&mut server.0);
        let _ = sender.join();
        let marks = marks_of(&app.db, session).await;
        outcomes.push(format!("{percent}%: {marks}"));
        assert!(
            marks == 0 || marks == PEOPLE,
            "killed at {percent}% of {whole:?}: {marks} of {PEOPLE} marks"
        );
        assert_eq!(
            transfer::sqlite_integrity(&app.db).await.expect("check"),
            "ok"
        );
    }
    crate::helpers::say(&format!(
        "killed while marking ({whole:.1?} whole): {}",
        outcomes.join(", ")
    ));

    // SIGTERM while an upload is being committed: it finishes.
    clear_marks(&app.db).await;
    let (server, port) = serve(&app, data.path());
    let (cookies, token) = log_in(port);
    let (content_type, body) = multipart(&token, "签到表.xlsx", &big_sheet(), &[("kind", "")]);
    let content_type = content_type.to_string();
    let uploaded = crate::binary::request_with_body(
        port,
        "POST",
        "/imports",
        &cookies,
        Some((&content_type, &body)),
    );
    assert_eq!(uploaded.status, 303, "{}", uploaded.text());
    let preview = uploaded
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone())
        .expect("the preview's address");
    let committing = {
        let (cookies, form) = (cookies.clone(), format!("csrf_token={}", encoded(&token)));
        let path = format!("{preview}/commit");
        std::thread::spawn(move || {
            crate::binary::request(port, "POST", &path, &cookies, Some(&form))
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    let mut server = server;
    let term = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(term.success());
    let reply = committing.join().expect("the commit's reply");
    assert_eq!(reply.status, 303, "the commit finished: {}", reply.text());
    let exited = server.0.wait().expect("exit");
    assert!(exited.success(), "{exited}");
    let counts = transfer::row_counts(&app.db).await.expect("counts");
    assert_eq!(counts["import_batches"], 1);
    assert_eq!(counts["attendance"], ROWS as i64, "the whole sheet is in");
}
