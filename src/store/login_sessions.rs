//! Log-in sessions on the server. The browser holds a random token; this table holds its
//! SHA-256 (a copy of the database does not log anyone in), the account, and when and from
//! where it was used.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{on_pool, Db, StoreResult, Tx};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct LoginSession {
    pub id: i64,
    pub user_id: i64,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub address: String,
    pub user_agent: String,
}

const COLUMNS: &str = "id, user_id, created_at, last_seen_at, address, user_agent";

/// What a new session records besides its token.
pub struct NewSession<'a> {
    pub user_id: i64,
    pub at: DateTime<Utc>,
    pub address: &'a str,
    pub user_agent: &'a str,
}

/// What a log-in writes besides the session: the throttle key to clear and the audit
/// entry, in the same transaction (one commit per log-in).
pub struct LogIn<'a> {
    pub cleared_key: &'a str,
    pub entry: &'a super::audit::AuditEntry,
}

/// Starts a session (forgetting expired ones: idle since `seen_before` or begun before
/// `created_before`), and for a log-in records it, all in one transaction.
pub async fn create(
    db: &Db,
    token_hash: &str,
    session: &NewSession<'_>,
    expired: (DateTime<Utc>, DateTime<Utc>),
    log_in: Option<LogIn<'_>>,
) -> StoreResult<i64> {
    const EXPIRED: &str = "DELETE FROM login_sessions WHERE last_seen_at < $1 OR created_at < $2";
    const SQL: &str = "INSERT INTO login_sessions (token_hash, user_id, created_at, last_seen_at, address, user_agent) \
         VALUES ($1, $2, $3, $3, $4, $5) RETURNING id";
    const LAST_LOGIN: &str = "UPDATE users SET last_login_at = $1 WHERE id = $2";
    const CLEAR: &str = "DELETE FROM rate_limits WHERE key = $1";
    let mut tx = db.begin().await?;
    let id = on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(EXPIRED)
            .bind(expired.0)
            .bind(expired.1)
            .execute(&mut *conn)
            .await?;
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(token_hash)
            .bind(session.user_id)
            .bind(session.at)
            .bind(session.address)
            .bind(session.user_agent)
            .fetch_one(&mut *conn)
            .await?
    });
    if let Some(log_in) = log_in {
        on_pool!(Tx(&mut tx), |conn| {
            sqlx::query(LAST_LOGIN)
                .bind(session.at)
                .bind(session.user_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(CLEAR)
                .bind(log_in.cleared_key)
                .execute(&mut *conn)
                .await?;
        });
        super::audit::record(&mut tx, log_in.entry).await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn by_token_hash(db: &Db, token_hash: &str) -> StoreResult<Option<LoginSession>> {
    let sql = format!("SELECT {COLUMNS} FROM login_sessions WHERE token_hash = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, LoginSession>(&sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// The account's sessions, the latest used first.
pub async fn of_user(db: &Db, user_id: i64) -> StoreResult<Vec<LoginSession>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM login_sessions WHERE user_id = $1 ORDER BY last_seen_at DESC, id DESC"
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, LoginSession>(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn touch(db: &Db, id: i64, at: DateTime<Utc>) -> StoreResult<()> {
    const SQL: &str = "UPDATE login_sessions SET last_seen_at = $1 WHERE id = $2";
    on_pool!(db, |pool| {
        sqlx::query(SQL).bind(at).bind(id).execute(pool).await?;
    });
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM login_sessions WHERE id = $1";
    on_pool!(db, |pool| {
        sqlx::query(SQL).bind(id).execute(pool).await?;
    });
    Ok(())
}

/// Ends every session of the account (in the transaction of the change that requires it:
/// a password change or reset, a deactivation). Returns how many there were.
pub async fn delete_of_user(tx: &mut Tx, user_id: i64) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM login_sessions WHERE user_id = $1";
    let n = on_pool!(Tx(tx), |conn| sqlx::query(SQL)
        .bind(user_id)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    Ok(n)
}

/// Forgets sessions idle since `seen_before` or begun before `created_before`
/// (housekeeping); returns how many.
pub async fn forget_expired(
    db: &Db,
    seen_before: DateTime<Utc>,
    created_before: DateTime<Utc>,
) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM login_sessions WHERE last_seen_at < $1 OR created_at < $2";
    let n = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(seen_before)
        .bind(created_before)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n)
}
