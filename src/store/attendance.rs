//! Attendance (签到/考勤): one row per session × person, and what it adds up to.

use chrono::{NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditEntry};
use super::params::{scope_params, values_rows, village_condition, BindParams, Param};
use super::{now, on_pool, Db, StoreResult, Tx};
use crate::domain::dates::Period;
use crate::domain::session::{AttendanceSource, AttendanceStatus, SessionKind};
use crate::domain::{Category, VillageScope};

/// One line of the attendance grid: an invitee or a walk-in, with what was recorded.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct GridRow {
    pub person_id: i64,
    pub name: String,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub post: String,
    pub invited: bool,
    pub status: Option<String>,
    pub hours_credited: Option<f64>,
    pub source: Option<String>,
}

/// Invitees and everyone with an attendance row, of the villages in `scope`.
pub async fn grid(db: &Db, session_id: i64, scope: VillageScope) -> StoreResult<Vec<GridRow>> {
    let sql = format!("SELECT p.id AS person_id, p.name, p.village_id, v.name AS village_name, p.post, \
         EXISTS (SELECT 1 FROM session_invitees i WHERE i.session_id = $1 AND i.person_id = p.id) AS invited, \
         a.status, a.hours_credited, a.source \
         FROM people p LEFT JOIN villages v ON v.id = p.village_id \
         LEFT JOIN attendance a ON a.session_id = $1 AND a.person_id = p.id \
         WHERE (a.id IS NOT NULL OR EXISTS (SELECT 1 FROM session_invitees i WHERE i.session_id = $1 AND i.person_id = p.id)) \
         AND {} ORDER BY v.display_order, p.village_id, p.name, p.id",
        village_condition("p.village_id", 2)
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, GridRow>(&sql)
        .bind(session_id)
        .bind_params(&scope_params(scope))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// A mark to save for one person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mark {
    pub person_id: i64,
    pub status: AttendanceStatus,
    pub hours_credited: f64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct Existing {
    status: String,
    hours_credited: f64,
}

const UPSERT: &str = "INSERT INTO attendance (session_id, person_id, status, hours_credited, source, checked_in_at, \
     updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (session_id, person_id) DO UPDATE SET status = excluded.status, \
     hours_credited = excluded.hours_credited, source = excluded.source, \
     checked_in_at = COALESCE(excluded.checked_in_at, attendance.checked_in_at), \
     updated_by = excluded.updated_by, updated_at = excluded.updated_at";

/// Inserts or replaces one person's mark at a session.
pub async fn upsert(
    tx: &mut Tx,
    session_id: i64,
    mark: &Mark,
    source: AttendanceSource,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let checked_in_at = (source == AttendanceSource::SelfCheckin).then(now);
    on_pool!(Tx(tx), |conn| {
        sqlx::query(UPSERT)
            .bind(session_id)
            .bind(mark.person_id)
            .bind(mark.status.code())
            .bind(mark.hours_credited)
            .bind(source.code())
            .bind(checked_in_at)
            .bind(by_user)
            .bind(now())
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

async fn existing_mark(
    tx: &mut Tx,
    session_id: i64,
    person_id: i64,
) -> StoreResult<Option<Existing>> {
    const SQL: &str =
        "SELECT status, hours_credited FROM attendance WHERE session_id = $1 AND person_id = $2";
    let row = on_pool!(Tx(tx), |conn| sqlx::query_as::<_, Existing>(SQL)
        .bind(session_id)
        .bind(person_id)
        .fetch_optional(&mut *conn)
        .await?);
    Ok(row)
}

/// Saves the marks in one transaction; only changed rows are written and audited. The
/// session becomes “held”. Returns how many rows changed.
pub async fn save_marks(
    db: &Db,
    session_id: i64,
    marks: &[Mark],
    source: AttendanceSource,
    by_user: Option<i64>,
) -> StoreResult<usize> {
    let mut tx = db.begin().await?;
    let mut changed = 0;
    for mark in marks {
        let before = existing_mark(&mut tx, session_id, mark.person_id).await?;
        let same = before.as_ref().is_some_and(|b| {
            b.status == mark.status.code() && (b.hours_credited - mark.hours_credited).abs() < 1e-9
        });
        if same {
            continue;
        }
        upsert(&mut tx, session_id, mark, source, by_user).await?;
        let before_json = before.map(|b| {
            serde_json::json!({
                "person_id": mark.person_id, "status": b.status, "hours_credited": b.hours_credited })
        });
        let entry = AuditEntry {
            before: before_json.map(|b| b.to_string()),
            ..AuditEntry::new(by_user, "attendance", "session", session_id)
        }
        .after(
            &serde_json::json!({ "person_id": mark.person_id, "status": mark.status.code(),
            "hours_credited": mark.hours_credited, "source": source.code() }),
        );
        audit::record(&mut tx, &entry).await?;
        changed += 1;
    }
    if !marks.is_empty() {
        super::sessions::mark_held(&mut tx, session_id).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// The mark columns an import compares, writes and (on undo) restores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRow {
    pub status: String,
    pub hours_credited: f64,
}

/// Writes a mark over an attendance row; `source` and `by_user` are kept as they were when
/// not given (an undo restores only the mark).
pub async fn overwrite(
    tx: &mut Tx,
    id: i64,
    row: &AttendanceRow,
    source: Option<AttendanceSource>,
    by_user: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str = "UPDATE attendance SET status = $1, hours_credited = $2, \
         source = COALESCE($3, source), updated_by = COALESCE($4, updated_by), updated_at = $5 WHERE id = $6";
    on_pool!(Tx(tx), |conn| {
        sqlx::query(SQL)
            .bind(&row.status)
            .bind(row.hours_credited)
            .bind(source.map(AttendanceSource::code))
            .bind(by_user)
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// A new attendance row of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedMark {
    pub session_id: i64,
    pub person_id: i64,
    pub status: String,
    pub hours_credited: f64,
}

/// Attendance rows per multi-row INSERT (7 parameters each, far below both backends' limits).
pub const IMPORT_CHUNK: usize = 500;

/// Inserts an import's new attendance rows with one statement. Beside the grid's `UPSERT`
/// (one mark, replacing what is there) this is the bulk path: the planner has already sorted
/// out which rows are new, so a plain multi-row INSERT of up to `IMPORT_CHUNK` rows is right.
pub async fn insert_imported(
    tx: &mut Tx,
    marks: &[ImportedMark],
    batch_id: i64,
    by_user: Option<i64>,
) -> StoreResult<()> {
    if marks.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO attendance (session_id, person_id, status, hours_credited, source, import_batch_id, \
         updated_by, updated_at) VALUES {}",
        values_rows(
            matches!(tx, Tx::Sqlite(_)),
            marks.len(),
            "(?, ?, ?, ?, 'import', ?, ?, ?)"
        )
    );
    let at = now();
    let params: Vec<Param> = marks
        .iter()
        .flat_map(|m| {
            [
                m.session_id.into(),
                m.person_id.into(),
                m.status.as_str().into(),
                m.hours_credited.into(),
                batch_id.into(),
                by_user.into(),
                at.into(),
            ]
        })
        .collect();
    on_pool!(Tx(tx), |conn| {
        sqlx::query(&sql)
            .bind_params(&params)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Whether the person already counts as present or late at the session.
/// A self check-in: the mark is written only where the person has none (one statement, so
/// two phones at once write it once, and an organizer's 请假/缺席 is never overwritten),
/// with its audit entry naming the address it came from. Returns the mark that was there
/// already, if any.
pub async fn check_in(
    db: &Db,
    session_id: i64,
    mark: &Mark,
    address: &str,
) -> StoreResult<Option<AttendanceStatus>> {
    const INSERT: &str = "INSERT INTO attendance (session_id, person_id, status, hours_credited, source, checked_in_at, \
         updated_by, updated_at) VALUES ($1, $2, $3, $4, 'self_checkin', $5, NULL, $5) \
         ON CONFLICT (session_id, person_id) DO NOTHING";
    const EXISTING: &str = "SELECT status FROM attendance WHERE session_id = $1 AND person_id = $2";
    let mut tx = db.begin().await?;
    let at = now();
    let inserted = on_pool!(Tx(&mut tx), |conn| sqlx::query(INSERT)
        .bind(session_id)
        .bind(mark.person_id)
        .bind(mark.status.code())
        .bind(mark.hours_credited)
        .bind(at)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    if inserted == 0 {
        let status: String = on_pool!(Tx(&mut tx), |conn| sqlx::query_scalar(EXISTING)
            .bind(session_id)
            .bind(mark.person_id)
            .fetch_one(&mut *conn)
            .await?);
        return Ok(AttendanceStatus::from_code(&status));
    }
    let entry =
        AuditEntry::new(None, "attendance", "session", session_id).after(&serde_json::json!({
            "person_id": mark.person_id, "status": mark.status.code(),
            "hours_credited": mark.hours_credited, "source": AttendanceSource::SelfCheckin.code(),
            "address": address,
        }));
    audit::record(&mut tx, &entry).await?;
    super::sessions::mark_held(&mut tx, session_id).await?;
    tx.commit().await?;
    Ok(None)
}

/// People who could check in to the session by name: its invitees, and the active people
/// of its village. (id, phone)
pub async fn checkin_candidates(
    db: &Db,
    session_id: i64,
    village_id: Option<i64>,
    name: &str,
) -> StoreResult<Vec<(i64, Option<String>)>> {
    const SQL: &str =
        "SELECT p.id, p.phone FROM people p WHERE p.name = $1 AND p.active = TRUE AND \
         (EXISTS (SELECT 1 FROM session_invitees i WHERE i.session_id = $2 AND i.person_id = p.id) \
          OR ($3 IS NOT NULL AND p.village_id = $3)) ORDER BY p.id";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, (i64, Option<String>)>(SQL)
        .bind(name)
        .bind(session_id)
        .bind(village_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// One session a person was expected at or attended, for their study record.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct StudyLine {
    pub session_id: i64,
    pub starts_at: NaiveDateTime,
    #[sqlx(try_from = "String")]
    pub kind: SessionKind,
    pub topic: String,
    pub status: Option<String>,
    pub hours_credited: Option<f64>,
}

/// The person's sessions in the period: invited to or recorded at, not cancelled.
pub async fn study_record(db: &Db, person_id: i64, period: Period) -> StoreResult<Vec<StudyLine>> {
    const SQL: &str = "SELECT s.id AS session_id, s.starts_at, s.kind, s.topic, a.status, a.hours_credited \
         FROM sessions s LEFT JOIN attendance a ON a.session_id = s.id AND a.person_id = $1 \
         WHERE s.starts_at >= $2 AND s.starts_at < $3 AND s.status <> 'cancelled' \
         AND (a.id IS NOT NULL OR EXISTS (SELECT 1 FROM session_invitees i WHERE i.session_id = s.id AND i.person_id = $1)) \
         ORDER BY s.starts_at, s.id";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, StudyLine>(SQL)
        .bind(person_id)
        .bind(period.from.and_time(NaiveTime::MIN))
        .bind(period.to.and_time(NaiveTime::MIN))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// A yearly study requirement for a category, optionally for one session kind.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq)]
pub struct Requirement {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub session_kind: String,
    pub min_sessions: i64,
    pub min_hours: f64,
}

pub async fn requirements(db: &Db) -> StoreResult<Vec<Requirement>> {
    const SQL: &str = "SELECT id, category, session_kind, min_sessions, min_hours FROM study_requirements ORDER BY id";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Requirement>(SQL)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn save_requirement(
    db: &Db,
    category: Category,
    kind: &str,
    min_sessions: i64,
    min_hours: f64,
    by_user: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str =
        "INSERT INTO study_requirements (category, session_kind, min_sessions, min_hours) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (category, session_kind) DO UPDATE SET \
         min_sessions = excluded.min_sessions, min_hours = excluded.min_hours RETURNING id";
    let mut tx = db.begin().await?;
    let id: i64 = on_pool!(Tx(&mut tx), |conn| {
        let id: i64 = sqlx::query_scalar(SQL)
            .bind(category.code())
            .bind(kind)
            .bind(min_sessions)
            .bind(min_hours)
            .fetch_one(&mut *conn)
            .await?;
        id
    });
    let entry = AuditEntry::new(by_user, "save", "study_requirement", id).after(&serde_json::json!({
        "category": category.code(), "session_kind": kind, "min_sessions": min_sessions, "min_hours": min_hours }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_requirement(db: &Db, id: i64, by_user: Option<i64>) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("DELETE FROM study_requirements WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "delete", "study_requirement", id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A person below a requirement in the period, with what they have so far.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, PartialEq)]
pub struct Shortfall {
    pub person_id: i64,
    pub name: String,
    pub village_name: Option<String>,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub session_kind: String,
    pub min_sessions: i64,
    pub min_hours: f64,
    pub sessions_attended: i64,
    pub hours: f64,
}

/// Everyone holding a required category (on `as_of`) who is below the requirement in the
/// period, optionally only one village. Aggregated in SQL.
pub async fn shortfalls(
    db: &Db,
    period: Period,
    as_of: chrono::NaiveDate,
    village: VillageScope,
) -> StoreResult<Vec<Shortfall>> {
    const SQL: &str = "SELECT p.id AS person_id, p.name, v.name AS village_name, r.category, r.session_kind, \
         r.min_sessions, r.min_hours, COUNT(x.person_id) AS sessions_attended, \
         CAST(COALESCE(SUM(x.hours_credited), 0) AS DOUBLE PRECISION) AS hours \
         FROM study_requirements r \
         JOIN person_categories c ON c.category = r.category \
              AND (c.since IS NULL OR c.since <= $3) AND (c.until IS NULL OR c.until >= $3) \
         JOIN people p ON p.id = c.person_id AND p.active = TRUE \
         LEFT JOIN villages v ON v.id = p.village_id \
         LEFT JOIN (SELECT a.person_id, s.kind, a.hours_credited FROM attendance a JOIN sessions s ON s.id = a.session_id \
              WHERE s.starts_at >= $1 AND s.starts_at < $2 AND s.status <> 'cancelled' \
              AND a.status IN ('present', 'late') \
              UNION ALL SELECT person_id, 'self_study', hours FROM self_study WHERE studied_on >= $6 AND studied_on < $7) x \
              ON x.person_id = p.id AND ((r.session_kind = '' AND x.kind <> 'self_study') OR x.kind = r.session_kind) \
         WHERE ($4 = 'any' OR ($4 = 'township' AND p.village_id IS NULL) OR p.village_id = $5) \
         GROUP BY p.id, p.name, v.name, v.display_order, r.id, r.category, r.session_kind, r.min_sessions, r.min_hours \
         HAVING COUNT(x.person_id) < r.min_sessions OR COALESCE(SUM(x.hours_credited), 0) < r.min_hours \
         ORDER BY v.display_order, v.name, p.name, p.id, r.id";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Shortfall>(SQL)
        .bind(period.from.and_time(NaiveTime::MIN))
        .bind(period.to.and_time(NaiveTime::MIN))
        .bind(as_of)
        .bind_params(&scope_params(village))
        .bind(period.from)
        .bind(period.to)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}
