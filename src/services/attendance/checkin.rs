//! QR self check-in: when it is open, and matching a name and the last four phone
//! digits to an invitee (slowed down after repeated wrong answers).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;

use crate::domain::session::{AttendanceStatus, SessionStatus};
use crate::domain::text::non_empty;
use crate::services::passwords::token_hash;
use crate::services::signing::TokenKey;
use crate::services::throttle::{self, Limit};
use crate::services::{ServiceError, ServiceResult};
use crate::store::attendance::{self, Mark};
use crate::store::sessions::Session;
use crate::store::{rate_limits, sessions, Db};

/// Check-in opens this long before the start.
pub const CHECKIN_OPENS_BEFORE_MINUTES: i64 = 30;

/// What a check-in link's signature is for (a signature for anything else is refused).
const CHECKIN_PURPOSE: &str = "checkin";

/// The token of a meeting's check-in link (QR code): `{id}.{signature}`, the signature of
/// the meeting's stored seed under the server key. The database keeps only the seed, so a
/// copy of it does not hold the links.
pub fn checkin_link_token(key: &TokenKey, session: &Session) -> String {
    let signature = key.sign(
        CHECKIN_PURPOSE,
        &seed_data(session.id, &session.checkin_token),
    );
    format!("{}.{signature}", session.id)
}

fn seed_data(id: i64, seed: &str) -> String {
    format!("{id}:{seed}")
}

/// The session a check-in link (QR code) points to. A link printed by a version that
/// kept the token in full still works: its hash is kept (`legacy:`).
pub async fn checkin_session(db: &Db, key: &TokenKey, token: &str) -> ServiceResult<Session> {
    if let Some((id, signature)) = token.split_once('.') {
        if let Ok(id) = id.parse::<i64>() {
            if let Some(session) = sessions::get(db, id).await? {
                if key.verify(
                    CHECKIN_PURPOSE,
                    &seed_data(session.id, &session.checkin_token),
                    signature,
                ) {
                    return Ok(session);
                }
            }
            return Err(ServiceError::NotFound);
        }
    }
    if token.len() < 16 {
        return Err(ServiceError::NotFound);
    }
    sessions::find_by_checkin_token(db, &format!("{LEGACY_PREFIX}{}", token_hash(token)))
        .await?
        .ok_or(ServiceError::NotFound)
}

/// How a check-in token kept in full by an earlier version is kept now: its hash.
const LEGACY_PREFIX: &str = "legacy:";

/// Check-in tokens an earlier version kept in full are replaced by their hash (at start);
/// the links printed from them keep working. Returns how many were replaced.
pub async fn hash_stored_checkin_tokens(db: &Db) -> ServiceResult<usize> {
    let stored = sessions::unhashed_checkin_tokens(db).await?;
    for (id, token) in &stored {
        sessions::set_checkin_seed(db, *id, &format!("{LEGACY_PREFIX}{}", token_hash(token)))
            .await?;
    }
    Ok(stored.len())
}

/// Whether self check-in is open at `now` (local time), and if not, why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Window {
    Open,
    NotYet(NaiveDateTime),
    Closed,
    Cancelled,
}

pub fn checkin_window(session: &Session, now: NaiveDateTime) -> Window {
    if session.status == SessionStatus::Cancelled {
        return Window::Cancelled;
    }
    let opens = session.starts_at - Duration::minutes(CHECKIN_OPENS_BEFORE_MINUTES);
    let closes = session
        .checkin_reopened_until
        .map_or(session.ends_at, |r| r.max(session.ends_at));
    if now < opens {
        Window::NotYet(opens)
    } else if now > closes {
        Window::Closed
    } else {
        Window::Open
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckinOutcome {
    Marked(String),
    AlreadyMarked(String),
    /// Name and phone digits did not match; the same answer whether or not the name exists.
    NoMatch,
    Throttled(i64),
    /// The organizer already marked the person (请假, 缺席): their mark stands.
    MarkedByOrganizer(String, AttendanceStatus),
    /// Too many wrong answers for this meeting: check-in waits for the organizer.
    Paused,
    NotOpen(Window),
}

/// Wrong answers from one address: five free, forgotten after ten minutes.
const ADDRESS_LIMIT: Limit = Limit {
    free: 5,
    forget_after: Duration::minutes(10),
};
/// Wrong answers for one meeting from all addresses before check-in pauses.
pub const SESSION_FAILURE_CAP: i64 = 60;

/// Whether check-in paused after too many wrong answers (the session page says so).
pub async fn checkin_paused(db: &Db, session_id: i64) -> ServiceResult<bool> {
    Ok(rate_limits::get(db, &session_failures_key(session_id))
        .await?
        .is_some_and(|f| f.failures >= SESSION_FAILURE_CAP))
}

/// The counter of one meeting's wrong answers (cleared when the organizer reopens).
pub fn session_failures_key(session_id: i64) -> String {
    format!("checkin-total:{session_id}")
}

/// A self check-in from the QR page: name + last four digits of the phone.
#[allow(clippy::too_many_arguments)]
pub async fn self_checkin(
    db: &Db,
    key: &TokenKey,
    token: &str,
    name: &str,
    phone_last4: &str,
    client: &str,
    now_local: NaiveDateTime,
    now_utc: DateTime<Utc>,
) -> ServiceResult<CheckinOutcome> {
    let session = checkin_session(db, key, token).await?;
    let window = checkin_window(&session, now_local);
    if window != Window::Open {
        return Ok(CheckinOutcome::NotOpen(window));
    }
    // Per session and address: wrong answers for one meeting do not lock out another; an
    // attendee who mistyped a few times behind the venue's shared address is let in again
    // after ten minutes. Per session in all: guessing from many addresses closes check-in
    // until the organizer reopens it.
    let address_key = format!("checkin:{}:{client}", session.id);
    let total_key = session_failures_key(session.id);
    if let Some(total) = rate_limits::get(db, &total_key).await? {
        if total.failures >= SESSION_FAILURE_CAP {
            return Ok(CheckinOutcome::Paused);
        }
    }
    if let Err(wait) = throttle::admit(db, &address_key, ADDRESS_LIMIT, now_utc).await? {
        return Ok(CheckinOutcome::Throttled(wait));
    }
    let name = non_empty(name).unwrap_or_default();
    let digits: String = crate::domain::text::to_half_width(phone_last4)
        .trim()
        .to_string();
    let candidates =
        attendance::checkin_candidates(db, session.id, session.village_id, &name).await?;
    let matched = candidates.into_iter().find(|(_, phone)| {
        digits.len() == 4
            && phone
                .as_deref()
                .and_then(|p| crate::domain::Phone::parse(p).ok())
                .is_some_and(|p| p.last_four() == digits)
    });
    let Some((person_id, _)) = matched else {
        rate_limits::record_failure(db, &total_key, now_utc).await?;
        return Ok(CheckinOutcome::NoMatch);
    };
    rate_limits::clear(db, &address_key).await?;
    let mark = Mark {
        person_id,
        status: AttendanceStatus::Present,
        hours_credited: session.hours_credited,
    };
    // Only where there is no mark yet: an organizer's 请假 or 缺席 stands.
    match attendance::check_in(db, session.id, &mark, client).await? {
        None => {}
        Some(status) if status.attended() => return Ok(CheckinOutcome::AlreadyMarked(name)),
        Some(status) => return Ok(CheckinOutcome::MarkedByOrganizer(name, status)),
    }
    Ok(CheckinOutcome::Marked(name))
}
