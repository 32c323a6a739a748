//! Distributions (发放) of material: who got how much, where and when.

use chrono::NaiveDate;
use serde::Serialize;

use super::audit::{self, AuditEntry};
use super::params::{BindParams, Param};
use super::{now, on_pool, Db, StoreResult, Subtotal, Tx};
use crate::domain::dates::Period;
use crate::domain::material::{DistributionDraft, MaterialKind};
use crate::domain::VillageScope;

#[derive(Debug, Clone)]
pub struct DistributionFilter {
    pub period: Period,
    pub village: VillageScope,
    pub material_kind: Option<MaterialKind>,
    pub material_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct DistributionRow {
    pub id: i64,
    pub material_id: i64,
    pub material_title: String,
    #[sqlx(try_from = "String")]
    pub material_kind: MaterialKind,
    pub unit: String,
    pub distributed_on: NaiveDate,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub quantity: i64,
    pub recipients: String,
    pub place: String,
    pub handled_by: String,
    pub session_id: Option<i64>,
    pub activity_id: Option<i64>,
    pub activity_topic: Option<String>,
    pub notes: String,
}

impl DistributionRow {
    pub fn draft(&self) -> DistributionDraft {
        DistributionDraft {
            material_id: self.material_id,
            distributed_on: self.distributed_on,
            village_id: self.village_id,
            quantity: self.quantity,
            recipients: self.recipients.clone(),
            place: self.place.clone(),
            handled_by: self.handled_by.clone(),
            session_id: self.session_id,
            activity_id: self.activity_id,
            notes: self.notes.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistributionDimension {
    Village,
    Month,
    MaterialKind,
    Material,
}

const SELECT: &str =
    "SELECT d.id, d.material_id, m.title AS material_title, m.kind AS material_kind, m.unit, \
     d.distributed_on, d.village_id, v.name AS village_name, d.quantity, d.recipients, d.place, \
     d.handled_by, d.session_id, d.activity_id, a.topic AS activity_topic, d.notes";
const FROM: &str = "FROM distributions d JOIN materials m ON m.id = d.material_id \
     LEFT JOIN villages v ON v.id = d.village_id LEFT JOIN activities a ON a.id = d.activity_id";
const FILTER: &str = "WHERE d.distributed_on >= $1 AND d.distributed_on < $2 \
     AND ($3 = 'any' OR ($3 = 'township' AND d.village_id IS NULL) OR ($3 = 'village' AND d.village_id = $4)) AND ($5 IS NULL OR m.kind = $5) \
     AND ($6 IS NULL OR d.material_id = $6)";

impl DistributionFilter {
    /// The values of `FILTER`'s $1..$6, in order.
    fn params(&self) -> Vec<Param> {
        vec![
            self.period.from.into(),
            self.period.to.into(),
            self.village.code().into(),
            self.village.village().into(),
            self.material_kind.map(MaterialKind::code).into(),
            self.material_id.into(),
        ]
    }
}

pub async fn list(
    db: &Db,
    filter: &DistributionFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<DistributionRow>> {
    let sql = format!(
        "{SELECT} {FROM} {FILTER} ORDER BY d.distributed_on DESC, d.id DESC LIMIT $7 OFFSET $8"
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, DistributionRow>(&sql)
        .bind_params(&filter.params())
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// The whole filtered list, in the order of `list` (for the workbooks: on SQLite it is
/// read on a connection of its own, see `bulk`).
pub async fn list_all(db: &Db, filter: &DistributionFilter) -> StoreResult<Vec<DistributionRow>> {
    let sql = format!("{SELECT} {FROM} {FILTER} ORDER BY d.distributed_on DESC, d.id DESC");
    super::bulk::fetch_all(db, sql, filter.params(), |r| {
        Ok(DistributionRow {
            id: r.get("id")?,
            material_id: r.get("material_id")?,
            material_title: r.get("material_title")?,
            material_kind: super::bulk::coded(r, "material_kind")?,
            unit: r.get("unit")?,
            distributed_on: r.get("distributed_on")?,
            village_id: r.get("village_id")?,
            village_name: r.get("village_name")?,
            quantity: r.get("quantity")?,
            recipients: r.get("recipients")?,
            place: r.get("place")?,
            handled_by: r.get("handled_by")?,
            session_id: r.get("session_id")?,
            activity_id: r.get("activity_id")?,
            activity_topic: r.get("activity_topic")?,
            notes: r.get("notes")?,
        })
    })
    .await
}

/// Number of rows and total quantity of the whole filtered list.
pub async fn totals(db: &Db, filter: &DistributionFilter) -> StoreResult<Subtotal> {
    let sql = format!(
        "SELECT NULL AS key, COUNT(*) AS rows, COALESCE(CAST(SUM(d.quantity) AS BIGINT), 0) AS quantity \
         {FROM} {FILTER}"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Subtotal>(&sql)
        .bind_params(&filter.params())
        .fetch_one(pool)
        .await?);
    Ok(row)
}

/// Subtotals of the filtered list by village, month or material kind, in display order.
pub async fn subtotals(
    db: &Db,
    filter: &DistributionFilter,
    by: DistributionDimension,
) -> StoreResult<Vec<Subtotal>> {
    let (key, group, order) = match by {
        DistributionDimension::Village => (
            "v.name",
            "v.id, v.name, v.display_order",
            "v.display_order, v.name",
        ),
        DistributionDimension::Month => (
            "substr(CAST(d.distributed_on AS TEXT), 6, 2)",
            "substr(CAST(d.distributed_on AS TEXT), 6, 2)",
            "1",
        ),
        DistributionDimension::MaterialKind => ("m.kind", "m.kind", "1"),
        DistributionDimension::Material => ("m.title", "m.id, m.title", "3 DESC, 1"),
    };
    let sql = format!(
        "SELECT {key} AS key, COUNT(*) AS rows, COALESCE(CAST(SUM(d.quantity) AS BIGINT), 0) AS quantity \
         {FROM} {FILTER} GROUP BY {group} ORDER BY {order}"
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Subtotal>(&sql)
        .bind_params(&filter.params())
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<DistributionRow>> {
    let sql = format!("{SELECT} {FROM} WHERE d.id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, DistributionRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

pub async fn for_activity(db: &Db, activity_id: i64) -> StoreResult<Vec<DistributionRow>> {
    let sql = format!("{SELECT} {FROM} WHERE d.activity_id = $1 ORDER BY d.id");
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, DistributionRow>(&sql)
        .bind(activity_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Ids of materials of which more was handed out than received (库存不足).
pub async fn short_material_ids(db: &Db) -> StoreResult<Vec<i64>> {
    const SQL: &str = "SELECT m.id FROM materials m WHERE \
         COALESCE((SELECT SUM(d.quantity) FROM distributions d WHERE d.material_id = m.id), 0) > \
         COALESCE((SELECT SUM(r.quantity) FROM stock_receipts r WHERE r.material_id = m.id), 0)";
    let ids = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .fetch_all(pool)
        .await?);
    Ok(ids)
}

/// Ids of the materials a village has handed out (any year).
pub async fn material_ids_of_village(db: &Db, village_id: i64) -> StoreResult<Vec<i64>> {
    const SQL: &str =
        "SELECT DISTINCT material_id FROM distributions WHERE village_id = $1 ORDER BY material_id";
    let ids = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .bind(village_id)
        .fetch_all(pool)
        .await?);
    Ok(ids)
}

/// The values of the columns `insert` and `overwrite` both write, in their order.
fn columns(draft: &DistributionDraft) -> Vec<Param> {
    vec![
        draft.material_id.into(),
        draft.distributed_on.into(),
        draft.village_id.into(),
        draft.quantity.into(),
        draft.recipients.as_str().into(),
        draft.place.as_str().into(),
        draft.handled_by.as_str().into(),
        draft.session_id.into(),
        draft.activity_id.into(),
        draft.notes.as_str().into(),
    ]
}

/// Inserts a distribution without auditing it; `import` names the importing batch and the
/// row's key when an import creates it.
pub async fn insert(
    tx: &mut Tx,
    draft: &DistributionDraft,
    import: Option<(i64, &str)>,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO distributions (material_id, distributed_on, village_id, quantity, recipients, \
         place, handled_by, session_id, activity_id, notes, import_key, import_batch_id, created_by, created_at, \
         updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id";
    let id = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
        .bind_params(&columns(draft))
        .bind(import.map(|(_, key)| key))
        .bind(import.map(|(batch_id, _)| batch_id))
        .bind(by_user)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    Ok(id)
}

/// Inserts a distribution entered on a form (or an activity's line) with its audit entry.
pub(crate) async fn insert_audited(
    tx: &mut Tx,
    draft: &DistributionDraft,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    let id = insert(tx, draft, None, by_user).await?;
    let entry = AuditEntry::new(by_user, "create", "distribution", id).after(draft);
    audit::record(tx, &entry).await?;
    Ok(id)
}

/// Writes new values over a distribution.
pub async fn overwrite(tx: &mut Tx, id: i64, draft: &DistributionDraft) -> StoreResult<()> {
    const SQL: &str = "UPDATE distributions SET material_id = $1, distributed_on = $2, village_id = $3, \
         quantity = $4, recipients = $5, place = $6, handled_by = $7, session_id = $8, activity_id = $9, \
         notes = $10, updated_at = $11 WHERE id = $12";
    on_pool!(Tx(tx), |conn| {
        sqlx::query(SQL)
            .bind_params(&columns(draft))
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

pub async fn create(db: &Db, draft: &DistributionDraft, by_user: Option<i64>) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let id = insert_audited(&mut tx, draft, by_user).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    db: &Db,
    before: &DistributionRow,
    draft: &DistributionDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    overwrite(&mut tx, before.id, draft).await?;
    let entry = AuditEntry::new(by_user, "update", "distribution", before.id)
        .before(&before.draft())
        .after(draft);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(db: &Db, before: &DistributionRow, by_user: Option<i64>) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("DELETE FROM distributions WHERE id = $1")
            .bind(before.id)
            .execute(&mut *conn)
            .await?;
    });
    let entry =
        AuditEntry::new(by_user, "delete", "distribution", before.id).before(&before.draft());
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}
