//! Law-study sessions (学法活动), their series and invitees.

use chrono::{NaiveDateTime, NaiveTime};
use serde::Serialize;

use super::audit::{self, AuditEntry};
pub use super::invitees::{
    add_invitees, invitees, people_matching, remove_invitee, shared_invitees, Invitee,
};
use super::params::{
    insert_returning_ids, scope_params, values_rows, village_condition, BindParams, Param,
};
use super::{now, on_pool, Db, StoreResult, Tx};
use crate::domain::dates::Period;
use crate::domain::schedule::{Recurrence, SessionDraft};
use crate::domain::session::{SessionKind, SessionStatus};
use crate::domain::VillageScope;

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Session {
    pub id: i64,
    pub series_id: Option<i64>,
    #[sqlx(try_from = "String")]
    pub kind: SessionKind,
    pub topic: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub venue: String,
    pub speaker: String,
    pub organizer: String,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub hours_credited: f64,
    #[sqlx(try_from = "String")]
    pub status: SessionStatus,
    pub notes: String,
    pub checkin_token: String,
    pub checkin_reopened_until: Option<NaiveDateTime>,
}

impl Session {
    pub fn draft(&self) -> SessionDraft {
        SessionDraft {
            kind: self.kind,
            topic: self.topic.clone(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            venue: self.venue.clone(),
            speaker: self.speaker.clone(),
            organizer: self.organizer.clone(),
            village_id: self.village_id,
            hours_credited: self.hours_credited,
            notes: self.notes.clone(),
        }
    }

    /// The number printed on the sign-in sheet, which brings a filled-in sheet back here.
    pub fn number(&self) -> String {
        format!("XF-{:06}", self.id)
    }
}

/// Reads a session number as printed (XF-000123), or a bare id.
pub fn parse_session_number(text: &str) -> Option<i64> {
    let text = crate::domain::text::to_half_width(text);
    let text = text.trim();
    let digits = text
        .strip_prefix("XF-")
        .or_else(|| text.strip_prefix("xf-"))
        .unwrap_or(text);
    digits.parse().ok().filter(|id| *id > 0)
}

#[derive(Debug, Clone)]
pub struct SessionFilter {
    pub period: Period,
    /// The villages; with `include_township` also the township-level sessions (a clerk's
    /// view of their village).
    pub village: VillageScope,
    pub include_township: bool,
    pub kind: Option<SessionKind>,
    pub status: Option<SessionStatus>,
}

const SELECT: &str = "SELECT s.id, s.series_id, s.kind, s.topic, s.starts_at, s.ends_at, s.venue, s.speaker, \
     s.organizer, s.village_id, v.name AS village_name, s.hours_credited, s.status, s.notes, s.checkin_token, \
     s.checkin_reopened_until";
const FROM: &str = "FROM sessions s LEFT JOIN villages v ON v.id = s.village_id";
const FILTER: &str = "WHERE s.starts_at >= $1 AND s.starts_at < $2 \
     AND ($3 = 'any' OR ($3 = 'township' AND s.village_id IS NULL) OR ($3 = 'village' AND s.village_id = $4) OR ($5 AND s.village_id IS NULL)) \
     AND ($6 IS NULL OR s.kind = $6) AND ($7 IS NULL OR s.status = $7)";

fn midnight(day: chrono::NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN)
}

impl SessionFilter {
    /// The values of `FILTER`'s $1..$7, in order.
    fn params(&self) -> Vec<Param> {
        vec![
            midnight(self.period.from).into(),
            midnight(self.period.to).into(),
            self.village.code().into(),
            self.village.village().into(),
            self.include_township.into(),
            self.kind.map(SessionKind::code).into(),
            self.status.map(SessionStatus::code).into(),
        ]
    }
}

pub async fn list(
    db: &Db,
    filter: &SessionFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<Session>> {
    let sql = format!("{SELECT} {FROM} {FILTER} ORDER BY s.starts_at, s.id LIMIT $8 OFFSET $9");
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Session>(&sql)
        .bind_params(&filter.params())
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn count(db: &Db, filter: &SessionFilter) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) {FROM} {FILTER}");
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(&sql)
        .bind_params(&filter.params())
        .fetch_one(pool)
        .await?);
    Ok(n)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<Session>> {
    let sql = format!("{SELECT} {FROM} WHERE s.id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Session>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// A new meeting's check-in seed. The link is signed from it with the server key
/// (`services::attendance::checkin_link_token`); the prefix tells it from a token an earlier
/// version kept in full.
fn new_checkin_seed() -> String {
    format!("seed:{}", crate::random_token())
}

/// Meetings whose check-in token an earlier version kept in full.
pub async fn unhashed_checkin_tokens(db: &Db) -> StoreResult<Vec<(i64, String)>> {
    const SQL: &str = "SELECT id, checkin_token FROM sessions \
         WHERE checkin_token NOT LIKE 'seed:%' AND checkin_token NOT LIKE 'legacy:%'";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, (i64, String)>(SQL)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Replaces a meeting's stored check-in token (no audit entry: its links keep working).
pub async fn set_checkin_seed(db: &Db, id: i64, seed: &str) -> StoreResult<()> {
    const SQL: &str = "UPDATE sessions SET checkin_token = $1 WHERE id = $2";
    on_pool!(db, |pool| {
        sqlx::query(SQL).bind(seed).bind(id).execute(pool).await?;
    });
    Ok(())
}

pub async fn find_by_checkin_token(db: &Db, token: &str) -> StoreResult<Option<Session>> {
    let sql = format!("{SELECT} {FROM} WHERE s.checkin_token = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Session>(&sql)
        .bind(token)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// Sessions of the same series from `from` on, oldest first.
pub async fn series_from(
    db: &Db,
    series_id: i64,
    from: NaiveDateTime,
) -> StoreResult<Vec<Session>> {
    let sql = format!(
        "{SELECT} {FROM} WHERE s.series_id = $1 AND s.starts_at >= $2 ORDER BY s.starts_at, s.id"
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Session>(&sql)
        .bind(series_id)
        .bind(from)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Sessions (not cancelled) that overlap the time range; touching ends do not overlap.
pub async fn overlapping(
    db: &Db,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    except: &[i64],
) -> StoreResult<Vec<Session>> {
    let sql = format!(
        "{SELECT} {FROM} WHERE s.status <> 'cancelled' AND s.starts_at < $1 AND s.ends_at > $2 ORDER BY s.starts_at"
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Session>(&sql)
        .bind(ends_at)
        .bind(starts_at)
        .fetch_all(pool)
        .await?);
    Ok(rows
        .into_iter()
        .filter(|s| !except.contains(&s.id))
        .collect())
}

/// Planned sessions of villages in `scope` that ended before `now`: held, or not, but with
/// no attendance taken (已过期未考勤).
pub async fn overdue(db: &Db, scope: VillageScope, now: NaiveDateTime) -> StoreResult<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM sessions WHERE status = 'planned' AND ends_at < $1 AND {}",
        village_condition("village_id", 2)
    );
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(&sql)
        .bind(now)
        .bind_params(&scope_params(scope))
        .fetch_one(pool)
        .await?);
    Ok(n)
}

/// Whether the session exists and belongs to a village in `scope`.
pub async fn exists_visible(db: &Db, id: i64, scope: VillageScope) -> StoreResult<bool> {
    let sql = format!(
        "SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1 AND {})",
        village_condition("village_id", 2)
    );
    let found = on_pool!(db, |pool| sqlx::query_scalar::<_, bool>(&sql)
        .bind(id)
        .bind_params(&scope_params(scope))
        .fetch_one(pool)
        .await?);
    Ok(found)
}

/// The values of the columns `insert` and `overwrite` both write, in their order.
fn columns(draft: &SessionDraft) -> Vec<Param> {
    vec![
        draft.kind.code().into(),
        draft.topic.as_str().into(),
        draft.starts_at.into(),
        draft.ends_at.into(),
        draft.venue.as_str().into(),
        draft.speaker.as_str().into(),
        draft.organizer.as_str().into(),
        draft.village_id.into(),
        draft.hours_credited.into(),
        draft.notes.as_str().into(),
    ]
}

/// Inserts a session (of a series, if given) without auditing it: the form's `create`
/// audits it, an import records its batch instead.
pub async fn insert(
    tx: &mut Tx,
    series_id: Option<i64>,
    draft: &SessionDraft,
    status: SessionStatus,
    batch_id: Option<i64>,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO sessions (series_id, kind, topic, starts_at, ends_at, venue, speaker, organizer, \
         village_id, hours_credited, notes, status, checkin_token, import_batch_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16) RETURNING id";
    let id = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
        .bind(series_id)
        .bind_params(&columns(draft))
        .bind(status.code())
        .bind(new_checkin_seed())
        .bind(batch_id)
        .bind(by_user)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    Ok(id)
}

/// Sessions per multi-row INSERT (16 parameters each).
pub const INSERT_CHUNK: usize = 250;

/// Inserts the sessions an import holds (status held, no series, not audited: the batch
/// records them), a statement per `INSERT_CHUNK`; returns their ids in order.
pub async fn insert_many_held(
    tx: &mut Tx,
    drafts: &[&SessionDraft],
    batch_id: i64,
    by_user: Option<i64>,
) -> StoreResult<Vec<i64>> {
    let sqlite = matches!(tx, Tx::Sqlite(_));
    let at = now();
    let mut ids = Vec::with_capacity(drafts.len());
    for chunk in drafts.chunks(INSERT_CHUNK) {
        let sql = format!(
            "INSERT INTO sessions (series_id, kind, topic, starts_at, ends_at, venue, speaker, \
             organizer, village_id, hours_credited, notes, status, checkin_token, import_batch_id, \
             created_by, created_at, updated_at) VALUES {} RETURNING id",
            values_rows(
                sqlite,
                chunk.len(),
                "(NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
        );
        let params: Vec<Param> = chunk
            .iter()
            .flat_map(|draft| {
                let mut row = columns(draft);
                row.extend([
                    SessionStatus::Held.code().into(),
                    new_checkin_seed().as_str().into(),
                    batch_id.into(),
                    by_user.into(),
                    at.into(),
                    at.into(),
                ]);
                row
            })
            .collect();
        ids.extend(insert_returning_ids(tx, &sql, &params, chunk.len()).await?);
    }
    Ok(ids)
}

/// Inserts a planned session and its audit entry.
async fn insert_planned(
    tx: &mut Tx,
    series_id: Option<i64>,
    draft: &SessionDraft,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    let id = insert(tx, series_id, draft, SessionStatus::Planned, None, by_user).await?;
    let entry = AuditEntry::new(by_user, "create", "session", id).after(draft);
    audit::record(tx, &entry).await?;
    Ok(id)
}

pub async fn create(db: &Db, draft: &SessionDraft, by_user: Option<i64>) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let id = insert_planned(&mut tx, None, draft, by_user).await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates a series and one session per date, in one transaction; returns the session ids.
pub async fn create_series(
    db: &Db,
    draft: &SessionDraft,
    rule: &Recurrence,
    dates: &[chrono::NaiveDate],
    by_user: Option<i64>,
) -> StoreResult<Vec<i64>> {
    const SERIES: &str = "INSERT INTO session_series (kind, topic, rule, first_date, until_date, occurrences, \
         village_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
    let rule_json = serde_json::to_string(rule).unwrap_or_default();
    let mut tx = db.begin().await?;
    let series_id: i64 = on_pool!(Tx(&mut tx), |conn| sqlx::query_scalar(SERIES)
        .bind(draft.kind.code())
        .bind(&draft.topic)
        .bind(&rule_json)
        .bind(dates.first().copied())
        .bind(dates.last().copied())
        .bind(dates.len() as i64)
        .bind(draft.village_id)
        .bind(by_user)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    let mut ids = Vec::with_capacity(dates.len());
    for day in dates {
        ids.push(insert_planned(&mut tx, Some(series_id), &draft.on(*day), by_user).await?);
    }
    tx.commit().await?;
    Ok(ids)
}

/// The series rule, for showing how the series repeats.
pub async fn series_rule(db: &Db, series_id: i64) -> StoreResult<Option<Recurrence>> {
    const SQL: &str = "SELECT rule FROM session_series WHERE id = $1";
    let rule = on_pool!(db, |pool| sqlx::query_scalar::<_, String>(SQL)
        .bind(series_id)
        .fetch_optional(pool)
        .await?);
    Ok(rule.and_then(|r| serde_json::from_str(&r).ok()))
}

/// Writes new values over a session.
pub async fn overwrite(tx: &mut Tx, id: i64, draft: &SessionDraft) -> StoreResult<()> {
    const SQL: &str = "UPDATE sessions SET kind = $1, topic = $2, starts_at = $3, ends_at = $4, venue = $5, \
         speaker = $6, organizer = $7, village_id = $8, hours_credited = $9, notes = $10, updated_at = $11 \
         WHERE id = $12";
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

/// Saves new values for each (session, draft) pair in one transaction, with audit entries.
pub async fn update_many(
    db: &Db,
    changes: &[(Session, SessionDraft)],
    by_user: Option<i64>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    for (before, draft) in changes {
        overwrite(&mut tx, before.id, draft).await?;
        let entry = AuditEntry::new(by_user, "update", "session", before.id)
            .before(&before.draft())
            .after(draft);
        audit::record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets the status of these sessions, in one transaction, with audit entries.
pub async fn set_status(
    db: &Db,
    sessions: &[Session],
    status: SessionStatus,
    by_user: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str = "UPDATE sessions SET status = $1, updated_at = $2 WHERE id = $3";
    let mut tx = db.begin().await?;
    for s in sessions {
        on_pool!(Tx(&mut tx), |conn| {
            sqlx::query(SQL)
                .bind(status.code())
                .bind(now())
                .bind(s.id)
                .execute(&mut *conn)
                .await?;
        });
        let entry = AuditEntry::new(by_user, "status", "session", s.id)
            .before(&serde_json::json!({ "status": s.status.code() }))
            .after(&serde_json::json!({ "status": status.code() }));
        audit::record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A planned session becomes held once attendance is taken.
pub async fn mark_held(tx: &mut Tx, id: i64) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE sessions SET status = 'held', updated_at = $1 WHERE id = $2 AND status = 'planned'";
    on_pool!(Tx(tx), |conn| {
        sqlx::query(SQL)
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

pub async fn reopen_checkin(
    db: &Db,
    id: i64,
    until: NaiveDateTime,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("UPDATE sessions SET checkin_reopened_until = $1 WHERE id = $2")
            .bind(until)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    let entry = AuditEntry::new(by_user, "reopen_checkin", "session", id)
        .after(&serde_json::json!({ "until": until }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}
