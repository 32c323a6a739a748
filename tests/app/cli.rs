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
        assert!(
            pufa::services::auth::login(&db, "wenshu", "clerk-password-1")
                .await
                .is_ok()
        );
        assert!(pufa::store::users::find_by_username(&db, "admin")
            .await
            .unwrap()
            .is_none());
    });
}
