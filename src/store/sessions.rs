//! Law-study sessions (学法活动), as far as other parts of pufa need them.

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{on_pool, Db, StoreResult};
use crate::domain::dates::Period;

/// A session in a list: enough to name it and link to it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SessionBrief {
    pub id: i64,
    pub kind: String,
    pub topic: String,
    pub starts_at: NaiveDateTime,
    pub status: String,
    pub hours_credited: f64,
}

/// Whether the session exists and, for a clerk (`confined` = their village), belongs to
/// their village.
pub async fn exists_visible(db: &Db, id: i64, confined: Option<i64>) -> StoreResult<bool> {
    const SQL: &str =
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND ($2 IS NULL OR village_id = $2))";
    let found = on_pool!(db, pool => sqlx::query_scalar::<_, bool>(SQL).bind(id).bind(confined).fetch_one(pool).await?);
    Ok(found)
}

/// The sessions a village held or planned in the period, oldest first.
pub async fn for_village(
    db: &Db,
    village_id: i64,
    period: Period,
) -> StoreResult<Vec<SessionBrief>> {
    const SQL: &str = "SELECT id, kind, topic, starts_at, status, hours_credited FROM sessions \
         WHERE village_id = $1 AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at, id";
    let rows = on_pool!(db, pool => sqlx::query_as::<_, SessionBrief>(SQL)
        .bind(village_id)
        .bind(period.from.and_time(chrono::NaiveTime::MIN))
        .bind(period.to.and_time(chrono::NaiveTime::MIN))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}
