//! One log line per request: method, path (with tokens elided), status, duration and the
//! user's id. Written through `tracing` (target `pufa::request`), so `PUFA_LOG=json` makes
//! them JSON lines like every other log line, and `RUST_LOG=pufa::request=off` silences them.

use std::time::Instant;

use rocket::fairing::{Fairing, Info, Kind};
use rocket::{Data, Request, Response};

pub struct RequestLog;

/// When the request arrived (kept in the request's local cache).
struct Arrived(Instant);

#[rocket::async_trait]
impl Fairing for RequestLog {
    fn info(&self) -> Info {
        Info {
            name: "request log",
            kind: Kind::Request | Kind::Response,
        }
    }

    async fn on_request(&self, req: &mut Request<'_>, _: &mut Data<'_>) {
        req.local_cache(|| Arrived(Instant::now()));
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let arrived = req.local_cache(|| Arrived(Instant::now())).0;
        let micros = arrived.elapsed().as_micros() as u64;
        let path = loggable_path(
            req.uri().path().as_str(),
            req.uri().query().map(|q| q.as_str()),
        );
        tracing::info!(
            target: "pufa::request",
            method = %req.method(),
            path = %path,
            status = res.status().code,
            ms = micros as f64 / 1000.0,
            user = super::guards::known_user_id(req),
        );
    }
}

/// The request's path and query as logged: the token of a check-in link and the value of
/// any `token` parameter (setup link, calendar feed) are replaced by `…`, so the log does
/// not hold a working link.
pub fn loggable_path(path: &str, query: Option<&str>) -> String {
    let mut out = match path.strip_prefix("/checkin/") {
        Some(rest) if !rest.is_empty() => "/checkin/…".to_string(),
        _ => path.to_string(),
    };
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if name.to_ascii_lowercase().contains("token") => {
                    format!("{name}=…")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&parts.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_not_logged() {
        assert_eq!(loggable_path("/people", None), "/people");
        assert_eq!(loggable_path("/checkin/12.abcdef", None), "/checkin/…");
        assert_eq!(
            loggable_path("/setup", Some("token=secret&x=1")),
            "/setup?token=…&x=1"
        );
        assert_eq!(
            loggable_path("/sessions.ics", Some("token=secret")),
            "/sessions.ics?token=…"
        );
        assert_eq!(loggable_path("/", Some("year=2021")), "/?year=2021");
    }
}
