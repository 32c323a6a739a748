//! Import benchmark (not a timed test): `cargo bench --bench imports`.
//!
//! Builds a 100,000-row attendance workbook (300 villages, realistic names, dates and
//! statuses) and measures in one run: (a) calamine alone reading the sheet, (b)
//! `pufa import --dry-run`, (c) the committing import into a fresh SQLite database, with
//! the peak memory (VmHWM) of (c). Target: (c) within 3× of (a), peak under 300 MB.

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

fn village_name(v: usize) -> String {
    format!("第{}村", v + 1)
}

fn build_workbook(path: &Path) {
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
            let session = i / 28; // about 28 people per session
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
                    format!("2021年{month}月{}日", 3 + (session / 12) as u32),
                )
                .unwrap();
            sheet
                .write_string(row, 1, TOPICS[session % TOPICS.len()])
                .unwrap();
            sheet.write_string(row, 2, &name).unwrap();
            sheet.write_string(row, 3, village_name(v)).unwrap();
            sheet.write_string(row, 4, status).unwrap();
            sheet.write_number(row, 5, 1.5).unwrap();
        }
    }
    workbook.save(path).unwrap();
}

/// Runs the command, polling its peak resident memory (VmHWM) until it exits.
fn run_measured(command: &mut Command) -> (Duration, u64, bool) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pufa");
    let status_path = format!("/proc/{}/status", child.id());
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
        if let Some(status) = child.try_wait().expect("wait") {
            return (started.elapsed(), peak_kb, status.success());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn main() {
    let temp = tempfile::tempdir().unwrap();
    // PUFA_BENCH_KEEP=1 leaves the workbook and database behind (to measure another build
    // on the same files); the folder is printed.
    let (_temp, base) = if std::env::var("PUFA_BENCH_KEEP").as_deref() == Ok("1") {
        let kept = temp.keep();
        println!("files kept in {}", kept.display());
        (None, kept)
    } else {
        let path = temp.path().to_path_buf();
        (Some(temp), path)
    };
    let file = base.as_path().join("attendance_100k.xlsx");
    let t = Instant::now();
    build_workbook(&file);
    let size = std::fs::metadata(&file).unwrap().len();
    println!(
        "built {} rows in {:.1?} ({:.1} MB)",
        ROWS,
        t.elapsed(),
        size as f64 / 1e6
    );

    let bytes = std::fs::read(&file).unwrap();
    let t = Instant::now();
    let mut book = Xlsx::new(Cursor::new(bytes)).unwrap();
    let range = book.worksheet_range_at(0).unwrap().unwrap();
    let calamine_time = t.elapsed();
    println!(
        "(a) calamine reads {} rows: {:.2?}",
        range.height(),
        calamine_time
    );
    drop(range);

    let db_path = base.as_path().join("bench.db");
    let url = format!("sqlite://{}", db_path.display());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = Db::connect_and_migrate(&url).await.unwrap();
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
            password: "bench-password-1".into(),
        };
        create_user(&db, &Actor::operator(), &admin).await.unwrap();
        db.close().await;
    });

    let pufa = env!("CARGO_BIN_EXE_pufa");
    let file_arg = file.display().to_string();
    let (dry_time, dry_peak, ok) = run_measured(Command::new(pufa).args([
        "--database-url",
        &url,
        "import",
        &file_arg,
        "--dry-run",
    ]));
    assert!(ok, "dry run failed");
    println!(
        "(b) pufa import --dry-run: {dry_time:.2?} (peak {:.0} MB)",
        dry_peak as f64 / 1024.0
    );
    let (commit_time, commit_peak, ok) = run_measured(Command::new(pufa).args([
        "--database-url",
        &url,
        "import",
        &file_arg,
        "--as",
        "admin",
    ]));
    assert!(ok, "import failed");
    println!(
        "(c) pufa import (commit, fresh SQLite): {commit_time:.2?}, peak memory {:.0} MB",
        commit_peak as f64 / 1024.0
    );
    let ratio = commit_time.as_secs_f64() / calamine_time.as_secs_f64();
    println!(
        "(c)/(a) = {ratio:.1}× (target ≤ 3×); peak {:.0} MB (target < 300 MB)",
        commit_peak as f64 / 1024.0
    );
}
