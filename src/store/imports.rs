//! Import batches: writing a planned import in one transaction (recording what each row
//! created or updated), listing batches, and undoing one.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{now, on_pool, Db, StoreError, StoreResult};
use crate::domain::person::CategoryHolding;
use crate::domain::schedule::SessionDraft;
use crate::domain::Category;

/// A record the plan refers to: one already stored, or one the plan creates (by index).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ref {
    Existing(i64),
    New(usize),
}

/// The person columns an import writes (and undo restores).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRow {
    pub name: String,
    pub gender: Option<String>,
    pub village_id: Option<i64>,
    pub post: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub notes: String,
    pub categories: Vec<(Category, Option<NaiveDate>, Option<NaiveDate>)>,
}

impl PersonRow {
    pub fn holdings(&self) -> Vec<CategoryHolding> {
        self.categories
            .iter()
            .map(|(c, s, u)| CategoryHolding {
                category: *c,
                since: *s,
                until: *u,
            })
            .collect()
    }
}

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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRow {
    pub held_on: NaiveDate,
    pub village_id: Option<i64>,
    pub topic: String,
    pub form: String,
    pub place: Option<String>,
    pub audience_groups: Vec<String>,
    pub audience_count: i64,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
    pub import_key: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRow {
    pub status: String,
    pub hours_credited: f64,
}

/// One write of a planned import. `New(i)` refers to the i-th `Create*` op of the plan.
#[derive(Debug, Clone)]
pub enum Op {
    CreatePerson(PersonRow),
    UpdatePerson {
        id: i64,
        before: PersonRow,
        after: PersonRow,
    },
    CreateSession(SessionDraft),
    CreateMaterial {
        title: String,
        kind: String,
        unit: String,
    },
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

/// Attendance rows per multi-row INSERT (7 parameters each, far below both backends' limits).
const ATTENDANCE_CHUNK: usize = 500;

fn attendance_insert(rows: usize) -> String {
    let values: Vec<String> = (0..rows)
        .map(|i| {
            let p = i * 7;
            format!(
                "(${}, ${}, ${}, ${}, 'import', ${}, ${}, ${})",
                p + 1,
                p + 2,
                p + 3,
                p + 4,
                p + 5,
                p + 6,
                p + 7
            )
        })
        .collect();
    format!(
        "INSERT INTO attendance (session_id, person_id, status, hours_credited, source, import_batch_id, updated_by, updated_at) VALUES {}",
        values.join(", ")
    )
}

/// Binds the rows of `attendance_insert` on either backend's query type.
trait BindAttendance: Sized {
    fn bind_all_attendance(
        self,
        rows: &[(i64, i64, &AttendanceRow)],
        batch_id: i64,
        by: Option<i64>,
    ) -> Self;
}

impl<'q, DB: sqlx::Database> BindAttendance
    for sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>
where
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    Option<i64>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    fn bind_all_attendance(
        mut self,
        rows: &[(i64, i64, &AttendanceRow)],
        batch_id: i64,
        by: Option<i64>,
    ) -> Self {
        let at = now();
        for (session, person, row) in rows {
            self = self
                .bind(*session)
                .bind(*person)
                .bind(row.status.clone())
                .bind(row.hours_credited)
                .bind(batch_id)
                .bind(by)
                .bind(at);
        }
        self
    }
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

/// Writes the batch and every op in one transaction; returns the batch id.
pub async fn commit(db: &Db, batch: &NewBatch, ops: &[Op]) -> StoreResult<i64> {
    const BATCH: &str = "INSERT INTO import_batches (kind, village_id, file_name, file_sha256, uploaded_by, uploaded_at, \
         rows_total, created_count, updated_count, unchanged_count, rejected_count, status, report) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'committed', $12) RETURNING id";
    const CHANGE: &str = "INSERT INTO import_changes (batch_id, table_name, row_id, action, before) VALUES ($1, $2, $3, $4, $5)";
    const PERSON: &str = "INSERT INTO people (name, gender, village_id, post, phone, id_number, active, notes, import_batch_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $9, $9) RETURNING id";
    const PERSON_UPDATE: &str =
        "UPDATE people SET name = $1, gender = $2, village_id = $3, post = $4, phone = $5, \
         id_number = $6, notes = $7, updated_at = $8 WHERE id = $9";
    const CATEGORY: &str = "INSERT INTO person_categories (person_id, category, since, until, import_batch_id) VALUES ($1, $2, $3, $4, $5)";
    const SESSION: &str = "INSERT INTO sessions (kind, topic, starts_at, ends_at, venue, speaker, organizer, village_id, \
         hours_credited, status, notes, checkin_token, import_batch_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'held', $10, $11, $12, $13, $14, $14) RETURNING id";
    const MATERIAL: &str =
        "INSERT INTO materials (title, kind, unit, notes, import_batch_id, created_at) \
         VALUES ($1, $2, $3, '', $4, $5) RETURNING id";
    const DISTRIBUTION: &str = "INSERT INTO distributions (material_id, distributed_on, village_id, quantity, recipients, \
         place, handled_by, activity_id, notes, import_key, import_batch_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id";
    const DISTRIBUTION_UPDATE: &str =
        "UPDATE distributions SET quantity = $1, recipients = $2, place = $3, handled_by = $4, \
         notes = $5, updated_at = $6 WHERE id = $7";
    const ACTIVITY: &str = "INSERT INTO activities (held_on, village_id, topic, form, place, audience_count, speaker, venue, \
         notes, import_key, import_batch_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id";
    const ACTIVITY_UPDATE: &str = "UPDATE activities SET form = $1, place = $2, audience_count = $3, speaker = $4, venue = $5, \
         notes = $6, updated_at = $7 WHERE id = $8";
    const GROUP: &str =
        "INSERT INTO activity_audience_groups (activity_id, audience_group) VALUES ($1, $2)";
    const ATTENDANCE_UPDATE: &str =
        "UPDATE attendance SET status = $1, hours_credited = $2, source = 'import', \
         updated_by = $3, updated_at = $4 WHERE id = $5";

    let by = Some(batch.uploaded_by);
    let batch_id = on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let batch_id: i64 = sqlx::query_scalar(BATCH)
            .bind(&batch.kind).bind(batch.village_id).bind(&batch.file_name).bind(&batch.file_sha256)
            .bind(batch.uploaded_by).bind(now()).bind(batch.rows_total).bind(batch.created)
            .bind(batch.updated).bind(batch.unchanged).bind(batch.rejected).bind(&batch.report)
            .fetch_one(&mut *tx).await?;
        // Ids of created records, by op index; 0 where the op created nothing.
        let mut created: Vec<i64> = Vec::with_capacity(ops.len());
        let mut pending_attendance: Vec<(i64, i64, &AttendanceRow)> = Vec::new();
        for op in ops {
            let (table, id, before): (&str, i64, Option<String>) = match op {
                Op::CreatePerson(p) => {
                    let id: i64 = sqlx::query_scalar(PERSON)
                        .bind(&p.name).bind(&p.gender).bind(p.village_id).bind(&p.post).bind(&p.phone)
                        .bind(&p.id_number).bind(&p.notes).bind(batch_id).bind(now())
                        .fetch_one(&mut *tx).await?;
                    for (category, since, until) in &p.categories {
                        sqlx::query(CATEGORY).bind(id).bind(category.code()).bind(since).bind(until).bind(batch_id)
                            .execute(&mut *tx).await?;
                    }
                    ("people", id, None)
                }
                Op::UpdatePerson { id, before, after } => {
                    sqlx::query(PERSON_UPDATE)
                        .bind(&after.name).bind(&after.gender).bind(after.village_id).bind(&after.post)
                        .bind(&after.phone).bind(&after.id_number).bind(&after.notes).bind(now()).bind(id)
                        .execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM person_categories WHERE person_id = $1").bind(id).execute(&mut *tx).await?;
                    for (category, since, until) in &after.categories {
                        sqlx::query(CATEGORY).bind(id).bind(category.code()).bind(since).bind(until).bind(batch_id)
                            .execute(&mut *tx).await?;
                    }
                    ("people", *id, Some(json(before)))
                }
                Op::CreateSession(s) => {
                    let id: i64 = sqlx::query_scalar(SESSION)
                        .bind(s.kind.code()).bind(&s.topic).bind(s.starts_at).bind(s.ends_at).bind(&s.venue)
                        .bind(&s.speaker).bind(&s.organizer).bind(s.village_id).bind(s.hours_credited).bind(&s.notes)
                        .bind(crate::random_token()).bind(batch_id).bind(by).bind(now())
                        .fetch_one(&mut *tx).await?;
                    ("sessions", id, None)
                }
                Op::CreateMaterial { title, kind, unit } => {
                    let id: i64 = sqlx::query_scalar(MATERIAL)
                        .bind(title).bind(kind).bind(unit).bind(batch_id).bind(now())
                        .fetch_one(&mut *tx).await?;
                    ("materials", id, None)
                }
                Op::CreateDistribution(d) => {
                    let activity = match d.activity { Some(r) => Some(resolve(r, &created)?), None => None };
                    let id: i64 = sqlx::query_scalar(DISTRIBUTION)
                        .bind(resolve(d.material, &created)?).bind(d.distributed_on).bind(d.village_id).bind(d.quantity)
                        .bind(&d.recipients).bind(&d.place).bind(&d.handled_by).bind(activity).bind(&d.notes)
                        .bind(&d.import_key).bind(batch_id).bind(by).bind(now())
                        .fetch_one(&mut *tx).await?;
                    ("distributions", id, None)
                }
                Op::UpdateDistribution { id, before, after } => {
                    sqlx::query(DISTRIBUTION_UPDATE)
                        .bind(after.quantity).bind(&after.recipients).bind(&after.place).bind(&after.handled_by)
                        .bind(&after.notes).bind(now()).bind(id)
                        .execute(&mut *tx).await?;
                    ("distributions", *id, Some(json(before)))
                }
                Op::CreateActivity(a) => {
                    let id: i64 = sqlx::query_scalar(ACTIVITY)
                        .bind(a.held_on).bind(a.village_id).bind(&a.topic).bind(&a.form).bind(&a.place)
                        .bind(a.audience_count).bind(&a.speaker).bind(&a.venue).bind(&a.notes).bind(&a.import_key)
                        .bind(batch_id).bind(by).bind(now())
                        .fetch_one(&mut *tx).await?;
                    for group in &a.audience_groups {
                        sqlx::query(GROUP).bind(id).bind(group).execute(&mut *tx).await?;
                    }
                    ("activities", id, None)
                }
                Op::UpdateActivity { id, before, after } => {
                    sqlx::query(ACTIVITY_UPDATE)
                        .bind(&after.form).bind(&after.place).bind(after.audience_count).bind(&after.speaker)
                        .bind(&after.venue).bind(&after.notes).bind(now()).bind(id)
                        .execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM activity_audience_groups WHERE activity_id = $1").bind(id).execute(&mut *tx).await?;
                    for group in &after.audience_groups {
                        sqlx::query(GROUP).bind(id).bind(group).execute(&mut *tx).await?;
                    }
                    ("activities", *id, Some(json(before)))
                }
                Op::CreateAttendance { session, person, row } => {
                    // Nothing refers to attendance rows: they are written in chunks below.
                    pending_attendance.push((resolve(*session, &created)?, resolve(*person, &created)?, row));
                    if pending_attendance.len() >= ATTENDANCE_CHUNK {
                        let chunk = std::mem::take(&mut pending_attendance);
                        sqlx::query(&attendance_insert(chunk.len()))
                            .bind_all_attendance(&chunk, batch_id, by)
                            .execute(&mut *tx).await?;
                    }
                    ("attendance", 0, None)
                }
                Op::UpdateAttendance { id, before, after } => {
                    sqlx::query(ATTENDANCE_UPDATE)
                        .bind(&after.status).bind(after.hours_credited).bind(by).bind(now()).bind(id)
                        .execute(&mut *tx).await?;
                    ("attendance", *id, Some(json(before)))
                }
            };
            // Created rows carry the batch id (undo deletes by it); updates keep what they replaced.
            if let Some(before) = before.as_deref() {
                sqlx::query(CHANGE).bind(batch_id).bind(table).bind(id).bind("updated").bind(before)
                    .execute(&mut *tx).await?;
                created.push(0);
            } else {
                created.push(id);
            }
        }
        if !pending_attendance.is_empty() {
            sqlx::query(&attendance_insert(pending_attendance.len()))
                .bind_all_attendance(&pending_attendance, batch_id, by)
                .execute(&mut *tx).await?;
        }
        tx.commit().await?;
        batch_id
    });
    Ok(batch_id)
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

/// Removes what the batch created and restores what it updated, newest change first, in
/// one transaction. A foreign-key error means later work depends on the batch.
pub async fn undo(db: &Db, batch_id: i64, by_user: Option<i64>) -> StoreResult<()> {
    const CHANGES: &str = "SELECT table_name, row_id, action, before FROM import_changes WHERE batch_id = $1 ORDER BY id DESC";
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let changes = sqlx::query_as::<_, Change>(CHANGES).bind(batch_id).fetch_all(&mut *tx).await?;
        for change in changes {
            let id = change.row_id;
            match (change.table_name.as_str(), change.action.as_str()) {
                ("people", "created") => {
                    sqlx::query("DELETE FROM person_categories WHERE person_id = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM session_invitees WHERE person_id = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM people WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                ("sessions", "created") => {
                    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                ("materials", "created") => {
                    sqlx::query("DELETE FROM materials WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                ("distributions", "created") => {
                    sqlx::query("DELETE FROM distributions WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                ("activities", "created") => {
                    sqlx::query("DELETE FROM distributions WHERE activity_id = $1").bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM activities WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                ("attendance", "created") => {
                    sqlx::query("DELETE FROM attendance WHERE id = $1").bind(id).execute(&mut *tx).await?;
                }
                ("people", "updated") => {
                    let p: PersonRow = serde_json::from_str(change.before.as_deref().unwrap_or_default())
                        .map_err(|_| restore_error("people"))?;
                    sqlx::query("UPDATE people SET name = $1, gender = $2, village_id = $3, post = $4, phone = $5, \
                                 id_number = $6, notes = $7, updated_at = $8 WHERE id = $9")
                        .bind(&p.name).bind(&p.gender).bind(p.village_id).bind(&p.post).bind(&p.phone)
                        .bind(&p.id_number).bind(&p.notes).bind(now()).bind(id)
                        .execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM person_categories WHERE person_id = $1").bind(id).execute(&mut *tx).await?;
                    for (category, since, until) in &p.categories {
                        sqlx::query("INSERT INTO person_categories (person_id, category, since, until) VALUES ($1, $2, $3, $4)")
                            .bind(id).bind(category.code()).bind(since).bind(until).execute(&mut *tx).await?;
                    }
                }
                ("distributions", "updated") => {
                    let d: DistributionRow = serde_json::from_str(change.before.as_deref().unwrap_or_default())
                        .map_err(|_| restore_error("distributions"))?;
                    sqlx::query("UPDATE distributions SET quantity = $1, recipients = $2, place = $3, handled_by = $4, \
                                 notes = $5, updated_at = $6 WHERE id = $7")
                        .bind(d.quantity).bind(&d.recipients).bind(&d.place).bind(&d.handled_by).bind(&d.notes)
                        .bind(now()).bind(id).execute(&mut *tx).await?;
                }
                ("activities", "updated") => {
                    let a: ActivityRow = serde_json::from_str(change.before.as_deref().unwrap_or_default())
                        .map_err(|_| restore_error("activities"))?;
                    sqlx::query("UPDATE activities SET form = $1, place = $2, audience_count = $3, speaker = $4, \
                                 venue = $5, notes = $6, updated_at = $7 WHERE id = $8")
                        .bind(&a.form).bind(&a.place).bind(a.audience_count).bind(&a.speaker).bind(&a.venue)
                        .bind(&a.notes).bind(now()).bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM activity_audience_groups WHERE activity_id = $1").bind(id).execute(&mut *tx).await?;
                    for group in &a.audience_groups {
                        sqlx::query("INSERT INTO activity_audience_groups (activity_id, audience_group) VALUES ($1, $2)")
                            .bind(id).bind(group).execute(&mut *tx).await?;
                    }
                }
                ("attendance", "updated") => {
                    let r: AttendanceRow = serde_json::from_str(change.before.as_deref().unwrap_or_default())
                        .map_err(|_| restore_error("attendance"))?;
                    sqlx::query("UPDATE attendance SET status = $1, hours_credited = $2, updated_at = $3 WHERE id = $4")
                        .bind(&r.status).bind(r.hours_credited).bind(now()).bind(id).execute(&mut *tx).await?;
                }
                (table, _) => return Err(restore_error(table)),
            }
        }
        // What the batch created carries its id. Rows of sessions or activities it created
        // that later work added would go with them (cascade): refuse instead.
        const USED: &str = "SELECT EXISTS (SELECT 1 FROM attendance a JOIN sessions s ON s.id = a.session_id \
             WHERE s.import_batch_id = $1 AND (a.import_batch_id IS NULL OR a.import_batch_id <> $1)) \
             OR EXISTS (SELECT 1 FROM distributions d JOIN activities x ON x.id = d.activity_id \
             WHERE x.import_batch_id = $1 AND (d.import_batch_id IS NULL OR d.import_batch_id <> $1))";
        let used: bool = sqlx::query_scalar(USED).bind(batch_id).fetch_one(&mut *tx).await?;
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
            sqlx::query(sql).bind(batch_id).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE import_batches SET status = 'undone', undone_at = $1, undone_by = $2 WHERE id = $3")
            .bind(now()).bind(by_user).bind(batch_id).execute(&mut *tx).await?;
        let entry = super::audit::AuditEntry::new(by_user, "undo", "import_batch", batch_id);
        super::audit::record_audit!(&mut *tx, &entry)?;
        tx.commit().await?;
    });
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

/// Everyone in the registry, for matching rows to people without a query per row:
/// (id, village, name, phone, ID number).
pub async fn people_index(
    db: &Db,
) -> StoreResult<Vec<(i64, Option<i64>, String, Option<String>, Option<String>)>> {
    const SQL: &str = "SELECT id, village_id, name, phone, id_number FROM people ORDER BY id";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Sessions starting in [from, to): (id, start, topic, village).
pub async fn sessions_index(
    db: &Db,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> StoreResult<Vec<(i64, chrono::NaiveDateTime, String, Option<i64>)>> {
    const SQL: &str = "SELECT id, starts_at, topic, village_id FROM sessions WHERE starts_at >= $1 AND starts_at < $2";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).bind(from).bind(to).fetch_all(pool).await?);
    Ok(rows)
}

/// Attendance rows of a session: (id, person, status, hours).
pub async fn attendance_of(db: &Db, session_id: i64) -> StoreResult<Vec<(i64, i64, String, f64)>> {
    const SQL: &str =
        "SELECT id, person_id, status, hours_credited FROM attendance WHERE session_id = $1";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).bind(session_id).fetch_all(pool).await?);
    Ok(rows)
}

/// Imported distributions by their key: (key, id, material, date, village, quantity, recipients, place, handled_by, notes).
#[allow(clippy::type_complexity)]
pub async fn distribution_keys(
    db: &Db,
) -> StoreResult<
    Vec<(
        String,
        i64,
        i64,
        NaiveDate,
        Option<i64>,
        i64,
        String,
        String,
        String,
        String,
    )>,
> {
    const SQL: &str = "SELECT import_key, id, material_id, distributed_on, village_id, quantity, recipients, place, \
         handled_by, notes FROM distributions WHERE import_key IS NOT NULL";
    let rows = on_pool!(db, pool => sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Imported activities by their key, with their audience groups as stored codes.
#[allow(clippy::type_complexity)]
pub async fn activity_keys(
    db: &Db,
) -> StoreResult<
    Vec<(
        String,
        i64,
        NaiveDate,
        Option<i64>,
        String,
        String,
        Option<String>,
        i64,
        String,
        String,
        String,
    )>,
> {
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
