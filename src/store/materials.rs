//! The material catalogue and its stock receipts (入库). Stock on hand is computed, never
//! stored: all receipts minus all distributions.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::audit::{self, AuditEntry};
use super::{now, on_pool, Db, StoreResult, Tx};
use crate::domain::dates::Period;
use crate::domain::material::{MaterialDraft, MaterialKind, ReceiptDraft};

/// A catalogue entry with its stock: all-time and within the chosen period.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct MaterialStock {
    pub id: i64,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub kind: MaterialKind,
    pub unit: String,
    pub notes: String,
    pub received_total: i64,
    pub distributed_total: i64,
    pub received_in_period: i64,
    pub distributed_in_period: i64,
}

impl MaterialStock {
    pub fn on_hand(&self) -> i64 {
        self.received_total - self.distributed_total
    }

    /// 库存不足: more was handed out than was ever recorded as received.
    pub fn is_short(&self) -> bool {
        self.on_hand() < 0
    }
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Receipt {
    pub id: i64,
    pub material_id: i64,
    pub received_on: NaiveDate,
    pub quantity: i64,
    pub source: String,
    pub notes: String,
    pub created_at: DateTime<Utc>,
}

const STOCK_SELECT: &str = "SELECT m.id, m.title, m.kind, m.unit, m.notes, \
    COALESCE((SELECT CAST(SUM(r.quantity) AS BIGINT) FROM stock_receipts r WHERE r.material_id = m.id), 0) AS received_total, \
    COALESCE((SELECT CAST(SUM(d.quantity) AS BIGINT) FROM distributions d WHERE d.material_id = m.id), 0) AS distributed_total, \
    COALESCE((SELECT CAST(SUM(r.quantity) AS BIGINT) FROM stock_receipts r WHERE r.material_id = m.id \
        AND r.received_on >= $1 AND r.received_on < $2), 0) AS received_in_period, \
    COALESCE((SELECT CAST(SUM(d.quantity) AS BIGINT) FROM distributions d WHERE d.material_id = m.id \
        AND d.distributed_on >= $1 AND d.distributed_on < $2), 0) AS distributed_in_period \
    FROM materials m";

/// Every material with its stock, in catalogue order.
pub async fn list_with_stock(db: &Db, period: Period) -> StoreResult<Vec<MaterialStock>> {
    let sql = format!("{STOCK_SELECT} ORDER BY m.kind, m.title");
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, MaterialStock>(&sql)
        .bind(period.from)
        .bind(period.to)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn get_with_stock(
    db: &Db,
    id: i64,
    period: Period,
) -> StoreResult<Option<MaterialStock>> {
    let sql = format!("{STOCK_SELECT} WHERE m.id = $3");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, MaterialStock>(&sql)
        .bind(period.from)
        .bind(period.to)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

pub async fn exists(db: &Db, id: i64) -> StoreResult<bool> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM materials WHERE id = $1)";
    let found = on_pool!(db, |pool| sqlx::query_scalar::<_, bool>(SQL)
        .bind(id)
        .fetch_one(pool)
        .await?);
    Ok(found)
}

/// The material with this title (titles are unique), if any.
pub async fn find_by_title(db: &Db, title: &str) -> StoreResult<Option<i64>> {
    const SQL: &str = "SELECT id FROM materials WHERE title = $1";
    let id = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .bind(title)
        .fetch_optional(pool)
        .await?);
    Ok(id)
}

/// (id, title, unit) of every material, for drop-downs.
pub async fn choices(db: &Db) -> StoreResult<Vec<(i64, String, String)>> {
    const SQL: &str = "SELECT id, title, unit FROM materials ORDER BY kind, title";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, (i64, String, String)>(SQL)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Inserts a catalogue entry without auditing it; `batch_id` marks what an import created.
pub async fn insert(tx: &mut Tx, draft: &MaterialDraft, batch_id: Option<i64>) -> StoreResult<i64> {
    const SQL: &str =
        "INSERT INTO materials (title, kind, unit, notes, import_batch_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    let id = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
        .bind(&draft.title)
        .bind(draft.kind.code())
        .bind(&draft.unit)
        .bind(&draft.notes)
        .bind(batch_id)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    Ok(id)
}

pub async fn create(db: &Db, draft: &MaterialDraft, by_user: Option<i64>) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, draft, None).await?;
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "create", "material", id).after(draft),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    db: &Db,
    id: i64,
    before: &MaterialDraft,
    draft: &MaterialDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE materials SET title = $1, kind = $2, unit = $3, notes = $4 WHERE id = $5";
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL)
            .bind(&draft.title)
            .bind(draft.kind.code())
            .bind(&draft.unit)
            .bind(&draft.notes)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    let entry = AuditEntry::new(by_user, "update", "material", id)
        .before(before)
        .after(draft);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether any distribution uses the material (then it must not be deleted).
pub async fn has_distributions(db: &Db, id: i64) -> StoreResult<bool> {
    const SQL: &str = "SELECT EXISTS (SELECT 1 FROM distributions WHERE material_id = $1)";
    let used = on_pool!(db, |pool| sqlx::query_scalar::<_, bool>(SQL)
        .bind(id)
        .fetch_one(pool)
        .await?);
    Ok(used)
}

/// Deletes a material and its receipts. The caller has checked it has no distributions;
/// the foreign key refuses it anyway if one slipped in meanwhile.
pub async fn delete(
    db: &Db,
    id: i64,
    before: &MaterialDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("DELETE FROM stock_receipts WHERE material_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM materials WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "delete", "material", id).before(before),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn receipts(db: &Db, material_id: i64) -> StoreResult<Vec<Receipt>> {
    const SQL: &str = "SELECT id, material_id, received_on, quantity, source, notes, created_at \
         FROM stock_receipts WHERE material_id = $1 ORDER BY received_on DESC, id DESC";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Receipt>(SQL)
        .bind(material_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn get_receipt(db: &Db, id: i64) -> StoreResult<Option<Receipt>> {
    const SQL: &str = "SELECT id, material_id, received_on, quantity, source, notes, created_at \
         FROM stock_receipts WHERE id = $1";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Receipt>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

pub async fn create_receipt(
    db: &Db,
    material_id: i64,
    draft: &ReceiptDraft,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO stock_receipts (material_id, received_on, quantity, source, notes, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let mut tx = db.begin().await?;
    let id = on_pool!(Tx(&mut tx), |conn| {
        let id: i64 = sqlx::query_scalar(SQL)
            .bind(material_id)
            .bind(draft.received_on)
            .bind(draft.quantity)
            .bind(&draft.source)
            .bind(&draft.notes)
            .bind(by_user)
            .bind(now())
            .fetch_one(&mut *conn)
            .await?;
        id
    });
    let entry = AuditEntry::new(by_user, "create", "stock_receipt", id)
        .after(&serde_json::json!({ "material_id": material_id, "receipt": draft }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_receipt(db: &Db, receipt: &Receipt, by_user: Option<i64>) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("DELETE FROM stock_receipts WHERE id = $1")
            .bind(receipt.id)
            .execute(&mut *conn)
            .await?;
    });
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "delete", "stock_receipt", receipt.id).before(receipt),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
