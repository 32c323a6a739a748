//! Undoing a batch: what it created goes, what it updated gets its old values back.

use chrono::{DateTime, Utc};

use super::{ActivityRow, DistributionRow, ImportTx};
use crate::store::activities;
use crate::store::attendance::{self, AttendanceRow};
use crate::store::audit::{self, AuditEntry};
use crate::store::distributions;
use crate::store::people::{self, PersonRecord};
use crate::store::self_study::{self, SelfStudyRecord};
use crate::store::{now, on_pool, Db, StoreError, StoreResult, Tx};

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
    on_pool!(Tx(tx), |conn| {
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
        ("self_study", "updated") => {
            let record: SelfStudyRecord = before_value(change)?;
            self_study::overwrite(tx, id, &record).await?;
        }
        ("attendance", "updated") => {
            let row: AttendanceRow = before_value(change)?;
            attendance::overwrite(tx, id, &row, None, None).await?;
        }
        (table, _) => return Err(restore_error(table)),
    }
    Ok(())
}

/// How many hand-edited rows an undo refusal names (one more is looked up, to say there are
/// more).
pub const EDITS_NAMED: usize = 10;

/// Rows the batch created or updated that were changed after it committed by hand: (table,
/// id), at most `EDITS_NAMED + 1`. Rows a later import wrote (and perhaps its undo restored) are that
/// import's business, as before.
async fn edited_since(tx: &mut Tx, batch_id: i64) -> StoreResult<Vec<(String, i64)>> {
    const WHEN: &str = "SELECT committed_at, uploaded_at FROM import_batches WHERE id = $1";
    let (committed, uploaded): (Option<DateTime<Utc>>, DateTime<Utc>) =
        on_pool!(Tx(tx), |conn| sqlx::query_as(WHEN)
            .bind(batch_id)
            .fetch_one(&mut *conn)
            .await?);
    // Batches from before the commit time was kept: their own writes took well under an hour.
    let since = committed.unwrap_or(uploaded + chrono::Duration::hours(1));
    let mut edited = Vec::new();
    for table in [
        "people",
        "sessions",
        "attendance",
        "activities",
        "distributions",
        "self_study",
    ] {
        let sql = format!(
            "SELECT id FROM {table} t WHERE updated_at > $1 AND (import_batch_id = $2 OR id IN \
             (SELECT row_id FROM import_changes WHERE batch_id = $2 AND table_name = '{table}')) \
             AND NOT EXISTS (SELECT 1 FROM import_changes c WHERE c.table_name = '{table}' \
             AND c.row_id = t.id AND c.batch_id > $2) ORDER BY id LIMIT {}",
            EDITS_NAMED + 1
        );
        let ids: Vec<i64> = on_pool!(Tx(tx), |conn| sqlx::query_scalar(&sql)
            .bind(since)
            .bind(batch_id)
            .fetch_all(&mut *conn)
            .await?);
        edited.extend(ids.into_iter().map(|id| (table.to_string(), id)));
    }
    edited.truncate(EDITS_NAMED + 1);
    Ok(edited)
}

/// What a row is, in the words of its page (a person's name; a session's date and topic;
/// whose mark at which session …), for a clerk to find it; the id where the row has gone.
async fn describe(tx: &mut Tx, table: &str, id: i64) -> StoreResult<String> {
    let day = |column: &str| format!("substr(CAST({column} AS TEXT), 1, 10)");
    let sql = match table {
        "people" => "SELECT name FROM people WHERE id = $1".to_string(),
        "sessions" => format!(
            "SELECT {} || ' ' || topic FROM sessions WHERE id = $1",
            day("starts_at")
        ),
        "attendance" => format!(
            "SELECT p.name || '（' || {} || ' ' || s.topic || '）' FROM attendance a \
             JOIN people p ON p.id = a.person_id JOIN sessions s ON s.id = a.session_id \
             WHERE a.id = $1",
            day("s.starts_at")
        ),
        "activities" => format!(
            "SELECT {} || ' ' || topic FROM activities WHERE id = $1",
            day("held_on")
        ),
        "distributions" => format!(
            "SELECT {} || ' ' || m.title || ' ' || CAST(d.quantity AS TEXT) || '份' \
             FROM distributions d JOIN materials m ON m.id = d.material_id WHERE d.id = $1",
            day("d.distributed_on")
        ),
        "self_study" => format!(
            "SELECT p.name || '（' || {} || ' ' || x.content || '）' FROM self_study x \
             JOIN people p ON p.id = x.person_id WHERE x.id = $1",
            day("x.studied_on")
        ),
        _ => return Ok(format!("#{id}")),
    };
    let what: Option<String> = on_pool!(Tx(tx), |conn| sqlx::query_scalar(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?);
    Ok(what.unwrap_or_else(|| format!("#{id}")))
}

/// Removes what the batch created and restores what it updated, newest change first, in
/// one transaction taken in the imports' turn (no import plans against rows it removes).
/// The batch is marked undone first, so a second undo of it finds nothing to do. A
/// foreign-key error means later work depends on the batch.
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
    const MARK_UNDONE: &str = "UPDATE import_batches SET status = 'undone', undone_at = $1, \
         undone_by = $2 WHERE id = $3 AND status = 'committed'";
    let ImportTx { mut tx, _turn } = super::begin_exclusive(db).await?;
    let marked = on_pool!(Tx(&mut tx), |conn| sqlx::query(MARK_UNDONE)
        .bind(now())
        .bind(by_user)
        .bind(batch_id)
        .execute(&mut *conn)
        .await?
        .rows_affected());
    if marked != 1 {
        return Err(StoreError::AlreadyUndone);
    }
    let edited = edited_since(&mut tx, batch_id).await?;
    if !edited.is_empty() {
        let mut described = Vec::with_capacity(edited.len());
        for (table, id) in edited {
            let what = describe(&mut tx, &table, id).await?;
            described.push((table, what));
        }
        return Err(StoreError::EditedSince(described));
    }
    let changes = on_pool!(Tx(&mut tx), |conn| sqlx::query_as::<_, Change>(CHANGES)
        .bind(batch_id)
        .fetch_all(&mut *conn)
        .await?);
    for change in &changes {
        revert(&mut tx, change).await?;
    }
    let used: bool = on_pool!(Tx(&mut tx), |conn| sqlx::query_scalar(USED)
        .bind(batch_id)
        .fetch_one(&mut *conn)
        .await?);
    if used {
        return Err(StoreError::InUse);
    }
    for sql in [
        "DELETE FROM attendance WHERE import_batch_id = $1",
        "DELETE FROM self_study WHERE import_batch_id = $1",
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
    let entry = AuditEntry::new(by_user, "undo", "import_batch", batch_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}
