//! A reader no file can take down: uploads are read in a worker process under limits, a
//! file that kills its worker is marked unreadable (not read again at every reload), a read
//! past its time is stopped, and the fuzzer's deterministic slice answers every input.

use std::time::{Duration, Instant};

use pufa::domain::Role;
use pufa::sheets::read::worker::{self, Limits};
use pufa::sheets::read::ReadError;
use rocket::http::Status;

use crate::helpers::{on_both_backends, with_pool, Backend, TestApp};
use crate::imports::{upload_through_web, xlsx, C};

on_both_backends!(a_file_that_takes_its_reader_down_costs_one_worker,);

/// A small workbook whose sheet is rewritten by `rows` (the rows after the header, which
/// names shared text 0; the first data row's text is shared text 1, 30,000 characters) with
/// `after` following the sheet's data.
fn with_one_long_text(rows: impl Fn() -> String, after: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let plain = xlsx(
        "花名册",
        &[vec![C::T("姓名")], vec![C::S("法".repeat(30_000))]],
        &[],
    );
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(plain)).expect("xlsx");
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).expect("entry");
        let name = entry.name().expect("name").to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("inflate");
        if name == "xl/worksheets/sheet1.xml" {
            let xml = String::from_utf8(content).expect("utf-8");
            let start = xml.find("<sheetData>").expect("sheetData") + "<sheetData>".len();
            let end = xml.find("</sheetData>").expect("end of sheetData");
            content = format!(
                "{}<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c></row>{}</sheetData>{after}{}",
                &xml[..start],
                rows(),
                &xml[end + "</sheetData>".len()..]
            )
            .into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        out.write_all(&content).expect("write");
    }
    out.finish().expect("zip").into_inner()
}

/// A small workbook (under 1 MB) whose long text (30,000 characters) is merged down over
/// 20,000 rows: within every limit the reader checks before it lays the sheet out, but
/// filling the region makes a copy of the text for each of its cells, about 1.8 GB, and the
/// process that reads it dies (in process, the server would take that memory from everyone).
pub(crate) fn reader_killing_xlsx() -> Vec<u8> {
    with_one_long_text(
        || {
            "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c></row>\
            <row r=\"20001\"><c r=\"B20001\"><v>1</v></c></row>"
                .to_string()
        },
        "<mergeCells count=\"1\"><mergeCell ref=\"A2:A20001\"/></mergeCells>",
    )
}

/// 20,000 cells that each name the long text: each is its own copy once read (1.8 GB), and
/// the worker hands cells on as it reads them.
fn one_long_text_in_every_cell() -> Vec<u8> {
    with_one_long_text(
        || {
            (2..20_002)
                .map(|r| format!("<row r=\"{r}\"><c r=\"A{r}\" t=\"s\"><v>1</v></c></row>"))
                .collect()
        },
        "",
    )
}

#[tokio::test]
async fn cells_repeating_one_long_text_are_refused_before_the_server_holds_them() {
    worker::use_worker(env!("CARGO_BIN_EXE_pufa").into());
    let file = one_long_text_in_every_cell();
    assert!(file.len() < 1_000_000, "{} bytes", file.len());
    // What reaches the server is charged as the worker charges it: past 100 MB of text
    // the file is refused, with the reason, instead of the server being sent gigabytes.
    let started = Instant::now();
    let result = worker::read_isolated("花名册.xlsx", &file, Limits::default()).await;
    assert!(
        matches!(&result, Err(ReadError::Damaged(m)) if m.contains("文字太多")),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}

async fn a_file_that_takes_its_reader_down_costs_one_worker(backend: Backend) {
    let Some(app) = TestApp::spawn(backend, "reader_down").await else {
        return;
    };
    let village = app.village("龙凤村").await;
    app.user("clerk", Role::Clerk, Some(village)).await;
    let clerk = app.session("clerk").await;
    let file = reader_killing_xlsx();
    assert!(
        file.len() < 1_000_000,
        "a small upload: {} bytes",
        file.len()
    );
    let location = upload_through_web(&clerk, "签到表.xlsx", &file).await;
    let page = clerk.get(&location).await;
    assert_eq!(page.status, Status::Ok);
    assert!(page.body.contains("这个文件无法读取"), "{}", page.body);
    let id: i64 = location
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("pending id");
    let marked: bool = with_pool!(&app.db, |pool| sqlx::query_scalar(
        "SELECT unreadable FROM pending_imports WHERE id = $1"
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("pending upload"));
    assert!(marked, "the upload is marked unreadable");
    // Reloading the preview does not start the read again: it answers at once.
    let started = Instant::now();
    let again = clerk.get(&location).await;
    assert!(again.body.contains("这个文件无法读取"));
    assert!(started.elapsed() < Duration::from_secs(5));
    let commit = clerk.post(&format!("{location}/commit"), &[]).await;
    assert_ne!(commit.status, Status::InternalServerError);
    // The server goes on: the same clerk's next, good file reads.
    let good = xlsx(
        "花名册",
        &[
            vec![C::T("姓名"), C::T("村(社区)"), C::T("身份类别")],
            vec![C::T("张三"), C::T("龙凤村"), C::T("村干部")],
        ],
        &[],
    );
    let next = upload_through_web(&clerk, "花名册.xlsx", &good).await;
    let page = clerk.get(&next).await;
    assert!(
        page.body
            .contains(r#"<span class="number">1</span><span>将新增</span>"#)
            && !page.body.contains("无法读取"),
        "{}",
        page.body
    );
}

/// Worker processes of this test process that are still alive (not yet reaped ones are
/// zombies and hold no memory).
fn live_workers() -> usize {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter(|e| {
            let dir = e.path();
            let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
            let cmdline = std::fs::read(dir.join("cmdline")).unwrap_or_default();
            // stat: pid (comm) state ppid …
            let after = stat.rsplit_once(')').map(|(_, a)| a).unwrap_or("");
            let fields: Vec<&str> = after.split_whitespace().collect();
            fields.first() != Some(&"Z")
                && fields.get(1) == Some(&me.as_str())
                && String::from_utf8_lossy(&cmdline).contains(worker::WORKER_ARG)
        })
        .count()
}

#[tokio::test]
async fn a_read_past_its_time_is_stopped_not_just_abandoned() {
    worker::use_worker(env!("CARGO_BIN_EXE_pufa").into());
    let mut rows = vec![vec![C::T("姓名"), C::T("村(社区)"), C::T("身份证号")]];
    for i in 0..50_000 {
        rows.push(vec![C::S(format!("人员{i}")), C::T("龙凤村"), C::E]);
    }
    let file = xlsx("花名册", &rows, &[]);
    // With its normal limits the file reads, in a worker, in `whole`.
    let started = Instant::now();
    let grids = worker::read_isolated("花名册.xlsx", &file, Limits::default())
        .await
        .expect("reads");
    let whole = started.elapsed();
    assert_eq!(grids[0].rows.len(), 50_001);
    // Given a tenth of that, the read is refused and its worker is gone well before it
    // could have finished on its own.
    let limits = Limits {
        wall: whole / 10,
        ..Limits::default()
    };
    let result = worker::read_isolated("花名册.xlsx", &file, limits).await;
    assert_eq!(result.err(), Some(ReadError::Unreadable));
    let deadline = Instant::now() + whole / 3;
    while live_workers() > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        live_workers(),
        0,
        "the timed-out worker was killed (a whole read takes {whole:?})"
    );
}

/// The fuzzer's deterministic slice: the runnable target itself, on a fixed seed.
#[test]
fn the_fuzzers_slice_answers_every_input() {
    let exe = std::env::current_exe().expect("test binary");
    // target/<profile>/deps/app-… → target/<profile>/examples/fuzz_reader
    let fuzzer = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("examples").join("fuzz_reader"))
        .expect("examples folder");
    assert!(
        fuzzer.exists(),
        "{} is built by cargo test (examples are)",
        fuzzer.display()
    );
    let output = std::process::Command::new(&fuzzer)
        .args(["--iterations", "400", "--seed", "20261206"])
        .output()
        .expect("fuzzer runs");
    let summary: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("one JSON summary line");
    assert_eq!(summary["inputs"], 400);
    assert_eq!(summary["panics"], serde_json::json!([]), "{summary}");
    assert_eq!(
        summary["refused_not_in_chinese"],
        serde_json::json!([]),
        "{summary}"
    );
    let answered = summary["read"].as_u64().unwrap_or(0)
        + summary["refused_in_chinese"].as_u64().unwrap_or(0)
        + summary["children_lost"]
            .as_array()
            .map_or(0, |l| l.len() as u64);
    assert_eq!(answered, 400, "{summary}");
    assert!(
        summary["refused_in_chinese"].as_u64().unwrap_or(0) > 0
            && summary["read"].as_u64().unwrap_or(0) > 0,
        "the slice both reads and refuses: {summary}"
    );
}
