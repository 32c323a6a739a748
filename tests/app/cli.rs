//! The `pufa` binary: administration commands and start-up failures.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn pufa(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pufa"))
        .args(args)
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

#[test]
fn unsupported_or_unreachable_database_stops_with_one_line() {
    let output = pufa(&["--database-url", "mysql://localhost/pufa", "serve"], "");
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("不支持的数据库地址"));

    let output = pufa(
        &[
            "--database-url",
            "postgres://postgres:secret@127.0.0.1:1/none",
            "migrate",
        ],
        "",
    );
    assert_eq!(output.status.code(), Some(1));
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("无法连接数据库"));
    assert!(!lines[0].contains("secret"), "the password is not repeated");
}

#[test]
fn village_and_user_commands_create_what_they_say() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("cli.db").display());
    let output = pufa(
        &[
            "--database-url",
            &url,
            "village",
            "add",
            "龙凤社区",
            "--kind",
            "community",
        ],
        "",
    );
    assert!(output.status.success(), "{:?}", stderr_lines(&output));
    assert!(String::from_utf8_lossy(&output.stdout).contains("已添加村(社区)“龙凤社区”"));

    let output = pufa(
        &[
            "--database-url",
            &url,
            "user",
            "add",
            "--username",
            "wenshu",
            "--role",
            "clerk",
            "--village",
            "龙凤社区",
            "--display-name",
            "王文书",
        ],
        "clerk-password-1\n",
    );
    assert!(output.status.success(), "{:?}", stderr_lines(&output));

    let output = pufa(
        &[
            "--database-url",
            &url,
            "user",
            "add",
            "--username",
            "x2",
            "--role",
            "clerk",
            "--village",
            "不存在村",
        ],
        "clerk-password-1\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_lines(&output)[0].contains("没有名为“不存在村”的村(社区)"));

    let output = pufa(
        &[
            "--database-url",
            &url,
            "user",
            "add",
            "--username",
            "admin",
            "--role",
            "admin",
        ],
        "short\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr_lines(&output)[0].contains("密码至少8位"));

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
