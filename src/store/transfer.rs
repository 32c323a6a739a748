//! Copying every table from one database to another, on either backend: the portable
//! backup (a PostgreSQL database written into a SQLite file), restoring it, and moving a
//! township from SQLite to PostgreSQL. Rows keep their ids; the source is read in one
//! snapshot and the target written in one transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures_util::TryStreamExt;
use sqlx::Row;

use super::{on_pool, Db, StoreError, StoreResult, Tx};

/// Every table pufa keeps, in an order where each one refers only to tables before it.
/// `data_version` is not copied: each database counts its own changes.
pub const TABLES: &[&str] = &[
    "villages",
    "users",
    "import_batches",
    "import_changes",
    "people",
    "person_categories",
    "session_series",
    "sessions",
    "session_invitees",
    "attendance",
    "study_requirements",
    "materials",
    "stock_receipts",
    "activities",
    "activity_audience_groups",
    "distributions",
    "audit_log",
    "rate_limits",
    "settings",
    "pending_imports",
    "self_study",
    "login_sessions",
];

/// Tables of the schema that are not copied (and why): checked by a test, so that a new
/// table cannot be forgotten.
pub const NOT_COPIED: &[&str] = &["data_version", "_sqlx_migrations"];

/// What a column holds, as PostgreSQL declares it (SQLite keeps the same values as
/// integers and text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
    Text,
    Bool,
    Date,
    Stamp,
    StampTz,
    Bytes,
}

impl Kind {
    fn of_postgres(data_type: &str) -> Option<Kind> {
        Some(match data_type {
            "bigint" | "integer" | "smallint" => Kind::Int,
            "double precision" | "real" | "numeric" => Kind::Real,
            "text" | "character varying" => Kind::Text,
            "boolean" => Kind::Bool,
            "date" => Kind::Date,
            "timestamp without time zone" => Kind::Stamp,
            "timestamp with time zone" => Kind::StampTz,
            "bytea" => Kind::Bytes,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
enum Cell {
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
    Bool(Option<bool>),
    Date(Option<NaiveDate>),
    Stamp(Option<NaiveDateTime>),
    StampTz(Option<DateTime<Utc>>),
    Bytes(Option<Vec<u8>>),
}

/// Reads column `i` of a row as `kind` (the same code for both backends' rows).
macro_rules! read_cell {
    ($row:expr, $i:expr, $kind:expr) => {
        match $kind {
            Kind::Int => Cell::Int($row.try_get($i)?),
            Kind::Real => Cell::Real($row.try_get($i)?),
            Kind::Text => Cell::Text($row.try_get($i)?),
            Kind::Bool => Cell::Bool($row.try_get($i)?),
            Kind::Date => Cell::Date($row.try_get($i)?),
            Kind::Stamp => Cell::Stamp($row.try_get($i)?),
            Kind::StampTz => Cell::StampTz($row.try_get($i)?),
            Kind::Bytes => Cell::Bytes($row.try_get($i)?),
        }
    };
}

/// Binds one cell into a `push_values` row.
macro_rules! bind_cell {
    ($b:expr, $cell:expr) => {
        match $cell {
            Cell::Int(v) => $b.push_bind(v),
            Cell::Real(v) => $b.push_bind(v),
            Cell::Text(v) => $b.push_bind(v),
            Cell::Bool(v) => $b.push_bind(v),
            Cell::Date(v) => $b.push_bind(v),
            Cell::Stamp(v) => $b.push_bind(v),
            Cell::StampTz(v) => $b.push_bind(v),
            Cell::Bytes(v) => $b.push_bind(v),
        }
    };
}

/// The columns of every copied table and what they hold, from a PostgreSQL database's
/// catalogue (the typed side of any copy).
async fn postgres_columns(
    pool: &sqlx::PgPool,
) -> StoreResult<BTreeMap<String, Vec<(String, Kind)>>> {
    const SQL: &str = "SELECT table_name::text, column_name::text, data_type::text \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         ORDER BY table_name, ordinal_position";
    let rows: Vec<(String, String, String)> = sqlx::query_as(SQL).fetch_all(pool).await?;
    let mut tables: BTreeMap<String, Vec<(String, Kind)>> = BTreeMap::new();
    for (table, column, data_type) in rows {
        if !TABLES.contains(&table.as_str()) {
            continue;
        }
        let kind = Kind::of_postgres(&data_type).ok_or_else(|| {
            StoreError::Transfer(format!("{table}.{column} 的类型 {data_type} 无法复制"))
        })?;
        tables.entry(table).or_default().push((column, kind));
    }
    Ok(tables)
}

/// The tables of the database (both backends), to check the schema is the one we know.
pub async fn table_names(db: &Db) -> StoreResult<Vec<String>> {
    let sql = match db {
        Db::Sqlite(_) => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Db::Postgres(_) => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        }
    };
    let names = on_pool!(db, |pool| sqlx::query_scalar::<_, String>(sql)
        .fetch_all(pool)
        .await?);
    Ok(names)
}

/// The newest migration applied to the database (its schema version).
pub async fn schema_version(db: &Db) -> StoreResult<i64> {
    const SQL: &str = "SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success";
    let version = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .fetch_one(pool)
        .await?);
    Ok(version)
}

/// The newest migration this program knows, on the database's backend.
pub fn known_schema_version(db: &Db) -> i64 {
    let migrator = match db {
        Db::Sqlite(_) => &super::SQLITE_MIGRATIONS,
        Db::Postgres(_) => &super::POSTGRES_MIGRATIONS,
    };
    migrator.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Rows per copied table.
pub async fn row_counts(db: &Db) -> StoreResult<BTreeMap<String, i64>> {
    let mut counts = BTreeMap::new();
    for table in TABLES {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(&sql)
            .fetch_one(pool)
            .await?);
        counts.insert((*table).to_string(), n);
    }
    Ok(counts)
}

/// Rows written per statement: well under both backends' limits on bound values.
const CHUNK_CELLS: usize = 20_000;

/// Copies every table from `from` into `to`, migrated to the same schema version; with
/// `replace`, what `to` held is removed first (in the same transaction), else it must be
/// empty (the caller checks). The source is read in one snapshot; the
/// target is written in one transaction, so a failure leaves it empty. Returns the rows
/// copied per table.
pub async fn copy_all(from: &Db, to: &Db, replace: bool) -> StoreResult<BTreeMap<String, i64>> {
    let columns = match (from, to) {
        (_, Db::Postgres(pool)) | (Db::Postgres(pool), _) => postgres_columns(pool).await?,
        (Db::Sqlite(_), Db::Sqlite(_)) => {
            return Err(StoreError::Transfer(
                "两个 SQLite 数据库之间请直接复制备份文件".into(),
            ))
        }
    };
    for table in TABLES {
        let Some(cols) = columns.get(*table) else {
            return Err(StoreError::Transfer(format!("数据库中没有表 {table}")));
        };
        // The SQLite side must have the same columns, or some would be left behind.
        for db in [from, to] {
            if let Db::Sqlite(pool) = db {
                let sql = format!("SELECT name FROM pragma_table_info('{table}') ORDER BY name");
                let names: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await?;
                let mut expected: Vec<String> = cols.iter().map(|(c, _)| c.clone()).collect();
                expected.sort();
                if names != expected {
                    return Err(StoreError::Transfer(format!(
                        "两个数据库中表 {table} 的结构不同，无法复制"
                    )));
                }
            }
        }
    }
    // Source: one read snapshot (REPEATABLE READ on PostgreSQL; a read transaction on
    // SQLite's WAL sees one state throughout).
    let mut source = from.begin().await?;
    if let Tx::Postgres(tx) = &mut source {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut **tx)
            .await?;
    }
    let mut target = to.begin().await?;
    if replace {
        clear_all(&mut target).await?;
    }
    let mut copied = BTreeMap::new();
    for table in TABLES {
        let cols = &columns[*table];
        let n = copy_table(&mut source, &mut target, table, cols).await?;
        copied.insert((*table).to_string(), n);
    }
    if let Tx::Postgres(tx) = &mut target {
        // New rows continue after the copied ids.
        for table in TABLES {
            if columns[*table].iter().any(|(c, _)| c == "id") {
                let sql = format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                     COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                );
                sqlx::query(&sql).execute(&mut **tx).await?;
            }
        }
    }
    target.commit().await?;
    drop(source);
    Ok(copied)
}

async fn copy_table(
    source: &mut Tx,
    target: &mut Tx,
    table: &str,
    cols: &[(String, Kind)],
) -> StoreResult<i64> {
    let names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
    let list = names.join(", ");
    let select = format!("SELECT {list} FROM {table}");
    let chunk_rows = (CHUNK_CELLS / cols.len().max(1)).max(1);
    let mut pending: Vec<Vec<Cell>> = Vec::with_capacity(chunk_rows);
    let mut total = 0i64;
    macro_rules! drain {
        ($source_conn:expr) => {{
            let mut rows = sqlx::query(&select).fetch($source_conn);
            while let Some(row) = rows.try_next().await? {
                let mut cells = Vec::with_capacity(cols.len());
                for (i, (_, kind)) in cols.iter().enumerate() {
                    cells.push(read_cell!(row, i, *kind));
                }
                pending.push(cells);
                if pending.len() >= chunk_rows {
                    total +=
                        insert_rows(target, table, &list, std::mem::take(&mut pending)).await?;
                }
            }
        }};
    }
    match source {
        Tx::Sqlite(tx) => drain!(&mut **tx),
        Tx::Postgres(tx) => drain!(&mut **tx),
    }
    total += insert_rows(target, table, &list, pending).await?;
    Ok(total)
}

async fn insert_rows(
    target: &mut Tx,
    table: &str,
    list: &str,
    rows: Vec<Vec<Cell>>,
) -> StoreResult<i64> {
    if rows.is_empty() {
        return Ok(0);
    }
    let n = rows.len() as i64;
    let head = format!("INSERT INTO {table} ({list}) ");
    on_pool!(Tx(target), |conn| {
        let mut builder = sqlx::QueryBuilder::new(head);
        builder.push_values(rows, |mut b, cells| {
            for cell in cells {
                bind_cell!(b, cell);
            }
        });
        builder.build().execute(&mut *conn).await?;
    });
    Ok(n)
}

/// Whether the database holds any of pufa's rows (a copy goes only into an empty one).
pub async fn is_empty(db: &Db) -> StoreResult<bool> {
    Ok(row_counts(db).await?.values().all(|n| *n == 0))
}

/// Removes every row of every copied table, in one transaction (restoring a PostgreSQL
/// database from a backup replaces what it held).
pub async fn clear_all(tx: &mut Tx) -> StoreResult<()> {
    for table in TABLES.iter().rev() {
        let sql = format!("DELETE FROM {table}");
        on_pool!(Tx(tx), |conn| {
            sqlx::query(&sql).execute(&mut *conn).await?;
        });
    }
    Ok(())
}

/// A consistent copy of a SQLite database in a new file, while others keep writing.
pub async fn sqlite_snapshot(db: &Db, path: &std::path::Path) -> StoreResult<()> {
    let Db::Sqlite(pool) = db else {
        return Err(StoreError::Transfer("不是 SQLite 数据库".into()));
    };
    let target = path.to_string_lossy().to_string();
    sqlx::query("VACUUM INTO $1")
        .bind(target)
        .execute(pool)
        .await?;
    Ok(())
}

/// SQLite's own check of a database file ("ok" when sound).
pub async fn sqlite_integrity(db: &Db) -> StoreResult<String> {
    let Db::Sqlite(pool) = db else {
        return Ok("ok".into());
    };
    let lines: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool)
        .await?;
    Ok(lines.join("；"))
}

/// The first and last year with any dated record (sessions, distributions, activities,
/// self-study), to compare every year's figures after a copy.
pub async fn data_years(db: &Db) -> StoreResult<Option<(i32, i32)>> {
    use chrono::Datelike;
    const SESSIONS: &str = "SELECT MIN(starts_at), MAX(starts_at) FROM sessions";
    let (first, last): (Option<NaiveDateTime>, Option<NaiveDateTime>) =
        on_pool!(db, |pool| sqlx::query_as(SESSIONS).fetch_one(pool).await?);
    let mut years: Vec<i32> = [first, last].iter().flatten().map(|d| d.year()).collect();
    for (table, column) in [
        ("distributions", "distributed_on"),
        ("activities", "held_on"),
        ("self_study", "studied_on"),
    ] {
        let sql = format!("SELECT MIN({column}), MAX({column}) FROM {table}");
        let (first, last): (Option<NaiveDate>, Option<NaiveDate>) =
            on_pool!(db, |pool| sqlx::query_as(&sql).fetch_one(pool).await?);
        years.extend([first, last].iter().flatten().map(|d| d.year()));
    }
    Ok(years
        .iter()
        .min()
        .zip(years.iter().max())
        .map(|(a, b)| (*a, *b)))
}

/// Folds a SQLite database's write-ahead log into the file, so that the file alone is the
/// whole database once the pool closes (before it is renamed or copied).
pub async fn sqlite_settle(db: &Db) -> StoreResult<()> {
    if let Db::Sqlite(pool) = db {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// How many connections of running pufa servers the PostgreSQL database has (they name
/// themselves `pufa-server`); 0 on SQLite, where the server holds a file lock instead.
pub async fn servers_connected(db: &Db) -> StoreResult<i64> {
    let Db::Postgres(pool) = db else {
        return Ok(0);
    };
    const SQL: &str = "SELECT COUNT(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1";
    let n = sqlx::query_scalar::<_, i64>(SQL)
        .bind(super::SERVER_APPLICATION_NAME)
        .fetch_one(pool)
        .await?;
    Ok(n)
}
