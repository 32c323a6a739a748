//! The personal calendar feed: a secret address per user that lists the sessions that
//! user sees, for phone and desktop calendars.

use chrono::{Duration, NaiveDate};

use super::{scoped_sessions, Session, SessionFilter};
use crate::domain::dates::Period;
use crate::domain::VillageScope;
use crate::services::passwords::token_hash;
use crate::services::{Actor, ServiceError, ServiceResult};
use crate::store::{sessions, users, Db};

/// Tokens are random and long; anything shorter is not worth a lookup.
const MIN_TOKEN_LEN: usize = 20;

/// The sessions visible to the token's owner, from a year back to a year ahead.
pub async fn feed_sessions(db: &Db, token: &str, today: NaiveDate) -> ServiceResult<Vec<Session>> {
    if token.len() < MIN_TOKEN_LEN {
        return Err(ServiceError::NotFound);
    }
    let user = users::find_by_calendar_token_hash(db, &token_hash(token))
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

/// Whether the actor has a feed address (it is shown only when made: only its hash is kept).
pub async fn has_feed_token(db: &Db, actor: &Actor) -> ServiceResult<bool> {
    match actor.user_id {
        Some(id) => Ok(users::has_calendar_token(db, id).await?),
        None => Ok(false),
    }
}

/// Makes (or replaces) the actor's feed token and returns it, to be shown this once; the
/// old address stops working.
pub async fn rotate_feed_token(db: &Db, actor: &Actor) -> ServiceResult<String> {
    let id = actor.user_id.ok_or(ServiceError::Forbidden)?;
    let token = crate::random_token();
    users::set_calendar_token(db, id, &token_hash(&token)).await?;
    Ok(token)
}

/// Feed tokens kept in full by earlier versions are replaced by their hash (at start); the
/// addresses people subscribed to keep working.
pub async fn hash_stored_feed_tokens(db: &Db) -> ServiceResult<usize> {
    let stored = users::unhashed_calendar_tokens(db).await?;
    for (id, token) in &stored {
        users::store_calendar_token_hash(db, *id, &token_hash(token)).await?;
    }
    Ok(stored.len())
}
