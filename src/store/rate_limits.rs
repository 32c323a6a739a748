//! Failed-attempt counters shared by all app instances (login, self check-in).

use chrono::{DateTime, Utc};

use super::{on_pool, Db, StoreResult};

#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Failures {
    pub failures: i64,
    pub last_failed_at: DateTime<Utc>,
}

pub async fn get(db: &Db, key: &str) -> StoreResult<Option<Failures>> {
    const SQL: &str = "SELECT failures, last_failed_at FROM rate_limits WHERE key = $1";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Failures>(SQL)
        .bind(key)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// Counts one more failure against `key`, in one statement (parallel requests are all
/// counted); returns the count with this one.
pub async fn record_failure(db: &Db, key: &str, at: DateTime<Utc>) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO rate_limits (key, failures, last_failed_at) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET failures = rate_limits.failures + 1, last_failed_at = excluded.last_failed_at \
         RETURNING failures";
    let count = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .bind(key)
        .bind(at)
        .fetch_one(pool)
        .await?);
    Ok(count)
}

pub async fn clear(db: &Db, key: &str) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM rate_limits WHERE key = $1";
    on_pool!(db, |pool| {
        sqlx::query(SQL).bind(key).execute(pool).await?;
    });
    Ok(())
}

/// Forgets counters not touched since `before` (housekeeping); returns how many.
pub async fn forget_before(db: &Db, before: DateTime<Utc>) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM rate_limits WHERE last_failed_at < $1";
    let n = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n)
}
