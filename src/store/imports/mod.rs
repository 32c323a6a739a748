//! Import batches: the planned writes of an import (`Op`), the batches and uploads waiting
//! to be committed, and the lookups the planner matches rows with. Writing a batch is in
//! `commit`, undoing one in `undo`.

mod commit;
mod lookups;
mod undo;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::activities::ActivityRecord;
use super::attendance::AttendanceRow;
use super::params::{scope_params, village_condition, BindParams};
use super::people::PersonRecord;
use super::self_study::SelfStudyRecord;
use super::{now, on_pool, Db, StoreError, StoreResult};
use crate::domain::material::{DistributionDraft, MaterialDraft};
use crate::domain::schedule::SessionDraft;
use crate::domain::VillageScope;

pub use commit::{begin_exclusive, commit, data_version_in, ImportTx};
pub use lookups::*;
pub use undo::{undo, EDITS_NAMED};

/// A record the plan refers to: one already stored, or one the plan creates (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ref {
    Existing(i64),
    New(usize),
}

/// A distribution an import writes; its material and activity may be ones the same import
/// creates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionRow {
    pub material: Ref,
    pub distributed_on: NaiveDate,
    pub village_id: Option<i64>,
    pub quantity: i64,
    pub recipients: String,
    pub place: String,
    pub handled_by: String,
    pub activity: Option<Ref>,
    pub notes: String,
    pub import_key: String,
}

impl DistributionRow {
    /// The stored columns, with references to created records resolved.
    fn draft(&self, created: &[i64]) -> StoreResult<DistributionDraft> {
        Ok(DistributionDraft {
            material_id: resolve(self.material, created)?,
            distributed_on: self.distributed_on,
            village_id: self.village_id,
            quantity: self.quantity,
            recipients: self.recipients.clone(),
            place: self.place.clone(),
            handled_by: self.handled_by.clone(),
            session_id: None,
            activity_id: self.activity.map(|r| resolve(r, created)).transpose()?,
            notes: self.notes.clone(),
        })
    }
}

/// An activity an import writes, found again by its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRow {
    #[serde(flatten)]
    pub record: ActivityRecord,
    pub import_key: String,
}

/// One write of a planned import. `New(i)` refers to the i-th `Create*` op of the plan.
/// A plan holds one per row (100,000 for a large sheet): records other than attendance are
/// boxed, so that each op is the size of an attendance op (inline, the largest update made
/// every op ~550 bytes, and copying them was a tenth of a dry run).
#[derive(Debug, Clone)]
pub enum Op {
    CreatePerson(Box<PersonRecord>),
    UpdatePerson {
        id: i64,
        before: Box<PersonRecord>,
        after: Box<PersonRecord>,
    },
    CreateSession(Box<SessionDraft>),
    CreateMaterial(Box<MaterialDraft>),
    CreateDistribution(Box<DistributionRow>),
    UpdateDistribution {
        id: i64,
        before: Box<DistributionRow>,
        after: Box<DistributionRow>,
    },
    CreateActivity(Box<ActivityRow>),
    UpdateActivity {
        id: i64,
        before: Box<ActivityRow>,
        after: Box<ActivityRow>,
    },
    CreateSelfStudy {
        record: Box<SelfStudyRecord>,
        import_key: String,
    },
    UpdateSelfStudy {
        id: i64,
        before: Box<SelfStudyRecord>,
        after: Box<SelfStudyRecord>,
    },
    CreateAttendance {
        session: Ref,
        person: Ref,
        row: AttendanceRow,
    },
    UpdateAttendance {
        id: i64,
        before: AttendanceRow,
        after: AttendanceRow,
    },
}

/// What the batch row records about the upload.
#[derive(Debug, Clone)]
pub struct NewBatch {
    pub kind: String,
    pub village_id: Option<i64>,
    pub file_name: String,
    pub file_sha256: String,
    pub uploaded_by: i64,
    pub rows_total: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub rejected: i64,
    pub report: String,
}

fn resolve(r: Ref, created: &[i64]) -> StoreResult<i64> {
    match r {
        Ref::Existing(id) => Ok(id),
        Ref::New(i) => created
            .get(i)
            .copied()
            .filter(|id| *id > 0)
            .ok_or(StoreError::Sql(sqlx::Error::RowNotFound)),
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Batch {
    pub id: i64,
    pub kind: String,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub file_name: String,
    pub file_sha256: String,
    pub uploaded_by: i64,
    pub uploader: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    pub rows_total: i64,
    pub created_count: i64,
    pub updated_count: i64,
    pub unchanged_count: i64,
    pub rejected_count: i64,
    pub status: String,
    pub report: String,
    pub undone_at: Option<DateTime<Utc>>,
}

const BATCH_SELECT: &str = "SELECT b.id, b.kind, b.village_id, v.name AS village_name, b.file_name, b.file_sha256, \
     b.uploaded_by, u.display_name AS uploader, b.uploaded_at, b.rows_total, b.created_count, b.updated_count, \
     b.unchanged_count, b.rejected_count, b.status, b.report, b.undone_at \
     FROM import_batches b LEFT JOIN villages v ON v.id = b.village_id LEFT JOIN users u ON u.id = b.uploaded_by";

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<Batch>> {
    let sql = format!("{BATCH_SELECT} WHERE b.id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Batch>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// Batches, newest first; a clerk's list is their village's.
pub async fn list(db: &Db, scope: VillageScope, limit: i64) -> StoreResult<Vec<Batch>> {
    let sql = format!(
        "{BATCH_SELECT} WHERE {} ORDER BY b.id DESC LIMIT $3",
        village_condition("b.village_id", 1)
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Batch>(&sql)
        .bind_params(&scope_params(scope))
        .bind(limit)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// The committed (not undone) batch of a file with this SHA-256, if any.
pub async fn committed_with_sha(db: &Db, sha256: &str) -> StoreResult<Option<Batch>> {
    let sql = format!(
        "{BATCH_SELECT} WHERE b.file_sha256 = $1 AND b.status = 'committed' ORDER BY b.id LIMIT 1"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Batch>(&sql)
        .bind(sha256)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// Drops uploads nobody committed since `before` (housekeeping); returns how many.
pub async fn drop_pending_before(
    db: &Db,
    before: chrono::DateTime<chrono::Utc>,
) -> StoreResult<u64> {
    const SQL: &str = "DELETE FROM pending_imports WHERE created_at < $1";
    let n = on_pool!(db, |pool| sqlx::query(SQL)
        .bind(before)
        .execute(pool)
        .await?
        .rows_affected());
    Ok(n)
}

/// Stores an uploaded file until it is committed; returns its id.
pub async fn save_pending(
    db: &Db,
    uploaded_by: i64,
    file_name: &str,
    kind: Option<&str>,
    village_id: Option<i64>,
    content: &[u8],
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO pending_imports (uploaded_by, file_name, kind, village_id, content, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
    let id = on_pool!(db, |pool| {
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(uploaded_by)
            .bind(file_name)
            .bind(kind)
            .bind(village_id)
            .bind(content)
            .bind(now())
            .fetch_one(pool)
            .await?
    });
    Ok(id)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Pending {
    pub id: i64,
    pub uploaded_by: i64,
    pub file_name: String,
    pub kind: Option<String>,
    pub village_id: Option<i64>,
    pub content: Vec<u8>,
    /// Reading it failed in its worker; it is not read again.
    pub unreadable: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn get_pending(db: &Db, id: i64) -> StoreResult<Option<Pending>> {
    const SQL: &str = "SELECT id, uploaded_by, file_name, kind, village_id, content, unreadable, \
                       created_at FROM pending_imports WHERE id = $1";
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Pending>(SQL)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// Marks a waiting upload as one that cannot be read.
pub async fn mark_pending_unreadable(db: &Db, id: i64) -> StoreResult<()> {
    on_pool!(db, |pool| {
        sqlx::query("UPDATE pending_imports SET unreadable = TRUE WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}

pub async fn delete_pending(db: &Db, id: i64) -> StoreResult<()> {
    on_pool!(db, |pool| {
        sqlx::query("DELETE FROM pending_imports WHERE id = $1")
            .bind(id)
            .execute(pool)
            .await?;
    });
    Ok(())
}
