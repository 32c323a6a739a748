//! Writing a planned import: in its own turn, in one transaction, recording what each row
//! created (by the batch id on the row) or updated (the values it replaced).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::{json, resolve, NewBatch, Op};
use crate::domain::session::AttendanceSource;
use crate::store::attendance::{self, ImportedMark};
use crate::store::{activities, distributions, materials, people, self_study, sessions};
use crate::store::{now, on_pool, Db, StoreError, StoreResult, Tx};

async fn insert_batch(tx: &mut Tx, batch: &NewBatch) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO import_batches (kind, village_id, file_name, file_sha256, uploaded_by, \
         uploaded_at, rows_total, created_count, updated_count, unchanged_count, rejected_count, status, report) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'committed', $12) RETURNING id";
    let id = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
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
    on_pool!(Tx(tx), |conn| {
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
    /// New people, sessions and marks are written by `Waiting`.
    Waits,
}

/// New people, sessions and attendance rows (op indices) waiting for their next multi-row
/// insert: an import of 100,000 rows is a few hundred statements, not one per row.
#[derive(Default)]
struct Waiting {
    people: Vec<usize>,
    sessions: Vec<usize>,
    marks: Vec<usize>,
}

/// What the ops at `at` hold, as `pick` finds it.
fn picked<'a, T>(ops: &'a [Op], at: &[usize], pick: fn(&'a Op) -> Option<&'a T>) -> Vec<&'a T> {
    at.iter().filter_map(|&i| pick(&ops[i])).collect()
}

/// Records the ids the waiting ops at `at` were given, and empties `at`.
fn took(at: &mut Vec<usize>, ids: Vec<i64>, created: &mut [i64]) {
    for (&i, id) in at.iter().zip(ids) {
        created[i] = id;
    }
    at.clear();
}

impl Waiting {
    async fn insert_people(
        &mut self,
        tx: &mut Tx,
        ops: &[Op],
        batch_id: i64,
        created: &mut [i64],
    ) -> StoreResult<()> {
        let records = picked(ops, &self.people, |op| match op {
            Op::CreatePerson(p) => Some(&**p),
            _ => None,
        });
        let ids = people::insert_many(tx, &records, Some(batch_id)).await?;
        took(&mut self.people, ids, created);
        Ok(())
    }

    async fn insert_sessions(
        &mut self,
        tx: &mut Tx,
        ops: &[Op],
        batch_id: i64,
        by: Option<i64>,
        created: &mut [i64],
    ) -> StoreResult<()> {
        let drafts = picked(ops, &self.sessions, |op| match op {
            Op::CreateSession(s) => Some(&**s),
            _ => None,
        });
        let ids = sessions::insert_many_held(tx, &drafts, batch_id, by).await?;
        took(&mut self.sessions, ids, created);
        Ok(())
    }

    /// Inserts what is waiting: people and sessions first, as the marks refer to them.
    async fn insert_all(
        &mut self,
        tx: &mut Tx,
        ops: &[Op],
        batch_id: i64,
        by: Option<i64>,
        created: &mut [i64],
    ) -> StoreResult<()> {
        if !self.people.is_empty() {
            self.insert_people(tx, ops, batch_id, created).await?;
        }
        if !self.sessions.is_empty() {
            self.insert_sessions(tx, ops, batch_id, by, created).await?;
        }
        let mut marks = Vec::with_capacity(self.marks.len());
        for &i in &self.marks {
            if let Op::CreateAttendance {
                session,
                person,
                row,
            } = &ops[i]
            {
                marks.push(ImportedMark {
                    session_id: resolve(*session, created)?,
                    person_id: resolve(*person, created)?,
                    status: row.status.clone(),
                    hours_credited: row.hours_credited,
                });
            }
        }
        attendance::insert_imported(tx, &marks, batch_id, by).await?;
        self.marks.clear();
        Ok(())
    }
}

/// The transaction an import is planned and written in, after every other import of the
/// same database: two commits of one upload, or two files naming the same new person, then
/// cannot both write (the second plans against what the first committed).
pub struct ImportTx {
    pub(super) tx: Tx,
    /// Imports of this process wait here rather than in SQLite's busy timeout (or holding
    /// a PostgreSQL connection).
    pub(super) _turn: tokio::sync::OwnedMutexGuard<()>,
}

/// One queue of imports per database in this process.
fn import_queue(db: &Db) -> Arc<tokio::sync::Mutex<()>> {
    static QUEUES: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let database = db.identity();
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

/// The data version as the import's transaction sees it (nothing else can change it until
/// the transaction ends).
pub async fn data_version_in(import: &mut ImportTx) -> StoreResult<i64> {
    const SQL: &str = crate::store::summary::DATA_VERSION_SQL;
    let version = on_pool!(Tx(&mut import.tx), |conn| sqlx::query_scalar(SQL)
        .fetch_one(&mut *conn)
        .await?);
    Ok(version)
}

/// The committed batch of this file (same kind and village), read inside the import's
/// transaction.
async fn committed_twin(tx: &mut Tx, batch: &NewBatch) -> StoreResult<Option<i64>> {
    const SQL: &str = "SELECT id FROM import_batches WHERE file_sha256 = $1 AND kind = $2 \
         AND (village_id = $3 OR (village_id IS NULL AND $3 IS NULL)) AND status = 'committed' \
         ORDER BY id LIMIT 1";
    let id = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
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
    let deleted = on_pool!(Tx(tx), |conn| sqlx::query(SQL)
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
    let mut created: Vec<i64> = vec![0; ops.len()];
    let mut waiting = Waiting::default();
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::CreatePerson(_) => {
                waiting.people.push(i);
                if waiting.people.len() >= people::INSERT_CHUNK {
                    waiting
                        .insert_people(&mut tx, ops, batch_id, &mut created)
                        .await?;
                }
            }
            Op::CreateSession(_) => {
                waiting.sessions.push(i);
                if waiting.sessions.len() >= sessions::INSERT_CHUNK {
                    waiting
                        .insert_sessions(&mut tx, ops, batch_id, by, &mut created)
                        .await?;
                }
            }
            Op::CreateAttendance { .. } => {
                waiting.marks.push(i);
                if waiting.marks.len() >= attendance::IMPORT_CHUNK {
                    waiting
                        .insert_all(&mut tx, ops, batch_id, by, &mut created)
                        .await?;
                }
            }
            _ => {
                // Everything before an op is written before it, as the plan has them.
                waiting
                    .insert_all(&mut tx, ops, batch_id, by, &mut created)
                    .await?;
                match apply(&mut tx, op, batch_id, by, &created).await? {
                    Applied::Created(id) => created[i] = id,
                    Applied::Updated { table, id, before } => {
                        record_change(&mut tx, batch_id, table, id, &before).await?;
                    }
                    Applied::Waits => {}
                }
            }
        }
    }
    waiting
        .insert_all(&mut tx, ops, batch_id, by, &mut created)
        .await?;
    // Every row this batch wrote is older than this: a later change is someone's edit.
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("UPDATE import_batches SET committed_at = $1 WHERE id = $2")
            .bind(now())
            .bind(batch_id)
            .execute(&mut *conn)
            .await?;
    });
    tx.commit().await?;
    Ok(batch_id)
}

/// Applies one op other than a new person, session or attendance row.
async fn apply(
    tx: &mut Tx,
    op: &Op,
    batch_id: i64,
    by: Option<i64>,
    created: &[i64],
) -> StoreResult<Applied> {
    let batch = Some(batch_id);
    Ok(match op {
        Op::UpdatePerson { id, before, after } => {
            people::overwrite(tx, *id, after, batch).await?;
            Applied::Updated {
                table: "people",
                id: *id,
                before: json(before),
            }
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
        Op::CreateSelfStudy { record, import_key } => {
            let import = Some((batch_id, import_key.as_str()));
            Applied::Created(self_study::insert(tx, record, import, by).await?)
        }
        Op::UpdateSelfStudy { id, before, after } => {
            self_study::overwrite(tx, *id, after).await?;
            Applied::Updated {
                table: "self_study",
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
        Op::CreatePerson(_) | Op::CreateSession(_) | Op::CreateAttendance { .. } => Applied::Waits,
    })
}
