//! The `pufa` binary: administration commands and start-up failures.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `pufa --database-url URL ARGS…` (ARGS split at spaces) with `stdin` as input.
fn pufa(url: &str, args: &str, stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pufa"))
        .args(["--database-url", url])
        .args(args.split_whitespace())
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pufa");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("pufa finishes")
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_string)
        .collect()
}

/// The first line the command wrote to standard error, after checking it failed with 1.
fn failure_line(output: &Output) -> String {
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    lines[0].clone()
}

#[test]
fn unsupported_or_unreachable_database_stops_with_one_line() {
    let line = failure_line(&pufa("mysql://localhost/pufa", "serve", ""));
    assert!(line.contains("不支持的数据库地址"));

    let line = failure_line(&pufa(
        "postgres://postgres:secret@127.0.0.1:1/none",
        "migrate",
        "",
    ));
    assert!(line.contains("无法连接数据库"));
    assert!(!line.contains("secret"), "the password is not repeated");
}

#[test]
fn village_and_user_commands_create_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let output = pufa(&url, "village add 龙凤社区 --kind community", "");
    assert!(output.status.success(), "{:?}", stderr_lines(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("已添加村(社区)“龙凤社区”"));

    let output = pufa(
        &url,
        "user add --username wenshu --role clerk --village 龙凤社区 --display-name 王文书",
        "clerk-password-1\n",
    );
    assert!(output.status.success(), "{:?}", stderr_lines(&output));

    let add_clerk = "user add --username x2 --role clerk --village 不存在村";
    let line = failure_line(&pufa(&url, add_clerk, "clerk-password-1\n"));
    assert!(line.contains("没有名为“不存在村”的村(社区)"));

    let line = failure_line(&pufa(
        &url,
        "user add --username admin --role admin",
        "short\n",
    ));
    assert!(line.contains("密码至少8位"));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let db = pufa::store::Db::connect_and_migrate(&url).await.unwrap();
        let user = pufa::store::users::find_by_username(&db, "wenshu")
            .await
            .unwrap()
            .expect("created");
        assert_eq!(user.role, pufa::domain::Role::Clerk);
        assert_eq!(user.village_name.as_deref(), Some("龙凤社区"));
        assert_eq!(user.display_name, "王文书");
        assert!(pufa::services::auth::login(
            &db,
            &pufa::services::auth::LoginAttempt {
                username: "wenshu",
                password: "clerk-password-1",
                address: "127.0.0.1",
                user_agent: "",
            }
        )
        .await
        .is_ok());
        assert!(pufa::store::users::find_by_username(&db, "admin")
            .await
            .unwrap()
            .is_none());
    });
}

#[test]
fn import_command_exit_codes_and_json() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    assert!(pufa(&url, "village add 龙凤村", "").status.success());
    assert!(pufa(
        &url,
        "user add --username admin --role admin",
        "普法password1\n"
    )
    .status
    .success());
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "发放日期,村(社区),资料名称,数量\n2021-03-05,龙凤村,民法典手册,200\n2021-03-06,龙凤村,宪法读本,100份\n").unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "发放日期,村(社区),资料名称,数量\n2021-03-05,龙凤村,民法典手册,200\n2021-13-06,龙凤村,宪法读本,很多\n").unwrap();
    let unreadable = dir.path().join("broken.xlsx");
    std::fs::write(&unreadable, b"PK\x03\x04 broken").unwrap();
    let json = |output: &Output| -> serde_json::Value {
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
            panic!(
                "one JSON object: {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    };

    // A dry run of a clean file: exit 0, nothing written.
    let dry = pufa(
        &url,
        &format!("import {} --dry-run --json", good.display()),
        "",
    );
    assert_eq!(dry.status.code(), Some(0), "{:?}", stderr_lines(&dry));
    let report = json(&dry);
    assert_eq!(report["kind"], "materials");
    assert_eq!(
        (report["created"].as_u64(), report["rows_total"].as_u64()),
        (Some(2), Some(2))
    );
    assert!(report["batch_id"].is_null());
    assert_eq!(report["sheets"][0]["header_row"], 1);

    // Rejected rows: exit 1, nothing written, errors name the cells.
    let rejected = pufa(&url, &format!("import {} --json", bad.display()), "");
    assert_eq!(rejected.status.code(), Some(1));
    let report = json(&rejected);
    assert_eq!(report["rejected"], 1);
    assert!(report["batch_id"].is_null());
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        (
            errors[0]["row"].as_u64(),
            errors[0]["column"].as_str(),
            errors[0]["header"].as_str()
        ),
        (Some(3), Some("A"), Some("发放日期"))
    );
    for key in ["sheet", "row", "column", "header", "value", "message"] {
        assert!(errors[0].get(key).is_some(), "{key}");
    }

    // The file cannot be read at all: exit 2.
    let broken = pufa(&url, &format!("import {} --json", unreadable.display()), "");
    assert_eq!(broken.status.code(), Some(2));
    assert!(json(&broken)["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("文件"));
    let missing = pufa(&url, "import /no/such/file.xlsx", "");
    assert_eq!(missing.status.code(), Some(2));

    // Committing: exit 0 with a batch id; --allow-partial imports the good rows.
    let committed = pufa(
        &url,
        &format!("import {} --json --as admin", good.display()),
        "",
    );
    assert_eq!(
        committed.status.code(),
        Some(0),
        "{:?}",
        stderr_lines(&committed)
    );
    let batch = json(&committed)["batch_id"].as_i64().expect("batch id");
    let partial = pufa(
        &url,
        &format!("import {} --allow-partial", bad.display()),
        "",
    );
    assert_eq!(
        partial.status.code(),
        Some(0),
        "{:?}",
        stderr_lines(&partial)
    );
    // The same file again: nothing changes, says so.
    let again = pufa(&url, &format!("import {}", good.display()), "");
    assert_eq!(again.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&again.stdout).contains(&format!("批次 #{batch}")));
    // Undo.
    let undo = pufa(&url, &format!("import undo {batch}"), "");
    assert_eq!(undo.status.code(), Some(0), "{:?}", stderr_lines(&undo));
    let twice = pufa(&url, &format!("import undo {batch}"), "");
    assert_eq!(twice.status.code(), Some(1));
}

#[test]
fn demo_then_summary_json_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let demo_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("imports/demo");
    let demo = pufa(&url, &format!("demo --dir {}", demo_dir.display()), "");
    assert!(demo.status.success(), "{:?}", stderr_lines(&demo));
    assert!(String::from_utf8_lossy(&demo.stdout).contains("已创建管理员账号 admin"));
    let output = pufa(&url, "summary --year 2021 --json", "");
    assert!(output.status.success(), "{:?}", stderr_lines(&output));
    let s: serde_json::Value = serde_json::from_slice(&output.stdout).expect("one JSON object");
    for key in [
        "year",
        "villages",
        "sessions_held",
        "sessions_by_kind",
        "attendance_person_times",
        "attendance_rate",
        "study_hours_total",
        "people_below_requirement",
        "legal_literates_on_roster",
        "legal_literates_new",
        "villages_below_literate_target",
        "materials_distributed",
        "materials_by_village",
        "materials_by_month",
        "activities_held",
        "activity_audience_total",
        "activities_by_place",
        "audience_by_group",
        "villages_without_activity_by_quarter",
    ] {
        assert!(s.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        (s["year"].as_i64(), s["villages"].as_i64()),
        (Some(2021), Some(10))
    );
    assert_eq!(s["sessions_by_kind"]["committee"], 3);
    assert_eq!(s["legal_literates_new"], 12);
    assert!(s["materials_distributed"].as_i64().unwrap() >= 2000);
    assert_eq!(s["materials_by_month"].as_object().unwrap().len(), 12);
    let village = pufa(&url, "summary --year 2021 --village 龙凤村 --json", "");
    let v: serde_json::Value = serde_json::from_slice(&village.stdout).unwrap();
    assert_eq!(v["villages"], 1);
    assert!(
        v["materials_distributed"].as_i64().unwrap() < s["materials_distributed"].as_i64().unwrap()
    );
    let file = dir.path().join("年度汇总.xlsx");
    let export = pufa(
        &url,
        &format!("export --year 2021 -o {}", file.display()),
        "",
    );
    assert!(export.status.success(), "{:?}", stderr_lines(&export));
    assert!(std::fs::metadata(&file).unwrap().len() > 5000);
    // A second demo into the same database is refused with one line.
    let again = pufa(&url, &format!("demo --dir {}", demo_dir.display()), "");
    assert!(failure_line(&again).contains("已有村(社区)数据"));
}

#[test]
fn output_into_a_closed_pipe_is_dropped_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pipe.db").display());
    let csv = dir.path().join("签到.csv");
    let mut rows = String::from("日期,学习内容,姓名,村(社区),签到情况\n");
    for i in 0..200 {
        rows.push_str(&format!("2021-03-05,学习宪法,张{i},龙凤村,出勤\n"));
    }
    std::fs::write(&csv, rows).unwrap();
    assert!(pufa(&url, "village add 龙凤村", "").status.success());
    // `pufa import … | head -1`: the reader is gone before the command prints its lines
    // (closed before the command starts, so it cannot print into the pipe first).
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_pufa"))
        .args(["--database-url", &url, "import"])
        .arg(&csv)
        .arg("--dry-run")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("pufa finishes");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    // The dry run's own verdict (no errors: 0), not a crash's.
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

#[test]
fn an_error_into_a_closed_pipe_keeps_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("pipe.db").display());
    // `pufa import missing.xlsx 2>&1 | head -0`: nobody reads the error line.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_pufa"))
        .args(["--database-url", &url, "import"])
        .arg(dir.path().join("没有这个文件.xlsx"))
        .env_remove("DATABASE_URL")
        .stderr(Stdio::from(writer))
        .output()
        .expect("pufa finishes");
    // 2: the file cannot be read (a panic would be 101).
    assert_eq!(output.status.code(), Some(2));
}

/// Every PUFA_* setting the README and the deployment files name is one the program reads
/// (a renamed setting would otherwise leave the documentation quietly wrong).
#[test]
fn documented_settings_exist() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut source = String::new();
    let mut pending = vec![root.join("src")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                source.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut checked = 0;
    for doc in ["README.md", "deploy/pufa.service", "deploy/nginx-pufa.conf"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (at, _) in text.match_indices("PUFA_") {
            let name: String = text[at..]
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name.starts_with("PUFA_TEST_")
                || name.starts_with("PUFA_REQUIRE_")
                || name.starts_with("PUFA_BENCH_")
                || name == "PUFA_SCREENSHOT_DIR"
            {
                continue;
            }
            assert!(
                source.contains(&format!("\"{name}\"")),
                "{doc} names {name}, which the program does not read"
            );
            checked += 1;
        }
    }
    assert!(checked > 10);
}
