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

use super::params::Param;
use super::{Db, StoreError, StoreResult};

/// The SQLite file of `db` when a second connection can open it (not PostgreSQL, not an
/// in-memory database).
pub(crate) fn sqlite_file(db: &Db) -> Option<PathBuf> {
    match db {
        Db::Sqlite(pool) => {
            let options = pool.connect_options();
            let file = options.get_filename();
            let name = file.to_string_lossy();
            if name.is_empty() || name.contains(":memory:") || name.contains("mode=memory") {
                None
            } else {
                Some(file.to_path_buf())
            }
        }
        Db::Postgres(_) => None,
    }
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
            Param::Instant(v) => Value::Text(
                v.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
                    .to_string(),
            ),
        };
        Ok(ToSqlOutput::Owned(value))
    }
}

fn read_error(e: rusqlite::Error) -> StoreError {
    StoreError::Read(e.to_string())
}

/// Every row of `sql` (parameters `$1`, `$2`, … bound from `params` by number) decoded by
/// `row`, read from `file` on a blocking thread.
pub(crate) async fn read_all<T, F>(
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
        for (n, param) in params.iter().enumerate() {
            if let Some(index) = statement.parameter_index(&format!("${}", n + 1))? {
                statement.raw_bind_parameter(index, param)?;
            }
        }
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row(r)?);
        }
        Ok(out)
    };
    let rows = tokio::task::spawn_blocking(read)
        .await
        .map_err(|e| StoreError::Read(e.to_string()))?
        .map_err(read_error);
    drop(stop);
    rows
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
    let text: String = row.get(column)?;
    T::try_from(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("{column}: {e}").into(),
        )
    })
}
