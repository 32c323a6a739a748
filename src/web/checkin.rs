//! QR self check-in (no login): the page the session's QR code opens.

use chrono::{Local, Utc};
use qrcode::render::svg;
use qrcode::QrCode;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::csrf::CsrfForm;
use super::error::AppResult;
use super::forms::CheckinForm;
use super::render::Chrome;
use crate::services::attendance::{self, CheckinOutcome, Window};
use crate::services::sessions::Session;
use crate::services::signing::TokenKey;
use crate::services::Db;

/// The address people reach this server at: PUFA_PUBLIC_URL, else the request's Host.
pub struct BaseUrl(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BaseUrl {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let base = super::guards::public_url().unwrap_or_else(|| {
            let host = req.headers().get_one("Host").unwrap_or("localhost:8000");
            format!("http://{host}")
        });
        Outcome::Success(BaseUrl(base.trim_end_matches('/').to_string()))
    }
}

impl BaseUrl {
    /// Whether the address only works on the server itself (127.0.0.1, localhost), so a
    /// phone in the room could not open a QR code made from it.
    pub fn is_local(&self) -> bool {
        let Ok(url) = url::Url::parse(&self.0) else {
            return false;
        };
        match url.host() {
            Some(url::Host::Domain(name)) => name == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }
}

/// Who is checking in, for slowing down repeated wrong answers.
pub struct ClientAddress(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ClientAddress {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let ip = req
            .client_ip()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|| "unknown".into());
        Outcome::Success(ClientAddress(ip))
    }
}

/// The QR code of a link as inline SVG, drawn here (no outside service).
pub fn qr_svg(url: &str) -> String {
    match QrCode::new(url.as_bytes()) {
        Ok(code) => code
            .render::<svg::Color>()
            .min_dimensions(180, 180)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

fn window_message(window: &Window) -> String {
    match window {
        Window::Open => String::new(),
        Window::NotYet(opens) => format!(
            "签到尚未开始，将于 {} 开放。",
            opens.format("%Y年%m月%d日 %H:%M")
        ),
        Window::Closed => "签到已结束。如需补签，请联系组织者。".into(),
        Window::Cancelled => "该学法活动已取消。".into(),
    }
}

/// The session as the check-in page names it.
#[derive(Serialize)]
struct CheckinSession {
    topic: String,
    kind: &'static str,
    when: String,
    venue: String,
    token: String,
}

/// What the last attempt came to: "success" or "error", and the words.
#[derive(Serialize)]
struct CheckinResult {
    kind: &'static str,
    message: String,
}

#[derive(Serialize)]
struct CheckinPage {
    session: CheckinSession,
    open: bool,
    window_message: String,
    result: Option<CheckinResult>,
    name: String,
}

fn checkin_page(
    chrome: &Chrome,
    s: &Session,
    token: &str,
    window: &Window,
    result: Option<CheckinResult>,
    name: &str,
) -> Template {
    let session = CheckinSession {
        topic: s.topic.clone(),
        kind: s.kind.label_zh(),
        when: format!(
            "{} {}—{}",
            s.starts_at.format("%Y-%m-%d"),
            s.starts_at.format("%H:%M"),
            s.ends_at.format("%H:%M")
        ),
        venue: s.venue.clone(),
        token: token.to_string(),
    };
    let view = CheckinPage {
        session,
        open: *window == Window::Open,
        window_message: window_message(window),
        result,
        name: name.to_string(),
    };
    chrome.render("checkin", view)
}

#[rocket::get("/checkin/<token>")]
async fn checkin_form(
    token: &str,
    db: &State<Db>,
    key: &State<TokenKey>,
    chrome: Chrome,
) -> AppResult<Template> {
    let s = attendance::checkin_session(db, key, token).await?;
    let window = attendance::checkin_window(&s, Local::now().naive_local());
    Ok(checkin_page(&chrome, &s, token, &window, None, ""))
}

#[rocket::post("/checkin/<token>", data = "<form>")]
async fn checkin(
    token: &str,
    form: CsrfForm<CheckinForm>,
    client: ClientAddress,
    db: &State<Db>,
    key: &State<TokenKey>,
    chrome: Chrome,
) -> AppResult<Template> {
    let form = form.0;
    let s = attendance::checkin_session(db, key, token).await?;
    let now = Local::now().naive_local();
    let outcome = attendance::self_checkin(
        db,
        key,
        token,
        &form.name,
        &form.phone_last4,
        &client.0,
        now,
        Utc::now(),
    )
    .await?;
    let window = attendance::checkin_window(&s, now);
    let (kind, message, keep_name) = match outcome {
        CheckinOutcome::Marked(name) => ("success", format!("{name}，签到成功！"), ""),
        CheckinOutcome::AlreadyMarked(name) => {
            ("success", format!("{name}，您已签到，无需重复签到。"), "")
        }
        CheckinOutcome::NoMatch => (
            "error",
            "姓名或手机号后四位不正确，请核对后重试。如仍无法签到，请联系组织者。".to_string(),
            form.name.as_str(),
        ),
        CheckinOutcome::Throttled(wait) => (
            "error",
            format!("尝试次数过多，请 {wait} 秒后再试。"),
            form.name.as_str(),
        ),
        CheckinOutcome::MarkedByOrganizer(name, status) => (
            "error",
            format!(
                "{name}，组织者已将您登记为“{}”，扫码签到不会更改。如有误，请当场告诉组织者。",
                status.label_zh()
            ),
            "",
        ),
        CheckinOutcome::Paused => (
            "error",
            "本场签到错误次数过多，扫码签到已暂停。请联系组织者重新开放签到或当场登记。"
                .to_string(),
            "",
        ),
        CheckinOutcome::NotOpen(w) => ("error", window_message(&w), ""),
    };
    let result = CheckinResult { kind, message };
    Ok(checkin_page(
        &chrome,
        &s,
        token,
        &window,
        Some(result),
        keep_name,
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![checkin_form, checkin]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_code_is_svg() {
        let svg = qr_svg("http://example.org/checkin/abc");
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
