//! County-sized benchmark (not a timed test): `cargo bench --bench county`.
//!
//! Fills a database with 300 villages, 60,000 people, 5,000 sessions, 1,000,000 attendance
//! rows, 50,000 distributions and 20,000 activities for 2021, then measures the annual
//! summary, cold and warm (target warm ≤ 100 ms, for the county and for one village) and
//! the year-end workbook (target ≤ 3 s, peak memory ≤ 200 MB) on SQLite, and on PostgreSQL
//! when PUFA_BENCH_POSTGRES_URL is set (a database named pufa_bench_county is created there
//! and dropped afterwards). The workbook is measured twice: in this process, and as
//! `pufa export` in a process of its own, as a user runs it, which computes the figures
//! afresh (its time and whole-process peak; PUFA_BENCH_BIN=/path/to/pufa measures another
//! build on the same database beside this one). PUFA_BENCH_DIR=/some/dir keeps the SQLite
//! county there as county.db (the same file `cargo bench --bench pages` keeps) and reuses it.

use std::time::Instant;

use chrono::NaiveDate;
use pufa::services::Actor;
use pufa::store::Db;

#[path = "common/county_data.rs"]
mod county_data;

/// The server's allocator (src/main.rs), so that memory figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

use county_data::fill;

/// `pufa export` of the county's year: wall time and the process's peak memory (MB).
fn export_process(url: &str, binary: &std::ffi::OsStr) -> (std::time::Duration, f64) {
    let out = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut child = std::process::Command::new(binary)
        .args(["--database-url", url, "export", "--year", "2021", "-o"])
        .arg(out.path().join("county.xlsx"))
        .env("PUFA_DATA_DIR", out.path())
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The child's own high-water mark, read while it runs: the resource usage wait4 gives
    // would also count this process's memory at the fork.
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0.0f64;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kb) = text
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            {
                peak_kb = peak_kb.max(kb);
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    assert!(status.success(), "pufa export");
    (elapsed, peak_kb / 1024.0)
}

async fn measure(label: &str, db: &Db, url: &str, reused: bool) {
    if reused {
        println!("[{label}] county reused from PUFA_BENCH_DIR");
    } else {
        let t = Instant::now();
        fill(db).await;
        println!("[{label}] filled county in {:.1?}", t.elapsed());
    }
    let today = NaiveDate::from_ymd_opt(2022, 1, 1).unwrap();
    if std::env::var("PUFA_BENCH_DETAIL").is_ok() {
        use pufa::store::summary as q;
        let period = pufa::domain::dates::Period::of(2021, None).unwrap();
        let as_of = NaiveDate::from_ymd_opt(2021, 12, 31).unwrap();
        let t = Instant::now();
        q::sessions_by_kind_and_status(db, period, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  sessions_by_kind_and_status {:.2?}", t.elapsed());
        let t = Instant::now();
        q::sessions_by_month(db, period, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  sessions_by_month {:.2?}", t.elapsed());
        let t = Instant::now();
        pufa::store::attendance::shortfalls(db, period, as_of, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  shortfalls {:.2?}", t.elapsed());
        let t = Instant::now();
        q::legal_literates_by_village(db, period, as_of, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  legal_literates_by_village {:.2?}", t.elapsed());
        let t = Instant::now();
        q::coverage(db, period, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  coverage {:.2?}", t.elapsed());
        let t = Instant::now();
        q::session_lines(db, period, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  session_lines {:.2?}", t.elapsed());
        let t = Instant::now();
        q::person_hours(db, period, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  person_hours {:.2?}", t.elapsed());
        let t = Instant::now();
        q::literate_lines(db, as_of, pufa::domain::VillageScope::Any)
            .await
            .unwrap();
        println!("  literate_lines {:.2?}", t.elapsed());
        let t = Instant::now();
        let filter = pufa::store::distributions::DistributionFilter {
            period,
            village: pufa::domain::VillageScope::Any,
            material_kind: None,
            material_id: None,
        };
        pufa::store::distributions::list_all(db, &filter)
            .await
            .unwrap();
        println!("  distributions list {:.2?}", t.elapsed());
        let t = Instant::now();
        let filter = pufa::store::activities::ActivityFilter {
            period,
            village: pufa::domain::VillageScope::Any,
            form: None,
            place: None,
            group: None,
        };
        pufa::store::activities::list_all(db, &filter)
            .await
            .unwrap();
        println!("  activities list {:.2?}", t.elapsed());
    }
    for village in [None, Some(1)] {
        let what = if village.is_some() {
            "one village"
        } else {
            "the county"
        };
        let t = Instant::now();
        let summary =
            pufa::services::summary::annual_summary(db, &Actor::operator(), 2021, village, today)
                .await
                .unwrap();
        let cold = t.elapsed();
        // Warm: nothing changed, so the figures come from the cache under the data version.
        let t = Instant::now();
        let again =
            pufa::services::summary::annual_summary(db, &Actor::operator(), 2021, village, today)
                .await
                .unwrap();
        let warm = t.elapsed();
        assert_eq!(summary, again);
        println!(
            "[{label}] annual summary of {what}: cold {cold:.2?}, warm {warm:.2?} (target warm ≤ 100 ms) — {} sessions, {} person-times, {} copies",
            summary.sessions_held, summary.attendance_person_times, summary.materials_distributed
        );
    }
    // The workbook's own peak: the kernel's high-water mark starts again from here.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = peak_mb();
    let t = Instant::now();
    let (_, bytes) =
        pufa::services::export::year_workbook(db, &Actor::operator(), 2021, None, today)
            .await
            .unwrap();
    println!(
        "[{label}] year-end workbook: {:.2?} (target ≤ 3 s), {:.1} MB, peak memory while writing it {:.0} MB, of which {:.0} MB were in use before (target ≤ 200 MB)",
        t.elapsed(),
        bytes.len() as f64 / 1e6,
        peak_mb(),
        before
    );
    let mut builds = vec![("this build".to_string(), env!("CARGO_BIN_EXE_pufa").into())];
    if let Some(other) = std::env::var_os("PUFA_BENCH_BIN") {
        builds.push((other.to_string_lossy().into_owned(), other));
    }
    // Twice each, alternating, so that both builds see the same machine.
    for _ in 0..2 {
        for (name, binary) in &builds {
            let (elapsed, peak) = export_process(url, binary);
            println!(
                "[{label}] pufa export by {name} (a process of its own, figures computed afresh): {elapsed:.2?}, peak memory {peak:.0} MB"
            );
        }
    }
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let path = match std::env::var_os("PUFA_BENCH_DIR") {
            Some(kept) => {
                std::fs::create_dir_all(&kept).unwrap();
                std::path::PathBuf::from(kept).join("county.db")
            }
            None => dir.path().join("county.db"),
        };
        let reused = path.exists();
        let url = format!("sqlite://{}", path.display());
        let db = Db::connect_and_migrate(&url).await.unwrap();
        measure("SQLite", &db, &url, reused).await;
        db.close().await;
        if let Ok(admin_url) = std::env::var("PUFA_BENCH_POSTGRES_URL") {
            let admin = Db::connect(&admin_url).await.unwrap();
            if let Db::Postgres(pool) = &admin {
                let _ = sqlx::query("DROP DATABASE IF EXISTS pufa_bench_county WITH (FORCE)")
                    .execute(pool)
                    .await;
                sqlx::query("CREATE DATABASE pufa_bench_county")
                    .execute(pool)
                    .await
                    .unwrap();
            }
            let mut url = url::Url::parse(&admin_url).unwrap();
            url.set_path("/pufa_bench_county");
            let db = Db::connect_and_migrate(url.as_str()).await.unwrap();
            measure("PostgreSQL", &db, url.as_str(), false).await;
            db.close().await;
            if let Db::Postgres(pool) = &admin {
                let _ = sqlx::query("DROP DATABASE IF EXISTS pufa_bench_county WITH (FORCE)")
                    .execute(pool)
                    .await;
            }
        } else {
            println!("(set PUFA_BENCH_POSTGRES_URL=postgres://… to measure PostgreSQL too)");
        }
    });
}
