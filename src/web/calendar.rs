//! The personal calendar feed (/sessions.ics): a secret address per user that phone and
//! desktop calendars subscribe to, and the button that makes or replaces it.

use chrono::{Local, Utc};
use rocket::http::ContentType;
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::checkin::BaseUrl;
use super::csrf::CsrfForm;
use super::error::AppResult;
use super::forms::ActionForm;
use super::guards::CurrentUser;
use super::render::Chrome;
use crate::domain::session::SessionStatus;
use crate::services::sessions::{self, Session};
use crate::services::Db;

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

fn ics_calendar(sessions: &[Session], base: &str) -> String {
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
                if s.status == SessionStatus::Cancelled {
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
    let rows = sessions::feed_sessions(db, token, Local::now().date_naive()).await?;
    Ok((ContentType::Calendar, ics_calendar(&rows, &base.0)))
}

#[derive(Serialize)]
struct FeedPage {
    url: String,
    /// An address existed before (it stops working now).
    replaced: bool,
    /// The address only works on the server itself: a phone could not subscribe.
    local: bool,
}

/// Makes (or replaces) the user's calendar-feed address and shows it this once: only its
/// hash is kept.
#[rocket::post("/sessions/feed-token", data = "<_form>")]
async fn rotate_feed_token(
    me: CurrentUser,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
    base: BaseUrl,
    chrome: Chrome,
) -> AppResult<Template> {
    let replaced = sessions::has_feed_token(db, &me.actor).await?;
    let token = sessions::rotate_feed_token(db, &me.actor).await?;
    let page = FeedPage {
        url: format!("{}/sessions.ics?token={token}", base.0),
        replaced,
        local: base.is_local(),
    };
    Ok(chrome.render("sessions/feed", page))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![feed, rotate_feed_token]
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
}
