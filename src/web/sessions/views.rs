//! How a session and its parts look on the pages: the typed values the session,
//! attendance and invite templates read.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::services::attendance::GridRow;

use crate::services::sessions::{can_manage_session, Conflict, Person, Session};
use crate::services::Actor;

use super::today;

/// A session as every session page shows it.
#[derive(Serialize)]
pub struct SessionView {
    id: i64,
    number: String,
    series_id: Option<i64>,
    kind: &'static str,
    kind_code: &'static str,
    topic: String,
    date: String,
    start: String,
    end: String,
    venue: String,
    speaker: String,
    organizer: String,
    village_id: Option<i64>,
    village_name: String,
    hours: f64,
    status: &'static str,
    status_code: &'static str,
    /// Planned, but already over: attendance was never taken (已过期未考勤).
    overdue: bool,
    notes: String,
    can_manage: bool,
}

impl SessionView {
    pub fn of(s: &Session, actor: &Actor) -> SessionView {
        SessionView {
            id: s.id,
            number: s.number(),
            series_id: s.series_id,
            kind: s.kind.label_zh(),
            kind_code: s.kind.code(),
            topic: s.topic.clone(),
            date: s.starts_at.date().to_string(),
            start: s.starts_at.format("%H:%M").to_string(),
            end: s.ends_at.format("%H:%M").to_string(),
            venue: s.venue.clone(),
            speaker: s.speaker.clone(),
            organizer: s.organizer.clone(),
            village_id: s.village_id,
            village_name: s.village_name.as_deref().unwrap_or("镇级").to_string(),
            hours: s.hours_credited,
            status: s.status.label_zh(),
            status_code: s.status.code(),
            overdue: s.status == crate::domain::session::SessionStatus::Planned
                && s.ends_at < chrono::Local::now().naive_local(),
            notes: s.notes.clone(),
            can_manage: can_manage_session(actor, s.village_id),
        }
    }
}

/// One session in a calendar day.
#[derive(Serialize)]
pub struct CalendarEntry {
    id: i64,
    time: String,
    topic: String,
    kind: &'static str,
    status: &'static str,
}

/// One day of the calendar month view.
#[derive(Serialize)]
pub struct CalendarDay {
    day: u32,
    in_month: bool,
    today: bool,
    sessions: Vec<CalendarEntry>,
}

impl CalendarDay {
    pub fn of(day: NaiveDate, month: u32, sessions: &[Session]) -> CalendarDay {
        CalendarDay {
            day: day.day(),
            in_month: day.month() == month,
            today: day == today(),
            sessions: sessions
                .iter()
                .filter(|s| s.starts_at.date() == day)
                .map(|s| CalendarEntry {
                    id: s.id,
                    time: s.starts_at.format("%H:%M").to_string(),
                    topic: s.topic.clone(),
                    kind: s.kind.label_zh(),
                    status: s.status.code(),
                })
                .collect(),
        }
    }
}

/// One line of the attendance grid.
#[derive(Serialize)]
pub struct GridLine {
    person_id: i64,
    name: String,
    village_name: String,
    post: String,
    invited: bool,
    status: String,
    hours: String,
    self_checkin: bool,
    /// What is wrong with this line as posted (the grid is shown again with it).
    error: Option<String>,
}

impl GridLine {
    /// The line as the organizer posted it, with its message, when the grid was refused.
    pub fn with_posted(mut self, status: &str, hours: &str, error: Option<String>) -> GridLine {
        self.status = status.to_string();
        self.hours = hours.to_string();
        self.error = error;
        self
    }

    pub fn of(r: &GridRow) -> GridLine {
        GridLine {
            person_id: r.person_id,
            name: r.name.clone(),
            village_name: r.village_name.as_deref().unwrap_or("镇机关").to_string(),
            post: r.post.clone(),
            invited: r.invited,
            status: r.status.clone().unwrap_or_default(),
            hours: r.hours_credited.map(|h| h.to_string()).unwrap_or_default(),
            self_checkin: r.source.as_deref() == Some("self_checkin"),
            error: None,
        }
    }
}

/// A registry person offered as a walk-in or invitee.
#[derive(Serialize)]
pub struct PersonChoice {
    id: i64,
    name: String,
    post: String,
    village_name: String,
    /// Only on the invite page: already on the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    invited: Option<bool>,
}

impl PersonChoice {
    pub fn of(p: &Person) -> PersonChoice {
        PersonChoice {
            id: p.id,
            name: p.name.clone(),
            post: p.post.clone(),
            village_name: p.village_name.as_deref().unwrap_or("镇机关").to_string(),
            invited: None,
        }
    }

    pub fn id(&self) -> i64 {
        self.id
    }

    pub fn invitable(p: &Person, invited: bool) -> PersonChoice {
        PersonChoice {
            invited: Some(invited),
            ..PersonChoice::of(p)
        }
    }
}

/// A session that clashes with the one being saved.
#[derive(Serialize)]
pub struct ConflictView {
    id: Option<i64>,
    topic: String,
    when: String,
    reasons: String,
}

impl ConflictView {
    /// On the session form: the day with the start and end times.
    pub fn on_form(c: &Conflict) -> ConflictView {
        ConflictView {
            when: format!(
                "{}—{}",
                c.starts_at.format("%Y-%m-%d %H:%M"),
                c.ends_at.format("%H:%M")
            ),
            ..ConflictView::on_invite(c)
        }
    }

    /// On the invite page: the day and start time.
    pub fn on_invite(c: &Conflict) -> ConflictView {
        ConflictView {
            id: c.session_id,
            topic: c.topic.clone(),
            when: c.starts_at.format("%Y-%m-%d %H:%M").to_string(),
            reasons: c.reasons.join("，"),
        }
    }
}
