//! The only code that speaks SQL. One set of query text serves both backends (SQLite
//! accepts `$1` placeholders); `on_pool!` runs the same code against whichever pool (or
//! transaction) is in use, and the few places where the SQL differs branch on `Db`
//! explicitly. Work that must commit together takes a `Tx` from `Db::begin`; the leaf
//! operations (`audit::record`, `people::insert`, …) are plain functions on `&mut Tx`.

pub mod activities;
pub mod attendance;
pub mod audit;
mod bulk;
pub mod distributions;
pub mod imports;
pub mod invitees;
pub mod login_sessions;
pub mod materials;
pub mod params;
pub mod people;
pub mod rate_limits;
pub mod self_study;
pub mod sessions;
pub mod settings;
pub mod summary;
pub mod transfer;
pub mod users;
pub mod villages;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// How the server's PostgreSQL connections name themselves, so that `pufa restore` can
/// tell the database is in use.
pub const SERVER_APPLICATION_NAME: &str = "pufa-server";

static APPLICATION_NAME: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();

/// Called once by `pufa serve` before it connects: its connections name themselves
/// `SERVER_APPLICATION_NAME` (other commands are `pufa`).
pub fn connect_as_server() {
    let _ = APPLICATION_NAME.set(SERVER_APPLICATION_NAME);
}

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// A transaction on either backend, from `Db::begin`. Dropped without `commit`, it rolls
/// back.
#[derive(Debug)]
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await?,
            Tx::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }
}

/// Runs `$body` with `$pool` bound to the concrete pool (`on_pool!(db, |pool| …)`) or,
/// given `Tx(tx)`, with `$conn` bound to the transaction's connection
/// (`on_pool!(Tx(tx), |conn| …)`; use `&mut *conn` for each query). The body is written
/// once and compiled for each backend, so the SQL text in it must be portable. The
/// closure-like syntax lets rustfmt format the bodies.
macro_rules! on_pool {
    (Tx($tx:expr), |$conn:ident| $body:expr) => {
        match $tx {
            $crate::store::Tx::Sqlite(tx) => {
                let $conn = &mut **tx;
                $body
            }
            $crate::store::Tx::Postgres(tx) => {
                let $conn = &mut **tx;
                $body
            }
        }
    };
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite($pool) => $body,
            $crate::store::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("不支持的数据库地址“{0}”：只支持 sqlite: 或 postgres: 开头的地址")]
    UnsupportedUrl(String),
    #[error("无法连接数据库（{url}）：{source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("数据库迁移失败：{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("数据库错误：{0}")]
    Sql(#[from] sqlx::Error),
    /// A long list read on SQLite's own connection (`bulk`) failed.
    #[error("读取数据库失败：{0}")]
    Read(#[from] rusqlite::Error),
    #[error("无法创建数据目录：{0}")]
    Io(#[from] std::io::Error),
    /// A record to remove is used by later work (undo of an import).
    #[error("记录已被后来的数据使用")]
    InUse,
    /// The file was committed already (by this batch, when known), e.g. by a second click.
    #[error("该文件已经导入")]
    AlreadyImported(Option<i64>),
    /// The import batch was undone already (e.g. by a second click).
    #[error("该批次已经撤销，无需再次撤销")]
    AlreadyUndone,
    /// Rows the batch wrote were changed by hand since (table, what the row is, in Chinese):
    /// an undo would lose that.
    #[error("导入后又被修改过的记录")]
    EditedSince(Vec<(String, String)>),
    /// A backup, restore or copy between databases cannot go on (the reason, in Chinese).
    #[error("{0}")]
    Transfer(String),
}

impl StoreError {
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, StoreError::Sql(sqlx::Error::Database(e)) if e.is_unique_violation())
    }

    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self, StoreError::InUse)
            || matches!(self, StoreError::Sql(sqlx::Error::Database(e)) if e.is_foreign_key_violation())
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What one SQLite statement journal may hold in memory before it goes to a temporary file.
const STATEMENT_JOURNAL_IN_MEMORY: libc::c_int = 16 * 1024 * 1024;

/// Raises SQLite's threshold for spilling statement journals to a temporary file from 64 KiB
/// to [`STATEMENT_JOURNAL_IN_MEMORY`], before the first database is opened. Inside a
/// transaction a statement that may fail halfway (an import's 500-row INSERT, with its unique
/// index, foreign keys and triggers) first copies each existing page it changes; an import's
/// statements spilled those copies to disk, about a fifth of a commit's time (see README,
/// Benchmarks). A statement that changes more (undoing a large batch) still spills.
fn raise_statement_journal_spill() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: SQLITE_CONFIG_STMTJRNL_SPILL takes one int and sets one global of the
        // library. sqlite3_config must not run beside other SQLite calls: every use of SQLite
        // in pufa starts with `Db::connect`, which makes this call first, and `Once` makes
        // concurrent callers wait for it. Once SQLite has started, the call is refused
        // (SQLITE_MISUSE) and changes nothing.
        let code = unsafe {
            rusqlite::ffi::sqlite3_config(
                rusqlite::ffi::SQLITE_CONFIG_STMTJRNL_SPILL,
                STATEMENT_JOURNAL_IN_MEMORY,
            )
        };
        if code != rusqlite::ffi::SQLITE_OK {
            tracing::warn!(
                code,
                "SQLite refused the statement-journal setting; imports are slower"
            );
        }
    });
}

impl Db {
    /// Opens the database named by `url`, creating a SQLite file (and its folder) if needed.
    pub async fn connect(url: &str) -> StoreResult<Db> {
        let connect_error = |source| StoreError::Connect {
            url: redact_password(url),
            source,
        };
        if url.starts_with("sqlite:") {
            raise_statement_journal_spill();
            let options = SqliteConnectOptions::from_str(url)
                .map_err(connect_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // The database holds personal data: a new one (and its folder) is the owner's only.
            let file = options.get_filename();
            if file != std::path::Path::new(":memory:") && !url.contains("mode=memory") {
                if let Some(parent) = file.parent() {
                    crate::config::create_private_dir(parent)?;
                }
                crate::config::create_private_file(file)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Db::Sqlite(pool))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = sqlx::postgres::PgConnectOptions::from_str(url)
                .map_err(connect_error)?
                .application_name(APPLICATION_NAME.get().copied().unwrap_or("pufa"));
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(connect_error)?;
            Ok(Db::Postgres(pool))
        } else {
            Err(StoreError::UnsupportedUrl(redact_password(url)))
        }
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
            Db::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Which database this is, for what the process keeps per database (the import queue,
    /// cached figures): the SQLite file, or the PostgreSQL server and database.
    pub fn identity(&self) -> String {
        match self {
            Db::Sqlite(pool) => pool.connect_options().get_filename().display().to_string(),
            Db::Postgres(pool) => {
                let options = pool.connect_options();
                let name = options.get_database().unwrap_or_default();
                format!("{}:{}/{name}", options.get_host(), options.get_port())
            }
        }
    }

    pub async fn connect_and_migrate(url: &str) -> StoreResult<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "SQLite",
            Db::Postgres(_) => "PostgreSQL",
        }
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        on_pool!(self, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Starts a transaction; leaf operations take it as `&mut Tx`.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self {
            Db::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages.
fn redact_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// A subtotal of a list: the key (a village name, "01".."12", a code) or `None` for
/// township level, the number of rows, and the summed quantity (copies, or audience).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Subtotal {
    pub key: Option<String>,
    pub rows: i64,
    pub quantity: i64,
}

pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_repeated_in_messages() {
        assert_eq!(
            redact_password("postgres://pufa:geheim@db.example/pufa"),
            "postgres://pufa:***@db.example/pufa"
        );
        assert_eq!(
            redact_password("sqlite://data/pufa.db"),
            "sqlite://data/pufa.db"
        );
    }

    #[tokio::test]
    async fn unsupported_url_is_refused_with_a_message() {
        let err = Db::connect("mysql://localhost/pufa").await.unwrap_err();
        assert!(err.to_string().contains("不支持的数据库地址"));
    }
}
