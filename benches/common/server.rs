//! The real server for the benches: started from the `pufa` binary (or PUFA_BENCH_BIN's
//! build) on a free port, and spoken to over plain HTTP/1.1 with a logged-in session.
// Each bench uses its own part of this.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The password the benches give their users.
pub const PASSWORD: &str = "bench-password-1";

pub fn binary() -> PathBuf {
    std::env::var_os("PUFA_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_pufa")))
}

pub fn http(port: u16, request: &str) -> (u16, Vec<(String, String)>, String) {
    http_bytes(port, request.as_bytes())
}

/// Sends a request (head and body) and reads the whole answer: status, headers, body.
pub fn http_bytes(port: u16, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.write_all(request).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("receive");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

pub fn cookies_of(headers: &[(String, String)], jar: &mut Vec<String>) {
    for (name, value) in headers {
        if name == "set-cookie" {
            let pair = value.split(';').next().unwrap_or_default().to_string();
            let key = pair.split('=').next().unwrap_or_default().to_string();
            jar.retain(|c| !c.starts_with(&format!("{key}=")));
            jar.push(pair);
        }
    }
}

/// Logs in as `username`; returns the Cookie header value of the session.
pub fn login(port: u16, username: &str) -> String {
    let mut jar = Vec::new();
    let (_, headers, body) = http(
        port,
        "GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    cookies_of(&headers, &mut jar);
    let token = csrf_token(&body);
    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrf_token", token.as_str()),
            ("username", username),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .finish();
    let request = format!(
        "POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nCookie: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        jar.join("; "),
        form.len()
    );
    let (status, headers, _) = http(port, &request);
    assert_eq!(status, 303, "login of {username}");
    cookies_of(&headers, &mut jar);
    jar.join("; ")
}

pub struct Server {
    pub child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

pub fn serve(url: &str, data_dir: &Path) -> Server {
    let port = free_port();
    let child = Command::new(binary())
        .args(["--database-url", url, "serve"])
        .env("PUFA_DATA_DIR", data_dir)
        .env("ROCKET_ADDRESS", "127.0.0.1")
        .env("ROCKET_PORT", port.to_string())
        .env("ROCKET_LOG_LEVEL", "off")
        .env("RUST_LOG", "error")
        .env_remove("DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pufa serve");
    let server = Server { child, port };
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(60), "server start");
        std::thread::sleep(Duration::from_millis(100));
    }
    server
}

/// The value of the hidden CSRF field on a page.
pub fn csrf_token(body: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = body.find(marker).expect("a CSRF token on the page") + marker.len();
    body[start..start + body[start..].find('"').expect("token end")].to_string()
}

/// The peak resident memory of a process so far (VmHWM), in kB.
pub fn peak_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
