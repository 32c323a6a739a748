//! Import batches: writing a planned import in one transaction (recording what each row
//! created or updated), listing batches, and undoing one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::activities::{self, ActivityRecord};
use super::attendance::{self, AttendanceRow, ImportedMark};
use super::audit::{self, AuditEntry};
use super::people::{self, PersonRecord};
use super::{distributions, materials, sessions};
use super::{now, on_pool, Db, StoreError, StoreResult, Tx};
use crate::domain::material::{DistributionDraft, MaterialDraft};
use crate::domain::schedule::SessionDraft;
use crate::domain::session::{AttendanceSource, SessionStatus};

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
#[derive(Debug, Clone)]
pub enum Op {
    CreatePerson(PersonRecord),
    UpdatePerson {
        id: i64,
        before: PersonRecord,
        after: PersonRecord,
    },
    CreateSession(SessionDraft),
    CreateMaterial(MaterialDraft),
    CreateDistribution(DistributionRow),
    UpdateDistribution {
        id: i64,
        before: DistributionRow,
        after: DistributionRow,
    },
    CreateActivity(ActivityRow),
    UpdateActivity {
        id: i64,
        before: ActivityRow,
        after: ActivityRow,
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

async fn insert_batch(tx: &mut Tx, batch: &NewBatch) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO import_batches (kind, village_id, file_name, file_sha256, uploaded_by, \
         uploaded_at, rows_total, created_count, updated_count, unchanged_count, rejected_count, status, report) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'committed', $12) RETURNING id";
    let id = on_pool!(tx tx, conn => sqlx::query_scalar(SQL)
        .bind(&batch.kind)
        .bind(batch.village_id)
        .bind(&batch.file_name)
        .bind(&batch.file_sha256)
        .bind(batch.uploaded_by)
        .bind(now())
        .bind(batch.rows_total)
        .bind(batch.created)
        .bind(batch.updated)
        .bind(batch.unchanged)
        .bind(batch.rejected)
        .bind(&batch.report)
        .fetch_one(&mut *conn)
        .await?);
    Ok(id)
}

/// Keeps what an update replaced, for undo.
async fn record_change(
    tx: &mut Tx,
    batch_id: i64,
    table: &str,
    row_id: i64,
    before: &str,
) -> StoreResult<()> {
    const SQL: &str = "INSERT INTO import_changes (batch_id, table_name, row_id, action, before) \
         VALUES ($1, $2, $3, 'updated', $4)";
    on_pool!(tx tx, conn => {
        sqlx::query(SQL)
        .bind(batch_id)
        .bind(table)
        .bind(row_id)
        .bind(before)
        .execute(&mut *conn)
        .await?;
    });
    Ok(())
}

/// What applying one op did.
enum Applied {
    /// A record was created (created rows carry the batch id: undo deletes by it).
    Created(i64),
    /// A record was updated; `before` is kept for undo.
    Updated {
        table: &'static str,
        id: i64,
        before: String,
    },
    /// An attendance row waiting for the next multi-row insert (nothing refers to them).
    Deferred,
}

/// The transaction an import is planned and written in, after every other import of the
/// same database: two commits of one upload, or two files naming the same new person, then
/// cannot both write (the second plans against what the first committed).
pub struct ImportTx {
    tx: Tx,
    /// Imports of this process wait here rather than in SQLite's busy timeout (or holding
    /// a PostgreSQL connection).
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

/// One queue of imports per database in this process.
fn import_queue(db: &Db) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let database = match db {
        Db::Sqlite(pool) => pool.connect_options().get_filename().display().to_string(),
        Db::Postgres(pool) => {
            let options = pool.connect_options();
            let name = options.get_database().unwrap_or_default();
            format!("{}:{}/{name}", options.get_host(), options.get_port())
        }
    };
    let mut queues = QUEUES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    queues.entry(database).or_default().clone()
}

/// Waits for this database's earlier imports, then begins the import's transaction holding
/// the write lock (SQLite: `BEGIN IMMEDIATE`; PostgreSQL: a transaction-scoped advisory
/// lock, which serialises the imports of every app instance).
pub async fn begin_exclusive(db: &Db) -> StoreResult<ImportTx> {
    /// The advisory lock key of imports ("pufa" in ASCII).
    const IMPORT_LOCK: i64 = 0x7075_6661;
    let turn = import_queue(db).lock_owned().await;
    let tx = match db {
        Db::Sqlite(pool) => Tx::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(IMPORT_LOCK)
                .execute(&mut *tx)
                .await?;
            Tx::Postgres(tx)
        }
    };
    Ok(ImportTx { tx, _turn: turn })
}

/// The committed batch of this file (same kind and village), read inside the import's
/// transaction.
async fn committed_twin(tx: &mut Tx, batch: &NewBatch) -> StoreResult<Option<i64>> {
    const SQL: &str = "SELECT id FROM import_batches WHERE file_sha256 = $1 AND kind = $2 \
         AND (village_id = $3 OR (village_id IS NULL AND $3 IS NULL)) AND status = 'committed' \
         ORDER BY id LIMIT 1";
    let id = on_pool!(tx tx, conn => sqlx::query_scalar(SQL)
        .bind(&batch.file_sha256)
        .bind(&batch.kind)
        .bind(batch.village_id)
        .fetch_optional(&mut *conn)
        .await?);
    Ok(id)
}

/// Takes the waiting upload out of the queue; false when another commit took it first.
async fn claim_pending(tx: &mut Tx, pending_id: i64) -> StoreResult<bool> {
    const SQL: &str = "DELETE FROM pending_imports WHERE id = $1";
    let deleted = on_pool!(tx tx, conn => sqlx::query(SQL)
        .bind(pending_id)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    Ok(deleted == 1)
}

/// Writes the batch and every op in the import's transaction and commits it; returns the
/// batch id. A waiting upload (`pending`) is claimed in the same transaction.
pub async fn commit(
    import: ImportTx,
    batch: &NewBatch,
    ops: &[Op],
    pending: Option<i64>,
) -> StoreResult<i64> {
    let ImportTx { mut tx, _turn } = import;
    if let Some(pending_id) = pending {
        if !claim_pending(&mut tx, pending_id).await? {
            return Err(StoreError::AlreadyImported(None));
        }
    }
    if let Some(id) = committed_twin(&mut tx, batch).await? {
        return Err(StoreError::AlreadyImported(Some(id)));
    }
    let by = Some(batch.uploaded_by);
    let batch_id = insert_batch(&mut tx, batch).await?;
    // Ids of created records, by op index; 0 where the op created nothing.
    let mut created: Vec<i64> = Vec::with_capacity(ops.len());
    let mut pending_marks: Vec<ImportedMark> = Vec::new();
    for op in ops {
        let applied = match op {
            Op::CreateAttendance {
                session,
                person,
                row,
            } => {
                pending_marks.push(ImportedMark {
                    session_id: resolve(*session, &created)?,
                    person_id: resolve(*person, &created)?,
                    status: row.status.clone(),
                    hours_credited: row.hours_credited,
                });
                if pending_marks.len() >= attendance::IMPORT_CHUNK {
                    let chunk = std::mem::take(&mut pending_marks);
                    attendance::insert_imported(&mut tx, &chunk, batch_id, by).await?;
                }
                Applied::Deferred
            }
            _ => apply(&mut tx, op, batch_id, by, &created).await?,
        };
        match applied {
            Applied::Created(id) => created.push(id),
            Applied::Updated { table, id, before } => {
                record_change(&mut tx, batch_id, table, id, &before).await?;
                created.push(0);
            }
            Applied::Deferred => created.push(0),
        }
    }
    attendance::insert_imported(&mut tx, &pending_marks, batch_id, by).await?;
    tx.commit().await?;
    Ok(batch_id)
}

/// Applies one op other than a new attendance row.
async fn apply(
    tx: &mut Tx,
    op: &Op,
    batch_id: i64,
    by: Option<i64>,
    created: &[i64],
) -> StoreResult<Applied> {
    let batch = Some(batch_id);
    Ok(match op {
        Op::CreatePerson(p) => Applied::Created(people::insert(tx, p, batch).await?),
        Op::UpdatePerson { id, before, after } => {
            people::overwrite(tx, *id, after, batch).await?;
            Applied::Updated {
                table: "people",
                id: *id,
                before: json(before),
            }
        }
        Op::CreateSession(s) => {
            Applied::Created(sessions::insert(tx, None, s, SessionStatus::Held, batch, by).await?)
        }
        Op::CreateMaterial(m) => Applied::Created(materials::insert(tx, m, batch).await?),
        Op::CreateDistribution(d) => {
            let draft = d.draft(created)?;
            let import = Some((batch_id, d.import_key.as_str()));
            Applied::Created(distributions::insert(tx, &draft, import, by).await?)
        }
        Op::UpdateDistribution { id, before, after } => {
            distributions::overwrite(tx, *id, &after.draft(created)?).await?;
            Applied::Updated {
                table: "distributions",
                id: *id,
                before: json(before),
            }
        }
        Op::CreateActivity(a) => {
            let import = Some((batch_id, a.import_key.as_str()));
            Applied::Created(activities::insert(tx, &a.record, import, by).await?)
        }
        Op::UpdateActivity { id, before, after } => {
            activities::overwrite(tx, *id, &after.record).await?;
            Applied::Updated {
                table: "activities",
                id: *id,
                before: json(before),
            }
        }
        Op::UpdateAttendance { id, before, after } => {
            attendance::overwrite(tx, *id, after, Some(AttendanceSource::Import), by).await?;
            Applied::Updated {
                table: "attendance",
                id: *id,
                before: json(before),
            }
        }
        Op::CreateAttendance { .. } => Applied::Deferred,
    })
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
    let row =
        on_pool!(db, pool => sqlx::query_as::<_, Batch>(&sql).bind(id).fetch_optional(pool).await?);
    Ok(row)
}

/// Batches, newest first; a clerk's list is their village's.
pub async fn list(db: &Db, village_id: Option<i64>, limit: i64) -> StoreResult<Vec<Batch>> {
    let sql = format!(
        "{BATCH_SELECT} WHERE ($1 IS NULL OR b.village_id = $1) ORDER BY b.id DESC LIMIT $2"
    );
    let rows = on_pool!(db, pool => sqlx::query_as::<_, Batch>(&sql).bind(village_id).bind(limit).fetch_all(pool).await?);
    Ok(rows)
}

/// The committed (not undone) batch of a file with this SHA-256, if any.
pub async fn committed_with_sha(db: &Db, sha256: &str) -> StoreResult<Option<Batch>> {
    let sql = format!(
        "{BATCH_SELECT} WHERE b.file_sha256 = $1 AND b.status = 'committed' ORDER BY b.id LIMIT 1"
    );
    let row = on_pool!(db, pool => sqlx::query_as::<_, Batch>(&sql).bind(sha256).fetch_optional(pool).await?);
    Ok(row)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Change {
    table_name: String,
    row_id: i64,
    action: String,
    before: Option<String>,
}

fn restore_error(table: &str) -> StoreError {
    StoreError::Sql(sqlx::Error::Protocol(format!("cannot restore {table}")))
}

fn before_value<T: serde::de::DeserializeOwned>(change: &Change) -> StoreResult<T> {
    serde_json::from_str(change.before.as_deref().unwrap_or_default())
        .map_err(|_| restore_error(&change.table_name))
}

async fn execute_with_id(tx: &mut Tx, sql: &str, id: i64) -> StoreResult<()> {
    on_pool!(tx tx, conn => {
        sqlx::query(sql).bind(id).execute(&mut *conn).await?;
    });
    Ok(())
}

/// Undoes one recorded change: a created row is removed, an updated one gets its old values.
async fn revert(tx: &mut Tx, change: &Change) -> StoreResult<()> {
    let id = change.row_id;
    match (change.table_name.as_str(), change.action.as_str()) {
        ("people", "created") => {
            for sql in [
                "DELETE FROM person_categories WHERE person_id = $1",
                "DELETE FROM session_invitees WHERE person_id = $1",
                "DELETE FROM people WHERE id = $1",
            ] {
                execute_with_id(tx, sql, id).await?;
            }
        }
        ("sessions", "created") => {
            execute_with_id(tx, "DELETE FROM sessions WHERE id = $1", id).await?
        }
        ("materials", "created") => {
            execute_with_id(tx, "DELETE FROM materials WHERE id = $1", id).await?
        }
        ("distributions", "created") => {
            execute_with_id(tx, "DELETE FROM distributions WHERE id = $1", id).await?
        }
        ("activities", "created") => {
            execute_with_id(tx, "DELETE FROM distributions WHERE activity_id = $1", id).await?;
            execute_with_id(tx, "DELETE FROM activities WHERE id = $1", id).await?;
        }
        ("attendance", "created") => {
            execute_with_id(tx, "DELETE FROM attendance WHERE id = $1", id).await?
        }
        ("people", "updated") => {
            let person: PersonRecord = before_value(change)?;
            people::overwrite(tx, id, &person, None).await?;
        }
        ("distributions", "updated") => {
            let row: DistributionRow = before_value(change)?;
            distributions::overwrite(tx, id, &row.draft(&[])?).await?;
        }
        ("activities", "updated") => {
            let row: ActivityRow = before_value(change)?;
            activities::overwrite(tx, id, &row.record).await?;
        }
        ("attendance", "updated") => {
            let row: AttendanceRow = before_value(change)?;
            attendance::overwrite(tx, id, &row, None, None).await?;
        }
        (table, _) => return Err(restore_error(table)),
    }
    Ok(())
}

/// Removes what the batch created and restores what it updated, newest change first, in
/// one transaction. A foreign-key error means later work depends on the batch.
pub async fn undo(db: &Db, batch_id: i64, by_user: Option<i64>) -> StoreResult<()> {
    const CHANGES: &str = "SELECT table_name, row_id, action, before FROM import_changes \
         WHERE batch_id = $1 ORDER BY id DESC";
    // What the batch created carries its id. Rows of sessions or activities it created
    // that later work added would go with them (cascade): refuse instead.
    const USED: &str =
        "SELECT EXISTS (SELECT 1 FROM attendance a JOIN sessions s ON s.id = a.session_id \
         WHERE s.import_batch_id = $1 AND (a.import_batch_id IS NULL OR a.import_batch_id <> $1)) \
         OR EXISTS (SELECT 1 FROM distributions d JOIN activities x ON x.id = d.activity_id \
         WHERE x.import_batch_id = $1 AND (d.import_batch_id IS NULL OR d.import_batch_id <> $1))";
    const MARK_UNDONE: &str =
        "UPDATE import_batches SET status = 'undone', undone_at = $1, undone_by = $2 WHERE id = $3";
    let mut tx = db.begin().await?;
    let changes = on_pool!(tx &mut tx, conn => sqlx::query_as::<_, Change>(CHANGES)
        .bind(batch_id)
        .fetch_all(&mut *conn)
        .await?);
    for change in &changes {
        revert(&mut tx, change).await?;
    }
    let used: bool = on_pool!(tx &mut tx, conn => sqlx::query_scalar(USED)
        .bind(batch_id)
        .fetch_one(&mut *conn)
        .await?);
    if used {
        return Err(StoreError::InUse);
    }
    for sql in [
        "DELETE FROM attendance WHERE import_batch_id = $1",
        "DELETE FROM distributions WHERE import_batch_id = $1",
        "DELETE FROM activities WHERE import_batch_id = $1",
        "DELETE FROM sessions WHERE import_batch_id = $1",
        "DELETE FROM materials WHERE import_batch_id = $1",
        "DELETE FROM person_categories WHERE person_id IN (SELECT id FROM people WHERE import_batch_id = $1)",
        "DELETE FROM session_invitees WHERE person_id IN (SELECT id FROM people WHERE import_batch_id = $1)",
        "DELETE FROM people WHERE import_batch_id = $1",
    ] {
        execute_with_id(&mut tx, sql, batch_id).await?;
    }
    on_pool!(tx &mut tx, conn => {
        sqlx::query(MARK_UNDONE)
        .bind(now())
        .bind(by_user)
        .bind(batch_id)
        .execute(&mut *conn)
        .await?;
    });
    let entry = AuditEntry::new(by_user, "undo", "import_batch", batch_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
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
    // Uploads nobody committed within a day are dropped.
    const PRUNE: &str = "DELETE FROM pending_imports WHERE created_at < $1";
    let id = on_pool!(db, pool => {
        sqlx::query(PRUNE).bind(now() - chrono::Duration::days(1)).execute(pool).await?;
        sqlx::query_scalar::<_, i64>(SQL)
            .bind(uploaded_by).bind(file_name).bind(kind).bind(village_id).bind(content).bind(now())
            .fetch_one(pool).await?
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
}

pub async fn get_pending(db: &Db, id: i64) -> StoreResult<Option<Pending>> {
    const SQL: &str = "SELECT id, uploaded_by, file_name, kind, village_id, content FROM pending_imports WHERE id = $1";
    let row = on_pool!(db, pool => sqlx::query_as::<_, Pending>(SQL).bind(id).fetch_optional(pool).await?);
    Ok(row)
}

pub async fn delete_pending(db: &Db, id: i64) -> StoreResult<()> {
    on_pool!(db, pool => {
        sqlx::query("DELETE FROM pending_imports WHERE id = $1").bind(id).execute(pool).await?;
    });
    Ok(())
}

/// A person as the planner matches rows to them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonKey {
    pub id: i64,
    pub village_id: Option<i64>,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// Everyone in the registry, for matching rows to people without a query per row.
pub async fn people_index(db: &Db) -> StoreResult<Vec<PersonKey>> {
    const SQL: &str = "SELECT id, village_id, name, phone, id_number FROM people ORDER BY id";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// A session as the planner finds it by date and topic.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionKey {
    pub id: i64,
    pub starts_at: chrono::NaiveDateTime,
    pub topic: String,
    pub village_id: Option<i64>,
}

/// Sessions starting in [from, to).
pub async fn sessions_index(
    db: &Db,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> StoreResult<Vec<SessionKey>> {
    const SQL: &str = "SELECT id, starts_at, topic, village_id FROM sessions WHERE starts_at >= $1 AND starts_at < $2";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).bind(from).bind(to).fetch_all(pool).await?);
    Ok(rows)
}

/// A stored attendance row of a session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredMark {
    pub id: i64,
    pub person_id: i64,
    pub status: String,
    pub hours_credited: f64,
}

pub async fn attendance_of(db: &Db, session_id: i64) -> StoreResult<Vec<StoredMark>> {
    const SQL: &str =
        "SELECT id, person_id, status, hours_credited FROM attendance WHERE session_id = $1";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).bind(session_id).fetch_all(pool).await?);
    Ok(rows)
}

/// A distribution an earlier import created, found again by its key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportedDistribution {
    pub import_key: String,
    pub id: i64,
    pub material_id: i64,
    pub distributed_on: NaiveDate,
    pub village_id: Option<i64>,
    pub quantity: i64,
    pub recipients: String,
    pub place: String,
    pub handled_by: String,
    pub notes: String,
}

pub async fn distribution_keys(db: &Db) -> StoreResult<Vec<ImportedDistribution>> {
    const SQL: &str = "SELECT import_key, id, material_id, distributed_on, village_id, quantity, recipients, place, \
         handled_by, notes FROM distributions WHERE import_key IS NOT NULL";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// An activity an earlier import created, found again by its key (groups loaded apart).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportedActivity {
    pub import_key: String,
    pub id: i64,
    pub held_on: NaiveDate,
    pub village_id: Option<i64>,
    pub topic: String,
    pub form: String,
    pub place: Option<String>,
    pub audience_count: i64,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
}

pub async fn activity_keys(db: &Db) -> StoreResult<Vec<ImportedActivity>> {
    const SQL: &str = "SELECT import_key, id, held_on, village_id, topic, form, place, audience_count, speaker, venue, notes \
         FROM activities WHERE import_key IS NOT NULL";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Audience groups of every imported activity: (activity id, group code), in one query.
pub async fn imported_audience_groups(db: &Db) -> StoreResult<Vec<(i64, String)>> {
    const SQL: &str = "SELECT g.activity_id, g.audience_group FROM activity_audience_groups g \
         JOIN activities a ON a.id = g.activity_id WHERE a.import_key IS NOT NULL ORDER BY g.audience_group";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}
