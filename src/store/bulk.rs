//! Long read-only lists on SQLite (the year-end workbook's tens of thousands of rows),
//! stepped on one blocking thread with a connection of their own.
//!
//! sqlx runs each SQLite connection on a worker thread and hands every row to the async
//! task through a channel: at a county's 50,000 distributions that cost 10-35 µs per row
//! (thread wake-ups, a copy of each value), 20 times SQLite's own time for the query.
//! Here the rows are stepped and decoded where they are read. PostgreSQL, and SQLite
//! databases without a file of their own, keep the usual sqlx query.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{OpenFlags, ToSql};

use super::params::{BindParams, Param};
use super::{on_pool, Db, StoreResult};

/// The SQLite file of `db` when a second connection can open it: asked of SQLite itself,
/// which names no file for an in-memory database (sqlx's own name for one is not a path).
/// `None` for PostgreSQL.
pub(crate) async fn sqlite_file(db: &Db) -> StoreResult<Option<PathBuf>> {
    let Db::Sqlite(pool) = db else {
        return Ok(None);
    };
    let file: Option<String> =
        sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_optional(pool)
            .await?;
    Ok(file.filter(|f| !f.is_empty()).map(PathBuf::from))
}

/// `param` as sqlx writes it to SQLite (dates and times as the same text), so that the
/// comparisons in a query see the same values on either path.
impl ToSql for Param {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        let value = match self {
            Param::Int(v) => v.map_or(Value::Null, Value::Integer),
            Param::Real(v) => Value::Real(*v),
            Param::Text(v) => v.clone().map_or(Value::Null, Value::Text),
            Param::Bool(v) => Value::Integer(i64::from(*v)),
            Param::Date(v) => v.map_or(Value::Null, |d| Value::Text(d.format("%F").to_string())),
            Param::DateTime(v) => Value::Text(v.format("%F %T%.f").to_string()),
            Param::Instant(v) => {
                Value::Text(v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false))
            }
        };
        Ok(ToSqlOutput::Owned(value))
    }
}

/// At most this many bulk reads at once (each holds a connection, a blocking thread and
/// its whole list): more wait for a turn, as they would for the pool's connections.
static READS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Binds `$1`, `$2`, … of `statement` from `params`; any other parameter, or a number
/// past `params`, is an error rather than a NULL.
fn bind(statement: &mut rusqlite::Statement<'_>, params: &[Param]) -> rusqlite::Result<()> {
    for index in 1..=statement.parameter_count() {
        let param = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| params.get(n.checked_sub(1)?));
        match param {
            Some(param) => statement.raw_bind_parameter(index, param)?,
            None => return Err(rusqlite::Error::InvalidParameterCount(index, params.len())),
        }
    }
    Ok(())
}

/// Every row of `sql` (parameters `$1`, `$2`, … bound from `params` by number) decoded by
/// `row`, read from `file` on a blocking thread.
async fn read_all<T, F>(
    file: PathBuf,
    sql: String,
    params: Vec<Param>,
    row: F,
) -> StoreResult<Vec<T>>
where
    T: Send + 'static,
    F: Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    // Dropped unfinished (the workbook failed on the way, or its task was stopped), this
    // future stops the read too: SQLite checks the flag every few thousand steps.
    let stop = Stop(Arc::new(AtomicBool::new(false)));
    let stopped = Arc::clone(&stop.0);
    let read = move || -> rusqlite::Result<Vec<T>> {
        // Opened for reading and writing (a read-only connection cannot always join a WAL
        // database), then held to reading.
        let conn = rusqlite::Connection::open_with_flags(
            &file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.progress_handler(4096, Some(move || stopped.load(Ordering::Relaxed)));
        let mut statement = conn.prepare(&sql)?;
        bind(&mut statement, &params)?;
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row(r)?);
        }
        Ok(out)
    };
    let _turn = READS.acquire().await.map_err(std::io::Error::other)?;
    let rows = tokio::task::spawn_blocking(read)
        .await
        .map_err(std::io::Error::other)?;
    drop(stop);
    Ok(rows?)
}

/// Every row of `sql` (parameters `$1`, `$2`, … from `params`): read on the side by `row`
/// when `db` is a SQLite file, else through sqlx (PostgreSQL, in-memory SQLite). The one
/// place that chooses the path for every long list.
pub(crate) async fn fetch_all<T, F>(
    db: &Db,
    sql: String,
    params: Vec<Param>,
    row: F,
) -> StoreResult<Vec<T>>
where
    T: Send + Unpin + 'static,
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    F: Fn(&rusqlite::Row<'_>) -> rusqlite::Result<T> + Send + 'static,
{
    if let Some(file) = sqlite_file(db).await? {
        return read_all(file, sql, params, row).await;
    }
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, T>(&sql)
        .bind_params(&params)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Sets its flag when dropped.
struct Stop(Arc<AtomicBool>);

impl Drop for Stop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// A text column decoded into one of the domain's codes (`try_from` a `String`), with the
/// column's name in the error.
pub(crate) fn coded<T: TryFrom<String>>(
    row: &rusqlite::Row<'_>,
    column: &str,
) -> rusqlite::Result<T>
where
    T::Error: std::fmt::Display,
{
    let index = row.as_ref().column_index(column)?;
    let text: String = row.get(index)?;
    T::try_from(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Text,
            format!("{column}: {e}").into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_a_database_with_a_file_is_read_on_the_side() {
        let memory = Db::connect_and_migrate("sqlite::memory:").await.unwrap();
        assert_eq!(sqlite_file(&memory).await.unwrap(), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pufa.db");
        let url = format!("sqlite://{}", path.display());
        let on_disk = Db::connect_and_migrate(&url).await.unwrap();
        let file = sqlite_file(&on_disk).await.unwrap().unwrap();
        assert_eq!(file.canonicalize().unwrap(), path.canonicalize().unwrap());
    }

    #[tokio::test]
    async fn parameters_other_than_numbered_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pufa.db");
        Db::connect_and_migrate(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        let one = |sql: &str, params: Vec<Param>| {
            read_all(path.clone(), sql.into(), params, |r| {
                r.get::<_, Option<i64>>(0)
            })
        };
        assert_eq!(
            one("SELECT $2 + $1", vec![1.into(), 2.into()])
                .await
                .unwrap(),
            vec![Some(3)]
        );
        // A `?` parameter, or a number past the values, would be NULL if left unbound.
        assert!(one("SELECT ?", vec![1.into()]).await.is_err());
        assert!(one("SELECT $1 + $2", vec![1.into()]).await.is_err());
    }
}
