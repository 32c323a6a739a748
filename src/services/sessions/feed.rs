//! The personal calendar feed: a secret address per user that lists the sessions that
//! user sees, for phone and desktop calendars.

use chrono::{Duration, NaiveDate};

use super::{scoped_sessions, Session, SessionFilter};
use crate::domain::dates::Period;
use crate::domain::VillageScope;
use crate::services::{Actor, ServiceError, ServiceResult};
use crate::store::{sessions, users, Db};

/// Tokens are random and long; anything shorter is not worth a lookup.
const MIN_TOKEN_LEN: usize = 20;

/// The sessions visible to the token's owner, from a year back to a year ahead.
pub async fn feed_sessions(db: &Db, token: &str, today: NaiveDate) -> ServiceResult<Vec<Session>> {
    if token.len() < MIN_TOKEN_LEN {
        return Err(ServiceError::NotFound);
    }
    let user = users::find_by_calendar_token(db, token)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let actor = Actor::from_user(&user)?;
    let filter = scoped_sessions(
        &actor,
        SessionFilter {
            period: Period {
                from: today - Duration::days(366),
                to: today + Duration::days(366),
            },
            village: VillageScope::Any,
            include_township: false,
            kind: None,
            status: None,
        },
    );
    Ok(sessions::list(db, &filter, 5000, 0).await?)
}

/// The actor's current feed token, if one was made.
pub async fn feed_token(db: &Db, actor: &Actor) -> ServiceResult<Option<String>> {
    match actor.user_id {
        Some(id) => Ok(users::calendar_token(db, id).await?),
        None => Ok(None),
    }
}

/// Makes (or replaces) the actor's feed token; the old address stops working.
pub async fn rotate_feed_token(db: &Db, actor: &Actor) -> ServiceResult<()> {
    let id = actor.user_id.ok_or(ServiceError::Forbidden)?;
    Ok(users::set_calendar_token(db, id, &crate::random_token()).await?)
}
