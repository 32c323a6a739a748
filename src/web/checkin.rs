//! QR self check-in (no login) and the personal calendar feed (.ics).

use chrono::{Local, Utc};
use qrcode::render::svg;
use qrcode::QrCode;
use rocket::http::ContentType;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::response::{Flash, Redirect};
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::forms::{ActionForm, CheckinForm};
use super::guards::CurrentUser;
use super::render::Chrome;
use crate::services::attendance::{self, CheckinOutcome, Window};
use crate::services::sessions::scoped_sessions;
use crate::services::{Actor, ServiceError};
use crate::store::sessions::{Session, SessionFilter};
use crate::store::{sessions, users, Db};

/// The address people reach this server at: PUFA_PUBLIC_URL, else the request's Host.
pub struct BaseUrl(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for BaseUrl {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let configured = std::env::var("PUFA_PUBLIC_URL")
            .ok()
            .filter(|u| !u.is_empty());
        let base = configured.unwrap_or_else(|| {
            let host = req.headers().get_one("Host").unwrap_or("localhost:8000");
            format!("http://{host}")
        });
        Outcome::Success(BaseUrl(base.trim_end_matches('/').to_string()))
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

fn checkin_page(
    chrome: &Chrome,
    s: &Session,
    window: &Window,
    result: Option<(&str, String)>,
    name: &str,
) -> Template {
    chrome.render(
        "checkin",
        json!({
            "session": { "topic": s.topic, "kind": s.kind.label_zh(),
                "when": format!("{} {}—{}", s.starts_at.format("%Y-%m-%d"), s.starts_at.format("%H:%M"), s.ends_at.format("%H:%M")),
                "venue": s.venue, "token": s.checkin_token },
            "open": *window == Window::Open,
            "window_message": window_message(window),
            "result": result.map(|(kind, message)| json!({ "kind": kind, "message": message })),
            "name": name,
        }),
    )
}

#[rocket::get("/checkin/<token>")]
async fn checkin_form(token: &str, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let s = sessions::find_by_checkin_token(db, token)
        .await?
        .ok_or(AppError(ServiceError::NotFound))?;
    let window = attendance::checkin_window(&s, Local::now().naive_local());
    Ok(checkin_page(&chrome, &s, &window, None, ""))
}

#[rocket::post("/checkin/<token>", data = "<form>")]
async fn checkin(
    token: &str,
    form: CsrfForm<CheckinForm>,
    client: ClientAddress,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let form = form.0;
    let s = sessions::find_by_checkin_token(db, token)
        .await?
        .ok_or(AppError(ServiceError::NotFound))?;
    let now = Local::now().naive_local();
    let outcome = attendance::self_checkin(
        db,
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
        CheckinOutcome::NotOpen(w) => ("error", window_message(&w), ""),
    };
    Ok(checkin_page(
        &chrome,
        &s,
        &window,
        Some((kind, message)),
        keep_name,
    ))
}

/// RFC 5545 text: backslash, comma, semicolon and line breaks escaped.
fn ics_text(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
        .replace('\r', "")
}

/// Lines longer than 75 octets are folded (continued with a leading space).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
    out
}

pub fn ics_calendar(sessions: &[Session], base: &str) -> String {
    let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut out = String::new();
    for line in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//pufa//普法台账//ZH",
        "CALSCALE:GREGORIAN",
        "X-WR-CALNAME:学法活动",
    ] {
        out.push_str(&fold(line));
    }
    for s in sessions {
        let lines = [
            "BEGIN:VEVENT".to_string(),
            format!("UID:session-{}@pufa", s.id),
            format!("DTSTAMP:{stamp}"),
            // Local (floating) time: the township's own clock.
            format!("DTSTART:{}", s.starts_at.format("%Y%m%dT%H%M%S")),
            format!("DTEND:{}", s.ends_at.format("%Y%m%dT%H%M%S")),
            format!(
                "SUMMARY:{}",
                ics_text(&format!("【{}】{}", s.kind.label_zh(), s.topic))
            ),
            format!("LOCATION:{}", ics_text(&s.venue)),
            format!(
                "DESCRIPTION:{}",
                ics_text(&format!(
                    "主讲人：{}\n{}/sessions/{}",
                    s.speaker, base, s.id
                ))
            ),
            format!(
                "STATUS:{}",
                if s.status == crate::domain::session::SessionStatus::Cancelled {
                    "CANCELLED"
                } else {
                    "CONFIRMED"
                }
            ),
            "END:VEVENT".to_string(),
        ];
        for line in lines {
            out.push_str(&fold(&line));
        }
    }
    out.push_str(&fold("END:VCALENDAR"));
    out
}

/// The sessions visible to the token's owner, from a year back to a year ahead.
#[rocket::get("/sessions.ics?<token>")]
async fn feed(token: &str, db: &State<Db>, base: BaseUrl) -> AppResult<(ContentType, String)> {
    if token.len() < 20 {
        return Err(AppError(ServiceError::NotFound));
    }
    let user = users::find_by_calendar_token(db, token)
        .await?
        .ok_or(AppError(ServiceError::NotFound))?;
    let actor = Actor::from_user(&user);
    let today = Local::now().date_naive();
    let from = today - chrono::Duration::days(366);
    let to = today + chrono::Duration::days(366);
    let filter = scoped_sessions(
        &actor,
        SessionFilter {
            period: crate::domain::dates::Period { from, to },
            village_id: None,
            include_township: false,
            kind: None,
            status: None,
        },
    );
    let rows = sessions::list(db, &filter, 5000, 0).await?;
    Ok((ContentType::Calendar, ics_calendar(&rows, &base.0)))
}

/// Makes (or replaces) the user's calendar-feed address.
#[rocket::post("/sessions/feed-token", data = "<_form>")]
async fn rotate_feed_token(
    me: CurrentUser,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    users::set_calendar_token(db, me.user.id, &crate::random_token()).await?;
    Ok(Flash::success(
        Redirect::to("/sessions"),
        "已生成新的日历订阅地址，旧地址已失效。",
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![checkin_form, checkin, feed, rotate_feed_token]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ics_text_is_escaped_and_long_lines_folded() {
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let long = format!("SUMMARY:{}", "学".repeat(40));
        let folded = fold(&long);
        assert!(folded.split("\r\n").all(|l| l.len() <= 75));
        assert_eq!(folded.replace("\r\n ", "").trim_end(), long);
    }

    #[test]
    fn qr_code_is_svg() {
        let svg = qr_svg("http://example.org/checkin/abc");
        assert!(svg.contains("<svg") && svg.contains("</svg>"));
    }
}
