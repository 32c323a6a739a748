//! Key/value settings of the installation (setup token, yearly targets, …).

use super::{on_pool, Db, StoreResult};

pub const SETUP_TOKEN: &str = "setup_token";

pub async fn get(db: &Db, key: &str) -> StoreResult<Option<String>> {
    const SQL: &str = "SELECT value FROM settings WHERE key = $1";
    let value = on_pool!(db, |pool| sqlx::query_scalar::<_, String>(SQL)
        .bind(key)
        .fetch_optional(pool)
        .await?);
    Ok(value)
}

pub async fn set(db: &Db, key: &str, value: &str) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value";
    on_pool!(db, |pool| {
        sqlx::query(SQL).bind(key).bind(value).execute(pool).await?;
    });
    Ok(())
}
