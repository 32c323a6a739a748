//! Slowing down repeated wrong answers (log-in passwords, check-in phone digits): counters
//! in the database, shared by every app instance, counted in one statement each so that a
//! parallel burst is counted in full.

use chrono::{DateTime, Duration, Utc};

use crate::store::{rate_limits, Db, StoreResult};

const FIRST_WAIT_SECONDS: i64 = 30;
const LONGEST_WAIT_SECONDS: i64 = 15 * 60;

/// How a counter is kept: the free tries, and when old failures are forgotten.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub free: i64,
    pub forget_after: Duration,
}

/// Seconds still to wait before the next try after `failures` (the first `free` cost
/// nothing), if any: 30 s, doubling, at most 15 minutes.
pub fn wait_after_failures(
    free: i64,
    failures: i64,
    last_failed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<i64> {
    if failures < free {
        return None;
    }
    let doublings = (failures - free).min(10) as u32;
    let wait = (FIRST_WAIT_SECONDS << doublings).min(LONGEST_WAIT_SECONDS);
    let remaining = (last_failed_at + Duration::seconds(wait) - now).num_seconds();
    (remaining > 0).then_some(remaining)
}

/// The failures counted against `key`, forgetting old ones.
pub async fn recent_failures(
    db: &Db,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> StoreResult<Option<rate_limits::Failures>> {
    match rate_limits::get(db, key).await? {
        Some(f) if now - f.last_failed_at > limit.forget_after => {
            rate_limits::clear(db, key).await?;
            Ok(None)
        }
        other => Ok(other),
    }
}

/// `Err(seconds)` while `key` must wait; the failures so far otherwise.
pub async fn check(
    db: &Db,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> StoreResult<Result<i64, i64>> {
    let before = recent_failures(db, key, limit, now).await?;
    Ok(match before {
        Some(f) => match wait_after_failures(limit.free, f.failures, f.last_failed_at, now) {
            Some(wait) => Err(wait),
            None => Ok(f.failures),
        },
        None => Ok(0),
    })
}

/// Counts the try against `key` before the answer is checked (clear the key when it is
/// right), so that every try of a parallel burst is counted, the refused ones too. The try
/// may go on while the free tries last, or when the wait after the earlier failures is over
/// and nobody else tried since it looked; otherwise `Err(seconds to wait)`.
pub async fn admit(
    db: &Db,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> StoreResult<Result<(), i64>> {
    let before = recent_failures(db, key, limit, now).await?;
    let count = rate_limits::record_failure(db, key, now).await?;
    if count <= limit.free {
        return Ok(Ok(()));
    }
    let waited = before.is_some_and(|f| {
        f.failures + 1 == count
            && wait_after_failures(limit.free, f.failures, f.last_failed_at, now).is_none()
    });
    if waited {
        return Ok(Ok(()));
    }
    let wait = wait_after_failures(limit.free, count - 1, now, now).unwrap_or(FIRST_WAIT_SECONDS);
    Ok(Err(wait))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_grows_after_the_free_tries() {
        let t = Utc::now();
        assert_eq!(wait_after_failures(5, 4, t, t), None);
        assert_eq!(wait_after_failures(5, 5, t, t), Some(30));
        assert_eq!(wait_after_failures(5, 6, t, t), Some(60));
        assert_eq!(wait_after_failures(5, 30, t, t), Some(15 * 60));
        assert_eq!(
            wait_after_failures(5, 5, t, t + Duration::seconds(31)),
            None
        );
        assert_eq!(wait_after_failures(20, 19, t, t), None);
    }
}
