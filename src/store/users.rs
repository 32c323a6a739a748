//! Login accounts. A person in the registry is not a user: most attendees never log in.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::audit::{self, AuditEntry};
use super::settings;
use super::{now, on_pool, Db, StoreResult};
use crate::domain::Role;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    #[serde(skip)]
    pub password_hash: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

/// What an admin may set on an account; the audit log records it (never the hash).
#[derive(Debug, Clone, Serialize)]
pub struct UserDraft {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub village_id: Option<i64>,
}

const SELECT: &str =
    "SELECT u.id, u.username, u.display_name, u.password_hash, u.role, u.village_id, \
     v.name AS village_name, u.active, u.created_at, u.last_login_at \
     FROM users u LEFT JOIN villages v ON v.id = u.village_id";

pub async fn list(db: &Db) -> StoreResult<Vec<User>> {
    let sql = format!("{SELECT} ORDER BY u.active DESC, u.role, u.username");
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, User>(&sql)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<User>> {
    let sql = format!("{SELECT} WHERE u.id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, User>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// The account of this user name, whatever the letter case it is typed in.
pub async fn find_by_username(db: &Db, username: &str) -> StoreResult<Option<User>> {
    let sql = format!("{SELECT} WHERE lower(u.username) = lower($1)");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, User>(&sql)
        .bind(username)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM users";
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .fetch_one(pool)
        .await?);
    Ok(n)
}

pub async fn create(
    db: &Db,
    draft: &UserDraft,
    password_hash: &str,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO users (username, display_name, password_hash, role, village_id, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING id";
    let mut tx = db.begin().await?;
    let id: i64 = on_pool!(Tx(&mut tx), |conn| sqlx::query_scalar(SQL)
        .bind(&draft.username)
        .bind(&draft.display_name)
        .bind(password_hash)
        .bind(draft.role.code())
        .bind(draft.village_id)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "create", "user", id).after(draft),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates the first admin and burns the setup token in one transaction, so that a
/// setup link works exactly once even when two people click it at the same time.
pub async fn create_first_admin(
    db: &Db,
    draft: &UserDraft,
    password_hash: &str,
    token: &str,
) -> StoreResult<Option<i64>> {
    const BURN: &str = "DELETE FROM settings WHERE key = $1 AND value = $2";
    const INSERT: &str = "INSERT INTO users (username, display_name, password_hash, role, village_id, active, created_at) \
         VALUES ($1, $2, $3, 'admin', NULL, TRUE, $4) RETURNING id";
    let mut tx = db.begin().await?;
    let id: i64 = on_pool!(Tx(&mut tx), |conn| {
        let burned = sqlx::query(BURN)
            .bind(settings::SETUP_TOKEN)
            .bind(token)
            .execute(&mut *conn)
            .await?;
        if burned.rows_affected() != 1 {
            return Ok(None);
        }
        sqlx::query_scalar(INSERT)
            .bind(&draft.username)
            .bind(&draft.display_name)
            .bind(password_hash)
            .bind(now())
            .fetch_one(&mut *conn)
            .await?
    });
    audit::record(
        &mut tx,
        &AuditEntry::new(Some(id), "create", "user", id).after(draft),
    )
    .await?;
    tx.commit().await?;
    Ok(Some(id))
}

pub async fn update(
    db: &Db,
    before: &User,
    draft: &UserDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE users SET display_name = $1, role = $2, village_id = $3 WHERE id = $4";
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL)
            .bind(&draft.display_name)
            .bind(draft.role.code())
            .bind(draft.village_id)
            .bind(before.id)
            .execute(&mut *conn)
            .await?;
    });
    let entry = AuditEntry::new(by_user, "update", "user", before.id)
        .before(before)
        .after(draft);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the password and ends every session of the account (a stolen session does not
/// outlive the new password). `action` is what the audit log calls it.
pub async fn set_password(
    db: &Db,
    id: i64,
    password_hash: &str,
    by_user: Option<i64>,
    action: &'static str,
) -> StoreResult<()> {
    const SQL: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL)
            .bind(password_hash)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    super::login_sessions::delete_of_user(&mut tx, id).await?;
    audit::record(&mut tx, &AuditEntry::new(by_user, action, "user", id)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_active(db: &Db, id: i64, active: bool, by_user: Option<i64>) -> StoreResult<()> {
    const SQL: &str = "UPDATE users SET active = $1 WHERE id = $2";
    let action = if active { "activate" } else { "deactivate" };
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL)
            .bind(active)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    if !active {
        super::login_sessions::delete_of_user(&mut tx, id).await?;
    }
    audit::record(&mut tx, &AuditEntry::new(by_user, action, "user", id)).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn count_active_admins(db: &Db) -> StoreResult<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = TRUE";
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .fetch_one(pool)
        .await?);
    Ok(n)
}

/// Whether the user has a calendar-feed token (only its SHA-256 is kept).
pub async fn has_calendar_token(db: &Db, id: i64) -> StoreResult<bool> {
    const SQL: &str = "SELECT calendar_token FROM users WHERE id = $1";
    let token = on_pool!(db, |pool| sqlx::query_scalar::<_, Option<String>>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(token.flatten().is_some())
}

/// Gives the user a new calendar-feed token, kept as its SHA-256 (the old feed address
/// stops working).
pub async fn set_calendar_token(db: &Db, id: i64, token_hash: &str) -> StoreResult<()> {
    const SQL: &str = "UPDATE users SET calendar_token = $1 WHERE id = $2";
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL)
            .bind(token_hash)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    let entry = AuditEntry::new(Some(id), "rotate_calendar_token", "user", id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Tokens stored before only their hash was kept: (user id, token).
pub async fn unhashed_calendar_tokens(db: &Db) -> StoreResult<Vec<(i64, String)>> {
    // A SHA-256 in hex is 64 characters; the tokens themselves are 32.
    const SQL: &str = "SELECT id, calendar_token FROM users \
         WHERE calendar_token IS NOT NULL AND LENGTH(calendar_token) <> 64";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, (i64, String)>(SQL)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Replaces a stored token by its hash (no audit entry: nothing changes for the user).
pub async fn store_calendar_token_hash(db: &Db, id: i64, token_hash: &str) -> StoreResult<()> {
    const SQL: &str = "UPDATE users SET calendar_token = $1 WHERE id = $2";
    on_pool!(db, |pool| {
        sqlx::query(SQL)
            .bind(token_hash)
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// The active user whose calendar-feed token has this SHA-256.
pub async fn find_by_calendar_token_hash(db: &Db, token_hash: &str) -> StoreResult<Option<User>> {
    let sql = format!("{SELECT} WHERE u.calendar_token = $1 AND u.active = TRUE");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, User>(&sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}
