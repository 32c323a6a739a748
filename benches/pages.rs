//! Pages under load (not a timed test): `cargo bench --bench pages`.
//!
//! Starts the real server (the `pufa` binary) on the demo township and on the county of
//! `county_data.rs`, logs in as a viewer, and drives each main page with `wrk` (Debian's
//! package) at 64 connections, printing requests/s, p50 and p99 per page. SQLite always;
//! PostgreSQL too when PUFA_TEST_POSTGRES_URL is set (databases pufa_bench_pages_* are
//! created there and dropped afterwards).
//!
//! Settings: PUFA_BENCH_SECONDS (default 10) per page; PUFA_BENCH_BIN measures another
//! build of `pufa` with the same load (for before/after figures from one run);
//! PUFA_BENCH_SKIP_COUNTY=1 leaves out the county; PUFA_BENCH_DIR=/some/dir keeps the SQLite
//! databases there and reuses them on the next run (filling the county takes minutes).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use pufa::store::Db;

#[path = "common/county_data.rs"]
mod county_data;
#[path = "common/server.rs"]
mod server;

use server::{binary, http, login, serve, PASSWORD};

/// Whether the SQLite database of `url` is kept from an earlier run (PUFA_BENCH_DIR).
fn kept(url: &str) -> bool {
    std::env::var_os("PUFA_BENCH_DIR").is_some()
        && url
            .strip_prefix("sqlite://")
            .is_some_and(|path| Path::new(path).exists())
}

fn pufa(url: &str, data_dir: &Path, args: &[&str], stdin: &str) {
    let mut child = Command::new(binary())
        .args(["--database-url", url])
        .args(args)
        .env("PUFA_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pufa");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("stdin");
    }
    let output = child.wait_with_output().expect("pufa finishes");
    assert!(
        output.status.success(),
        "pufa {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// One HTTP/1.1 exchange on a fresh connection: (status, headers, body).
/// requests/s, p50 and p99 (ms), and non-2xx/3xx responses, as wrk reports them.
struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
    errors: u64,
}

fn millis(text: &str) -> f64 {
    let number = |suffix: &str| {
        text.trim_end_matches(suffix)
            .parse::<f64>()
            .unwrap_or(f64::NAN)
    };
    if text.ends_with("us") {
        number("us") / 1000.0
    } else if text.ends_with("ms") {
        number("ms")
    } else if text.ends_with('s') {
        number("s") * 1000.0
    } else {
        f64::NAN
    }
}

fn wrk(port: u16, path: &str, cookie: &str, seconds: u64) -> Load {
    let output = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency", "-H"])
        .arg(format!("Cookie: {cookie}"))
        .arg(format!("http://127.0.0.1:{port}{path}"))
        .output()
        .expect("run wrk");
    let text = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or_default()
            .to_string()
    };
    Load {
        rps: field("Requests/sec:").parse().unwrap_or(0.0),
        p50: millis(&field("50%")),
        p99: millis(&field("99%")),
        errors: field("Non-2xx or 3xx responses:").parse().unwrap_or(0),
    }
}

/// Drives each page and prints one line per page.
fn measure(label: &str, url: &str, data_dir: &Path, pages: &[(&str, String)], reused: bool) {
    if !reused {
        pufa(
            url,
            data_dir,
            &[
                "user",
                "add",
                "--username",
                "benchviewer",
                "--role",
                "viewer",
            ],
            &format!("{PASSWORD}\n"),
        );
    }
    let server = serve(url, data_dir);
    let cookie = login(server.port, "benchviewer");
    let seconds: u64 = std::env::var("PUFA_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    for (name, path) in pages {
        // Each page answers, and answers the logged-in viewer (not the login form).
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {cookie}\r\n\r\n"
        );
        let (status, _, _) = http(server.port, &request);
        assert_eq!(status, 200, "{label} {path}");
        // A short warm-up, then the measured run.
        wrk(server.port, path, &cookie, 1);
        let load = wrk(server.port, path, &cookie, seconds);
        println!(
            "[{label}] {name:<10} {path:<32} {:>7.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms{}",
            load.rps,
            load.p50,
            load.p99,
            if load.errors > 0 {
                format!("   ({} non-2xx/3xx)", load.errors)
            } else {
                String::new()
            }
        );
    }
}

fn demo_pages(first_village: i64) -> Vec<(&'static str, String)> {
    vec![
        ("dashboard", "/?year=2021".into()),
        ("people", "/people".into()),
        ("sessions", "/sessions?year=2021".into()),
        ("materials", "/materials?year=2021".into()),
        ("activities", "/activities?year=2021".into()),
        ("village", format!("/villages/{first_village}?year=2021")),
    ]
}

async fn first_village(url: &str) -> i64 {
    let db = Db::connect(url).await.expect("connect");
    let id = pufa::store::villages::list(&db).await.expect("villages")[0].id;
    db.close().await;
    id
}

async fn county_db(url: &str) {
    let db = Db::connect_and_migrate(url).await.expect("county database");
    county_data::fill(&db).await;
    db.close().await;
}

async fn run(label: &str, url_of: impl Fn(&str) -> String, dir: &Path) {
    let demo_url = url_of("demo");
    let reused = kept(&demo_url);
    if !reused {
        pufa(&demo_url, dir, &["demo"], "");
    }
    let village = first_village(&demo_url).await;
    measure(
        &format!("{label} demo"),
        &demo_url,
        dir,
        &demo_pages(village),
        reused,
    );
    if std::env::var("PUFA_BENCH_SKIP_COUNTY").as_deref() == Ok("1") {
        return;
    }
    let county_url = url_of("county");
    let reused = kept(&county_url);
    if !reused {
        county_db(&county_url).await;
    }
    let village = first_village(&county_url).await;
    measure(
        &format!("{label} county"),
        &county_url,
        dir,
        &[
            ("dashboard", "/?year=2021".into()),
            ("village", format!("/villages/{village}?year=2021")),
        ],
        reused,
    );
}

async fn postgres_databases(admin_url: &str, create: bool) {
    let admin = Db::connect(admin_url).await.expect("PostgreSQL");
    if let Db::Postgres(pool) = &admin {
        for name in ["demo", "county"] {
            let db = format!("pufa_bench_pages_{name}");
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(pool)
                .await;
            if create {
                sqlx::query(&format!("CREATE DATABASE {db}"))
                    .execute(pool)
                    .await
                    .expect("create database");
            }
        }
    }
    admin.close().await;
}

fn main() {
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk is not installed (Debian: apt-get install wrk); nothing measured.");
        return;
    }
    println!("binary: {}", binary().display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let temp = tempfile::tempdir().expect("temp dir");
        let base = match std::env::var_os("PUFA_BENCH_DIR") {
            Some(dir) => {
                let dir = std::path::PathBuf::from(dir);
                std::fs::create_dir_all(&dir).expect("PUFA_BENCH_DIR");
                dir
            }
            None => temp.path().to_path_buf(),
        };
        run(
            "SQLite",
            |name| format!("sqlite://{}", base.join(format!("{name}.db")).display()),
            &base,
        )
        .await;
        match std::env::var("PUFA_TEST_POSTGRES_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                postgres_databases(&admin_url, true).await;
                let parsed = url::Url::parse(&admin_url).expect("PostgreSQL URL");
                run(
                    "PostgreSQL",
                    |name| {
                        let mut url = parsed.clone();
                        url.set_path(&format!("/pufa_bench_pages_{name}"));
                        url.to_string()
                    },
                    temp.path(),
                )
                .await;
                postgres_databases(&admin_url, false).await;
            }
            _ => println!("(set PUFA_TEST_POSTGRES_URL=postgres://… to measure PostgreSQL too)"),
        }
    });
}
