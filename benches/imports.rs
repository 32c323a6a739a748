//! Import benchmark (not a timed test): `cargo bench --bench imports`.
//!
//! Builds two 100,000-row attendance workbooks (300 villages, realistic names, dates and
//! statuses): "village sessions", where each village's people attend their village's
//! monthly sessions, and "township-wide", where 500 sessions each mix attendees of many
//! villages. For each it measures in one run: (a) calamine alone reading the sheet, (b)
//! `pufa import --dry-run`, (c) the committing import into a fresh SQLite database, and
//! the same (c) on PostgreSQL when PUFA_BENCH_POSTGRES_URL is set; with the peak memory of
//! the pufa process and of its parse worker. Targets: (c) ≤ 2× (a) (PostgreSQL ≤ 3×),
//! (b) ≤ 1.3× (a), peak of (c) ≤ 150 MB. Then (d) the same file through the web: the
//! real server, an admin logged in, the upload (transfer), its preview page and the commit,
//! each timed (target: preview and commit each ≤ 2× (a) plus the transfer). After each
//! command-line import that commits, (e) times the database alone inserting the same rows again (the floor
//! under (c): no reading, planning or sending), and (f) times the parse worker alone (the
//! floor under (b): the isolated read every import starts with).
//! `PUFA_BENCH_BIN=/path/to/pufa` runs another build on the same files (before/after).

use std::io::Cursor;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use calamine::{Reader, Xlsx};
use pufa::domain::Role;
use pufa::services::users::{create_user, UserInput};
use pufa::services::villages::{create_village, VillageInput};
use pufa::services::Actor;
use pufa::store::Db;
use rust_xlsxwriter::Workbook;

#[path = "common/server.rs"]
mod server;

const ROWS: usize = 100_000;
const VILLAGES: usize = 300;

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "罗", "高", "林",
];
const GIVEN: &[&str] = &[
    "明", "华", "军", "芳", "丽", "强", "敏", "静", "伟", "勇", "秀英", "建国", "桂兰", "志强",
    "小红", "德华", "文", "洪", "春梅", "国庆",
];
const TOPICS: &[&str] = &[
    "学习《中华人民共和国宪法》",
    "学习《民法典》婚姻家庭编",
    "学习《土地管理法》",
    "学习《反有组织犯罪法》",
    "学习《乡村振兴促进法》",
    "学习《安全生产法》",
];
const STATUSES: &[&str] = &["√", "√", "√", "√", "出勤", "迟到", "请假", "缺席"];

fn topic(session: usize, layout: Layout) -> String {
    let base = TOPICS[session % TOPICS.len()];
    match layout {
        Layout::VillageSessions => base.to_string(),
        Layout::TownshipWide => format!("{base}（第{}期）", session + 1),
    }
}

fn village_name(v: usize) -> String {
    format!("第{}村", v + 1)
}

#[derive(Clone, Copy, PartialEq)]
enum Layout {
    VillageSessions,
    TownshipWide,
}

fn build_workbook(path: &Path, layout: Layout) {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet_with_constant_memory().unwrap();
    for (col, header) in ["日期", "学习内容", "姓名", "村(社区)", "签到情况", "学时"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    let per_village = ROWS / VILLAGES + 1;
    let mut row = 0u32;
    'outer: for v in 0..VILLAGES {
        for i in 0..per_village {
            if row as usize >= ROWS {
                break 'outer;
            }
            row += 1;
            let mut session = i / 28; // about 28 people per session
            if layout == Layout::TownshipWide {
                // 500 sessions, each with attendees from every part of the township.
                session = (row as usize * 7919) % 500;
            }
            let month = (session % 12) as u32 + 1;
            let person = (i * 7 + v) % 40;
            let name = format!(
                "{}{}",
                SURNAMES[person % SURNAMES.len()],
                GIVEN[(person / SURNAMES.len() + v) % GIVEN.len()]
            );
            let status = STATUSES[(i * 13 + v) % STATUSES.len()];
            sheet
                .write_string(
                    row,
                    0,
                    format!("2021年{month}月{}日", 1 + (session / 12) as u32 % 28),
                )
                .unwrap();
            sheet.write_string(row, 1, topic(session, layout)).unwrap();
            sheet.write_string(row, 2, &name).unwrap();
            sheet.write_string(row, 3, village_name(v)).unwrap();
            sheet.write_string(row, 4, status).unwrap();
            sheet.write_number(row, 5, 1.5).unwrap();
        }
    }
    workbook.save(path).unwrap();
}

/// Runs the command; returns its time, the peak resident memory of the pufa process
/// (VmHWM, polled) and of the largest process it waited for (its parse worker), in kB, and
/// whether it succeeded.
fn run_measured(command: &mut Command) -> (Duration, u64, u64, bool) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("run pufa");
    let pid = child.id() as libc::pid_t;
    let status_path = format!("/proc/{pid}/status");
    let mut peak_kb = 0;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_path) {
            if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
                let kb: u64 = line
                    .split_whitespace()
                    .nth(1)
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(0);
                peak_kb = peak_kb.max(kb);
            }
        }
        // Not reaped yet: waitid with WNOWAIT leaves the zombie for wait4 below.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: waitid fills `info` for our own child and does not reap it (WNOWAIT).
        let exited = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            ) == 0
                && info.si_pid() == pid
        };
        if exited {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed();
    let mut status = 0;
    // SAFETY: wait4 reaps our own child and fills its resource usage, which includes the
    // largest of the children it waited for (ru_maxrss of RUSAGE_BOTH).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    // Already reaped above; this only tells std so.
    let _ = child.wait();
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    (elapsed, peak_kb, usage.ru_maxrss as u64, ok)
}

/// A fresh database with the 300 villages and an admin: SQLite in `dir`, or a new
/// PostgreSQL database beside PUFA_BENCH_POSTGRES_URL's.
async fn fresh_database(dir: &Path, name: &str, postgres: Option<&str>) -> String {
    let url = match postgres {
        None => format!("sqlite://{}", dir.join(format!("{name}.db")).display()),
        Some(admin_url) => {
            let admin = Db::connect(admin_url).await.unwrap();
            if let Db::Postgres(pool) = &admin {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(pool)
                    .await;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(pool)
                    .await
                    .unwrap();
            }
            admin.close().await;
            let mut url = url::Url::parse(admin_url).unwrap();
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
    };
    // Another build's database has that build's schema: it migrates it itself.
    let db = match std::env::var("PUFA_BENCH_BIN") {
        Ok(bin) => {
            let status = Command::new(bin)
                .args(["--database-url", &url, "migrate"])
                .status()
                .unwrap();
            assert!(status.success(), "migrate with PUFA_BENCH_BIN");
            Db::connect(&url).await.unwrap()
        }
        Err(_) => Db::connect_and_migrate(&url).await.unwrap(),
    };
    for v in 0..VILLAGES {
        let input = VillageInput {
            name: village_name(v),
            kind: "village".into(),
            ..VillageInput::default()
        };
        create_village(&db, &Actor::operator(), &input)
            .await
            .unwrap();
    }
    let admin = UserInput {
        username: "admin".into(),
        display_name: "管理员".into(),
        role: Role::Admin.code().into(),
        village_id: None,
        password: server::PASSWORD.into(),
    };
    create_user(&db, &Actor::operator(), &admin).await.unwrap();
    db.close().await;
    url
}

/// (f) the floor under (b): one run of the parse worker every read of an upload starts,
/// given the file as the server gives it, its answer thrown away.
fn worker_alone(pufa: &str, file: &Path) -> Duration {
    use pufa::sheets::read::worker::{Limits, ARENA_RESERVE, ARENA_VARIABLE, WORKER_ARG};
    let limits = Limits::default();
    let started = Instant::now();
    let status = Command::new(pufa)
        .arg(WORKER_ARG)
        .arg(limits.memory_bytes.to_string())
        .arg(limits.cpu_seconds.to_string())
        .arg("出勤.xlsx")
        .env(ARENA_VARIABLE, ARENA_RESERVE)
        .stdin(std::fs::File::open(file).unwrap())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "the parse worker failed");
    started.elapsed()
}

/// What (e) inserts again, parents first.
const FLOOR_TABLES: [&str; 3] = ["people", "sessions", "attendance"];

/// (e) the database's own floor under (c): the rows the import wrote, inserted again inside
/// the database (`INSERT … SELECT` from copies, in a transaction that is rolled back), with
/// the schema's indexes, foreign keys and triggers and nothing else. Returns the time and
/// the number of rows.
async fn database_floor(url: &str) -> (Duration, u64) {
    macro_rules! floor_in {
        ($pool:expr, $empty:expr) => {{
            let mut tx = $pool.begin().await.unwrap();
            for table in FLOOR_TABLES {
                let copy = format!("CREATE TEMP TABLE floor_{table} AS SELECT * FROM {table}");
                sqlx::query(&copy).execute(&mut *tx).await.unwrap();
            }
            for empty in $empty {
                sqlx::query(empty).execute(&mut *tx).await.unwrap();
            }
            let started = Instant::now();
            let mut rows = 0;
            for table in FLOOR_TABLES {
                let insert = format!("INSERT INTO {table} SELECT * FROM floor_{table}");
                let done = sqlx::query(&insert).execute(&mut *tx).await.unwrap();
                rows += done.rows_affected();
            }
            let elapsed = started.elapsed();
            tx.rollback().await.unwrap();
            (elapsed, rows)
        }};
    }
    let db = Db::connect(url).await.unwrap();
    let floor = match &db {
        // SQLite's inserts reuse the pages the deletes freed (so its statement journals copy
        // them: a little above a fresh import); PostgreSQL's TRUNCATE leaves no dead rows in
        // the indexes for the inserts to step over. Both are undone by the rollback.
        Db::Sqlite(pool) => floor_in!(
            pool,
            [
                "DELETE FROM attendance",
                "DELETE FROM sessions",
                "DELETE FROM people"
            ]
        ),
        Db::Postgres(pool) => floor_in!(pool, ["TRUNCATE attendance, sessions, people CASCADE"]),
    };
    db.close().await;
    floor
}

/// Prints (e) for the database at `url`, beside the target of (c) there.
fn print_floor(runtime: &tokio::runtime::Runtime, url: &str, read: Duration, target: f64) {
    let (floor, rows) = runtime.block_on(database_floor(url));
    let ratio = floor.as_secs_f64() / read.as_secs_f64();
    println!(
        "(e) the database alone inserting the {rows} rows (c) wrote: {floor:.2?} = {ratio:.2}× (a); (c)'s target of {target}× leaves {:.2}× (a) for reading, planning and sending",
        target - ratio
    );
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn measure_file(base: &Path, runtime: &tokio::runtime::Runtime, label: &str, layout: Layout) {
    let file = base.join(format!("attendance_100k_{label}.xlsx"));
    let t = Instant::now();
    build_workbook(&file, layout);
    let size = std::fs::metadata(&file).unwrap().len();
    println!(
        "\n[{label}] built {ROWS} rows in {:.1?} ({:.1} MB)",
        t.elapsed(),
        size as f64 / 1e6
    );
    let bytes = std::fs::read(&file).unwrap();
    // PUFA_BENCH_BIN=/path/to/pufa measures another build with the same files.
    let pufa =
        std::env::var("PUFA_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_pufa").into());
    // The best of five reads, each followed by a run of the worker alone: on this kind of
    // machine one read can take half as long again as the next, and alternating gives both
    // the same chances at a quiet moment.
    let mut read = Duration::MAX;
    let mut alone = Duration::MAX;
    let mut height = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let mut book = Xlsx::new(Cursor::new(bytes.clone())).unwrap();
        let range = book.worksheet_range_at(0).unwrap().unwrap();
        read = read.min(t.elapsed());
        height = range.height();
        alone = alone.min(worker_alone(&pufa, &file));
    }
    println!("(a) calamine reads {height} rows: {read:.2?} (best of 5)");
    let ratio = alone.as_secs_f64() / read.as_secs_f64();
    println!(
        "(f) the parse worker alone (its own process, the file's checks, calamine, sending the cells): {alone:.2?} = {ratio:.2}× (a) (best of 5, alternated with (a)); (b)'s target of 1.3× leaves {:.2}× (a) for planning",
        1.3 - ratio
    );
    let file_arg = file.display().to_string();
    let run = |url: &str, extra: &[&str]| {
        let mut command = Command::new(&pufa);
        command
            .args(["--database-url", url, "import", &file_arg])
            .args(extra);
        run_measured(&mut command)
    };
    let ratio = |d: Duration| d.as_secs_f64() / read.as_secs_f64();
    let url = runtime.block_on(fresh_database(base, &format!("bench_{label}"), None));
    let (dry, dry_peak, dry_worker, ok) = run(&url, &["--dry-run"]);
    assert!(ok, "dry run failed");
    println!(
        "(b) pufa import --dry-run: {dry:.2?} = {:.2}× (a) (target ≤ 1.3×); peak: pufa {:.0} MB, largest process of the run (pufa or its parse worker) {:.0} MB",
        ratio(dry),
        mb(dry_peak),
        mb(dry_worker)
    );
    let (commit, peak, worker, ok) = run(&url, &["--as", "admin"]);
    assert!(ok, "import failed");
    println!(
        "(c) pufa import, fresh SQLite: {commit:.2?} = {:.2}× (a) (target ≤ 2×); peak: pufa {:.0} MB, largest process of the run (pufa or its parse worker) {:.0} MB (target ≤ 150 MB)",
        ratio(commit),
        mb(peak),
        mb(worker)
    );
    print_floor(runtime, &url, read, 2.0);
    let url = runtime.block_on(fresh_database(base, &format!("bench_{label}_web"), None));
    through_the_web(&url, base, &file, read);
    if let Ok(admin_url) = std::env::var("PUFA_BENCH_POSTGRES_URL") {
        let url = runtime.block_on(fresh_database(
            base,
            &format!("pufa_bench_{label}"),
            Some(&admin_url),
        ));
        let (commit, peak, worker, ok) = run(&url, &["--as", "admin"]);
        assert!(ok, "import into PostgreSQL failed");
        println!(
            "(c) pufa import, fresh PostgreSQL: {commit:.2?} = {:.2}× (a) (target ≤ 3×); peak: pufa {:.0} MB, largest process of the run (pufa or its parse worker) {:.0} MB",
            ratio(commit),
            mb(peak),
            mb(worker)
        );
        print_floor(runtime, &url, read, 3.0);
    }
}

/// A multipart form with the CSRF token and the file.
fn upload_body(csrf: &str, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----pufa-bench-boundary";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// (d): upload, preview and commit through the real server, as a clerk's browser does.
fn through_the_web(url: &str, base: &Path, file: &Path, read: Duration) {
    use server::{csrf_token, http, login, peak_kb, serve};
    let data_dir = base.join("web_data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let server = serve(url, &data_dir);
    let cookie = login(server.port, "admin");
    let get = |path: &str| {
        http(
            server.port,
            &format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n"
            ),
        )
    };
    let post = |path: &str, content_type: &str, body: &[u8]| {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {cookie}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        server::http_bytes(server.port, &request)
    };
    let location = |headers: &[(String, String)]| {
        headers
            .iter()
            .find(|(k, _)| k == "location")
            .map(|(_, v)| v.clone())
            .expect("a redirect")
    };
    let (_, _, form) = get("/imports");
    let csrf = csrf_token(&form);
    let bytes = std::fs::read(file).unwrap();
    let (content_type, body) = upload_body(&csrf, "出勤_100k.xlsx", &bytes);
    let t = Instant::now();
    let (status, headers, _) = post("/imports", &content_type, &body);
    let upload = t.elapsed();
    assert_eq!(status, 303, "upload");
    let preview_path = location(&headers);
    assert!(
        preview_path.starts_with("/imports/preview/"),
        "{preview_path}"
    );
    let t = Instant::now();
    let (status, _, page) = get(&preview_path);
    let preview = t.elapsed();
    assert_eq!(status, 200, "preview");
    assert!(page.contains("确认导入"), "the preview offers the import");
    let form = format!("csrf_token={}&allow_partial=false", csrf_token(&page));
    let t = Instant::now();
    let (status, headers, _) = post(
        &format!("{preview_path}/commit"),
        "application/x-www-form-urlencoded",
        form.as_bytes(),
    );
    let commit = t.elapsed();
    assert_eq!(status, 303, "commit");
    let batch = location(&headers);
    assert!(batch.starts_with("/imports/batches/"), "committed: {batch}");
    let ratio = |d: Duration| d.as_secs_f64() / read.as_secs_f64();
    println!(
        "(d) through the web, fresh SQLite: upload (transfer) {upload:.2?}; preview page {preview:.2?} = {:.2}× (a); commit {commit:.2?} = {:.2}× (a) (targets ≤ 2× (a) each, after the transfer); server's peak memory {:.0} MB",
        ratio(preview),
        ratio(commit),
        mb(peak_kb(server.child.id()))
    );
}

fn main() {
    let temp = tempfile::tempdir().unwrap();
    // PUFA_BENCH_KEEP=1 leaves the workbooks and databases behind (to measure another build
    // on the same files); the folder is printed.
    let (_temp, base) = if std::env::var("PUFA_BENCH_KEEP").as_deref() == Ok("1") {
        let kept = temp.keep();
        println!("files kept in {}", kept.display());
        (None, kept)
    } else {
        let path = temp.path().to_path_buf();
        (Some(temp), path)
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    measure_file(&base, &runtime, "village", Layout::VillageSessions);
    measure_file(&base, &runtime, "township", Layout::TownshipWide);
    if std::env::var("PUFA_BENCH_POSTGRES_URL").is_err() {
        println!("\n(set PUFA_BENCH_POSTGRES_URL=postgres://… to measure PostgreSQL too)");
    }
}
