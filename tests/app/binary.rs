//! The built binary as a township installs it: copied into an empty folder, with nothing
//! beside it but the data folder it makes. Demo, server, log-in, dashboard, export.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `pufa ARGS` run in `dir` with a clean environment (no database or template settings).
fn pufa_in(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(dir.join("pufa"));
    command
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("PUFA_DATA_DIR")
        .env_remove("PUFA_TEMPLATE_DIR")
        .env("TMPDIR", dir.join("tmp"));
    command
}

pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn cookies(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, value)| value.split(';').next().map(str::to_string))
            .collect()
    }
}

/// One HTTP/1.1 request over a fresh connection.
pub(crate) fn request(
    port: u16,
    method: &str,
    path: &str,
    cookies: &[String],
    form: Option<&str>,
) -> Reply {
    let body = form.map(|f| ("application/x-www-form-urlencoded", f.as_bytes()));
    request_with_body(port, method, path, cookies, body)
}

/// One HTTP/1.1 request with a body of the given content type.
pub(crate) fn request_with_body(
    port: u16,
    method: &str,
    path: &str,
    cookies: &[String],
    body: Option<(&str, &[u8])>,
) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("server listens");
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if !cookies.is_empty() {
        head.push_str(&format!("Cookie: {}\r\n", cookies.join("; ")));
    }
    if let Some((content_type, bytes)) = body {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
        head.push_str(&format!("Content-Length: {}\r\n", bytes.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    if let Some((_, bytes)) = body {
        stream.write_all(bytes).unwrap();
    }
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let header_text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = header_text.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                    .unwrap();
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[line_end + 2..line_end + 2 + size]);
            rest = &rest[line_end + 2 + size + 2..];
        }
        body = decoded;
    }
    Reply {
        status,
        headers,
        body,
    }
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn copied_binary_runs_demo_server_dashboard_and_export_from_an_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_pufa"), dir.path().join("pufa")).unwrap();
    std::fs::create_dir(dir.path().join("tmp")).unwrap();

    let demo = pufa_in(dir.path(), &["demo"]).output().unwrap();
    let out = String::from_utf8_lossy(&demo.stdout).into_owned();
    assert!(
        demo.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    assert!(!out.contains("cargo"), "{out}");
    let password = out
        .split("密码：")
        .nth(1)
        .and_then(|rest| rest.split('（').next())
        .expect("the demo prints the admin's password")
        .trim()
        .to_string();
    let mut entries: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["data", "pufa", "tmp"]);
    // The data folder holds personal data and the secret key: the owner's only.
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let data = dir.path().join("data");
        assert_eq!(mode(&data), 0o700);
        for entry in std::fs::read_dir(&data).unwrap() {
            let path = entry.unwrap().path();
            assert_eq!(
                mode(&path) & 0o077,
                0,
                "{} is readable by others",
                path.display()
            );
        }
    }

    let port = free_port();
    let server = Server(
        pufa_in(dir.path(), &[])
            .env("ROCKET_PORT", port.to_string())
            .env("ROCKET_ADDRESS", "127.0.0.1")
            .env("PUFA_LOG", "json")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("tmp/server.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let login = request(port, "GET", "/login", &[], None);
    assert_eq!(login.status, 200);
    let page = login.text();
    let token = page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the form carries a CSRF token")
        .to_string();
    let mut cookies = login.cookies();
    let form = format!(
        "csrf_token={}&username=admin&password={}",
        url::form_urlencoded::byte_serialize(token.as_bytes()).collect::<String>(),
        url::form_urlencoded::byte_serialize(password.as_bytes()).collect::<String>()
    );
    let logged_in = request(port, "POST", "/login", &cookies, Some(&form));
    assert_eq!(logged_in.status, 303, "{}", logged_in.text());
    cookies.extend(logged_in.cookies());

    let dashboard = request(port, "GET", "/?year=2021", &cookies, None);
    assert_eq!(dashboard.status, 200);
    let html = dashboard.text();
    assert!(html.contains("龙凤村") && html.contains("<svg"), "{html}");

    let workbook = request(port, "GET", "/export?year=2021", &cookies, None);
    assert_eq!(workbook.status, 200);
    assert!(workbook.body.starts_with(b"PK"), "an xlsx (zip) file");

    let link = request(port, "GET", "/checkin/7.secretsignature", &[], None);
    assert_eq!(link.status, 404);

    // A backup while the server runs; a restore is refused until it stops.
    let backup = pufa_in(dir.path(), &["backup", "-o", "data/backups/manual.db"])
        .output()
        .unwrap();
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert!(String::from_utf8_lossy(&backup.stdout).contains("已备份到"));
    let refused = pufa_in(dir.path(), &["restore", "data/backups/manual.db"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("正在使用"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // An upgrade replaces the binary on disk while the server runs: uploads are still read
    // by a worker of the running version, not by whatever is at its path now.
    std::fs::remove_file(dir.path().join("pufa")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let stand_in = dir.path().join("pufa");
        std::fs::write(&stand_in, "#!/bin/sh\nexit 7\n").unwrap();
        std::fs::set_permissions(&stand_in, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let form_page = request(port, "GET", "/imports", &cookies, None).text();
    let token = form_page
        .split("name=\"csrf_token\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the upload form carries a CSRF token")
        .to_string();
    let boundary = "----pufa-binary-test";
    let csv = "姓名,村(社区),身份类别\n张三,龙凤村,法律明白人\n";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"名册.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let uploaded = request_with_body(
        port,
        "POST",
        "/imports",
        &cookies,
        Some((&content_type, body.as_bytes())),
    );
    assert_eq!(uploaded.status, 303, "{}", uploaded.text());
    let preview_path = uploaded
        .headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("location"))
        .map(|(_, v)| v.clone())
        .expect("the upload redirects to its preview");
    let preview = request(port, "GET", &preview_path, &cookies, None).text();
    assert!(
        preview.contains("确认导入") && !preview.contains("无法读取"),
        "{preview}"
    );
    // The upgrade done: the new binary is in place for the commands below.
    std::fs::remove_file(dir.path().join("pufa")).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_pufa"), dir.path().join("pufa")).unwrap();
    // SIGTERM: the server stops by itself, promptly and cleanly.
    let mut server = server;
    let terminated = Command::new("kill")
        .args(["-TERM", &server.0.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "stopped by SIGTERM with {status}");
    // Its connections closed, SQLite folded the write-ahead log into the database file.
    let wal = dir.path().join("data/pufa.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "a stopped server left {} behind",
        wal.display()
    );

    // The request log: one JSON line per request, with the user once logged in, and no
    // check-in token.
    let log = std::fs::read_to_string(dir.path().join("tmp/server.log")).unwrap();
    let requests: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["target"] == "pufa::request")
        .collect();
    assert!(requests.len() >= 5, "{log}");
    let line_of = |path: &str| {
        requests
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("no log line for {path}: {log}"))
    };
    assert_eq!(line_of("/login")["status"], 200);
    assert_eq!(line_of("/login")["method"], "GET");
    assert!(line_of("/?year=2021")["user"].as_i64().is_some(), "{log}");
    assert!(line_of("/?year=2021")["ms"].as_f64().is_some(), "{log}");
    assert_eq!(line_of("/checkin/…")["status"], 404);
    assert!(!log.contains("secretsignature"), "{log}");
    assert!(
        !log.contains("Matched:") && !log.contains("Routes:"),
        "only the request log's line per request: {log}"
    );
    // A start and a stop are news, not warnings.
    assert!(
        log.contains("服务已启动") && log.contains("正在停止服务"),
        "{log}"
    );
    let warnings: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("\"level\":\"WARN\""))
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let restored = pufa_in(dir.path(), &["restore", "data/backups/manual.db"])
        .output()
        .unwrap();
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    assert!(String::from_utf8_lossy(&restored.stdout).contains("名人员"));
}

/// Commands print what the user needs and nothing else, on both databases (PostgreSQL
/// answers each start's migration check with a NOTICE).
async fn commands_print_no_database_chatter(backend: crate::helpers::Backend) {
    let Some(app) = crate::helpers::TestApp::spawn(backend, "no_chatter").await else {
        return;
    };
    for _ in 0..2 {
        let output = Command::new(env!("CARGO_BIN_EXE_pufa"))
            .args(["--database-url", &app.url, "summary", "--year", "2021"])
            .env_remove("RUST_LOG")
            .output()
            .unwrap();
        assert!(output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.trim().is_empty(), "{stderr}");
        assert!(String::from_utf8_lossy(&output.stdout).contains("2021年"));
    }
}

crate::helpers::on_both_backends!(commands_print_no_database_chatter);
