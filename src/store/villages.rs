//! Villages and communities of the township.

use serde::Serialize;

use super::audit::{self, AuditEntry};
use super::{now, on_pool, Db, StoreResult};
use crate::domain::VillageKind;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Village {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: VillageKind,
    pub code: Option<String>,
    pub display_order: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct VillageDraft {
    pub name: String,
    pub kind: VillageKind,
    pub code: Option<String>,
    pub display_order: i64,
}

const COLUMNS: &str = "id, name, kind, code, display_order";

pub async fn list(db: &Db) -> StoreResult<Vec<Village>> {
    let sql = format!("SELECT {COLUMNS} FROM villages ORDER BY display_order, id");
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Village>(&sql)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<Village>> {
    let sql = format!("SELECT {COLUMNS} FROM villages WHERE id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Village>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

pub async fn find_by_name(db: &Db, name: &str) -> StoreResult<Option<Village>> {
    let sql = format!("SELECT {COLUMNS} FROM villages WHERE name = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Village>(&sql)
        .bind(name)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

pub async fn create(db: &Db, draft: &VillageDraft, by_user: Option<i64>) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO villages (name, kind, code, display_order, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let mut tx = db.begin().await?;
    let id = on_pool!(Tx(&mut tx), |conn| {
        let id: i64 = sqlx::query_scalar(SQL)
            .bind(&draft.name)
            .bind(draft.kind.code())
            .bind(draft.code.as_deref())
            .bind(draft.display_order)
            .bind(now())
            .fetch_one(&mut *conn)
            .await?;
        id
    });
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "create", "village", id).after(draft),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    db: &Db,
    before: &Village,
    draft: &VillageDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE villages SET name = $1, kind = $2, code = $3, display_order = $4 WHERE id = $5";
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL)
            .bind(&draft.name)
            .bind(draft.kind.code())
            .bind(draft.code.as_deref())
            .bind(draft.display_order)
            .bind(before.id)
            .execute(&mut *conn)
            .await?;
    });
    let entry = AuditEntry::new(by_user, "update", "village", before.id)
        .before(before)
        .after(draft);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether anything refers to the village (people, users, sessions, activities, …).
pub async fn has_data(db: &Db, id: i64) -> StoreResult<bool> {
    const SQL: &str = "SELECT \
            EXISTS (SELECT 1 FROM people WHERE village_id = $1) \
         OR EXISTS (SELECT 1 FROM users WHERE village_id = $1) \
         OR EXISTS (SELECT 1 FROM sessions WHERE village_id = $1) \
         OR EXISTS (SELECT 1 FROM session_series WHERE village_id = $1) \
         OR EXISTS (SELECT 1 FROM activities WHERE village_id = $1) \
         OR EXISTS (SELECT 1 FROM distributions WHERE village_id = $1) \
         OR EXISTS (SELECT 1 FROM import_batches WHERE village_id = $1)";
    let used = on_pool!(db, |pool| sqlx::query_scalar::<_, bool>(SQL)
        .bind(id)
        .fetch_one(pool)
        .await?);
    Ok(used)
}

pub async fn delete(db: &Db, before: &Village, by_user: Option<i64>) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM villages WHERE id = $1";
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL).bind(before.id).execute(&mut *conn).await?;
    });
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "delete", "village", before.id).before(before),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn count(db: &Db) -> StoreResult<i64> {
    const SQL: &str = "SELECT COUNT(*) FROM villages";
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .fetch_one(pool)
        .await?);
    Ok(n)
}
