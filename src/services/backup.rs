//! Backups, restoring one, and moving a township's data to another database.
//!
//! A backup is always one SQLite database file, whatever the server runs on: SQLite's own
//! online copy (`VACUUM INTO`), or every PostgreSQL table read in one snapshot and written
//! into a new file. So one file restores onto either backend, and can be opened by any
//! SQLite tool to look inside.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{Local, NaiveDate};

use super::{ServiceError, ServiceResult};
use crate::store::{transfer, Db};

/// Backup files are named `pufa-backup-YYYYMMDD-HHMMSS.db`.
const BACKUP_PREFIX: &str = "pufa-backup-";
const BACKUP_SUFFIX: &str = ".db";
/// What the first bytes of every SQLite database file say.
const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

pub fn backup_file_name(at: chrono::NaiveDateTime) -> String {
    format!(
        "{BACKUP_PREFIX}{}{BACKUP_SUFFIX}",
        at.format("%Y%m%d-%H%M%S")
    )
}

fn refused(message: impl Into<String>) -> ServiceError {
    ServiceError::Refused(message.into())
}

fn io_failed(what: &str, path: &Path, e: std::io::Error) -> ServiceError {
    refused(format!("{what}（{}）失败：{e}", path.display()))
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The SQLite file a database URL names, if it is one.
pub fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

/// Writes a consistent snapshot of the database into `path`, which must not exist yet,
/// while the server keeps working. Returns the file's size in bytes.
pub async fn write_backup(db: &Db, path: &Path) -> ServiceResult<u64> {
    if path.exists() {
        return Err(refused(format!(
            "{} 已存在，请换一个文件名",
            path.display()
        )));
    }
    if let Some(dir) = path.parent() {
        crate::config::create_private_dir(dir).map_err(|e| io_failed("创建备份目录", dir, e))?;
    }
    // Written under another name and renamed when complete: a file with the backup's name
    // is always a whole backup.
    let partial = path.with_extension("partial");
    remove_sqlite_files(&partial);
    let written = async {
        match db {
            Db::Sqlite(_) => {
                crate::config::create_private_file(&partial)
                    .map_err(|e| io_failed("创建备份文件", &partial, e))?;
                transfer::sqlite_snapshot(db, &partial).await?;
            }
            Db::Postgres(_) => {
                let target = Db::connect_and_migrate(&sqlite_url(&partial)).await?;
                let copied = transfer::copy_all(db, &target, false).await;
                transfer::sqlite_settle(&target).await?;
                target.close().await;
                copied?;
            }
        }
        Ok::<(), ServiceError>(())
    }
    .await;
    if let Err(e) = written {
        remove_sqlite_files(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, path).map_err(|e| io_failed("保存备份文件", path, e))?;
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(size)
}

/// A SQLite file and the journal files beside it.
fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}

/// The server's nightly backup into `dir`; keeps the newest `keep` backups there and
/// removes older ones. Returns the new file.
pub async fn nightly_backup(db: &Db, dir: &Path, keep: usize) -> ServiceResult<PathBuf> {
    let path = dir.join(backup_file_name(Local::now().naive_local()));
    write_backup(db, &path).await?;
    prune_backups(dir, keep);
    Ok(path)
}

/// Removes all but the newest `keep` backups in `dir` (by name, which sorts by time).
pub fn prune_backups(dir: &Path, keep: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut backups: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(BACKUP_PREFIX) && n.ends_with(BACKUP_SUFFIX))
        })
        .collect();
    backups.sort();
    let excess = backups.len().saturating_sub(keep);
    let removed: Vec<PathBuf> = backups.into_iter().take(excess).collect();
    for path in &removed {
        let _ = std::fs::remove_file(path);
    }
    removed
}

/// The lock a running server holds (shared) on its SQLite database, so that a restore
/// (which needs it alone) can tell the database is in use.
pub fn server_lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".server-lock");
    PathBuf::from(name)
}

/// Taken by `pufa serve` for as long as it runs (SQLite); several servers may hold it.
pub fn hold_server_lock(database_url: &str) -> std::io::Result<Option<std::fs::File>> {
    let Some(path) = sqlite_path(database_url) else {
        return Ok(None);
    };
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(server_lock_path(&path))?;
    file.lock_shared()?;
    Ok(Some(file))
}

const IN_USE: &str =
    "pufa 服务正在使用这个数据库，请先停止服务（例如 systemctl stop pufa），恢复完成后再启动";

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    /// Rows per table now in the database.
    pub counts: BTreeMap<String, i64>,
    /// Where the database as it was before is kept (SQLite).
    pub previous: Option<PathBuf>,
}

/// Replaces the database at `target_url` by the backup `file`, after checking the file
/// (a sound SQLite file, pufa's tables, a schema version this program knows). Refused
/// while a server uses the database. On SQLite the old file is kept beside it.
pub async fn restore(target_url: &str, file: &Path) -> ServiceResult<Restored> {
    let mut head = [0u8; 16];
    let readable = std::fs::File::open(file).and_then(|mut f| {
        use std::io::Read;
        f.read_exact(&mut head)
    });
    let not_a_backup = match readable {
        Ok(()) => head != SQLITE_MAGIC,
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => true,
        Err(e) => return Err(io_failed("读取备份文件", file, e)),
    };
    if not_a_backup {
        return Err(refused(format!(
            "{} 不是 pufa 的备份文件（备份文件由 pufa backup 或设置页的“下载备份”生成）",
            file.display()
        )));
    }
    let target_file = sqlite_path(target_url);
    // Work on a copy beside the target (renamed into place at the end), or in the temp
    // folder for PostgreSQL: the backup file itself is never changed.
    let work_dir = match &target_file {
        Some(path) => path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from(".")),
        None => std::env::temp_dir(),
    };
    crate::config::create_private_dir(&work_dir)
        .map_err(|e| io_failed("创建数据目录", &work_dir, e))?;
    let work = work_dir.join(format!(".restore-{}.db", crate::random_token()));
    crate::config::create_private_file(&work).map_err(|e| io_failed("复制备份文件", &work, e))?;
    std::fs::copy(file, &work).map_err(|e| io_failed("复制备份文件", &work, e))?;
    // A database file copied from a running pufa (rather than made by `pufa backup`) may
    // keep its latest writes in the write-ahead log beside it: those belong to the copy.
    let wal = with_suffix(file, "-wal");
    if wal.is_file() {
        let work_wal = with_suffix(&work, "-wal");
        crate::config::create_private_file(&work_wal)
            .and_then(|()| std::fs::copy(&wal, &work_wal).map(drop))
            .map_err(|e| io_failed("复制备份文件", &wal, e))?;
    }
    let outcome = restore_from_copy(target_url, target_file.as_deref(), &work).await;
    remove_sqlite_files(&work);
    outcome
}

async fn restore_from_copy(
    target_url: &str,
    target_file: Option<&Path>,
    work: &Path,
) -> ServiceResult<Restored> {
    let backup = Db::connect(&sqlite_url(work))
        .await
        .map_err(|e| refused(format!("备份文件无法打开，可能已损坏（{e}），未做任何更改")))?;
    let checked = check_backup(&backup).await;
    let checked = match checked {
        Ok(()) => backup.migrate().await.map_err(ServiceError::from),
        Err(e) => Err(e),
    };
    if let Err(e) = checked {
        backup.close().await;
        return Err(e);
    }
    match target_file {
        Some(target) => {
            transfer::sqlite_settle(&backup).await?;
            backup.close().await;
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(server_lock_path(target))
                .map_err(|e| io_failed("检查数据库是否在使用", target, e))?;
            if lock.try_lock().is_err() {
                return Err(refused(IN_USE));
            }
            let previous = keep_previous(target).await?;
            remove_sqlite_files(target);
            std::fs::rename(work, target).map_err(|e| io_failed("替换数据库", target, e))?;
            let db = Db::connect(target_url).await?;
            let counts = transfer::row_counts(&db).await;
            db.close().await;
            drop(lock);
            Ok(Restored {
                counts: counts?,
                previous,
            })
        }
        None => {
            let target = Db::connect_and_migrate(target_url).await?;
            let outcome = async {
                if transfer::servers_connected(&target).await? > 0 {
                    return Err(refused(IN_USE));
                }
                transfer::copy_all(&backup, &target, true).await?;
                Ok(transfer::row_counts(&target).await?)
            }
            .await;
            target.close().await;
            backup.close().await;
            Ok(Restored {
                counts: outcome?,
                previous: None,
            })
        }
    }
}

/// A backup is a sound SQLite file with pufa's tables at a schema version this program
/// knows (an older one is brought up to date after the check).
async fn check_backup(backup: &Db) -> ServiceResult<()> {
    let integrity = transfer::sqlite_integrity(backup)
        .await
        .unwrap_or_else(|e| e.to_string());
    if integrity != "ok" {
        return Err(refused(format!(
            "备份文件已损坏（{integrity}），未做任何更改"
        )));
    }
    let tables = transfer::table_names(backup).await?;
    let missing = transfer::TABLES
        .iter()
        .chain(["_sqlx_migrations"].iter())
        .any(|t| !tables.iter().any(|n| n == t));
    // Tables added by later migrations are added by migrating; the first ones must be there.
    if missing && !tables.iter().any(|n| n == "_sqlx_migrations") {
        return Err(refused(
            "这个文件不是 pufa 的备份（缺少 pufa 的数据表），未做任何更改",
        ));
    }
    let version = transfer::schema_version(backup).await?;
    let known = transfer::known_schema_version(backup);
    if version > known {
        return Err(refused(format!(
            "备份来自更新版本的 pufa（数据结构版本 {version}，本程序只认识到 {known}），请先升级 pufa 再恢复"
        )));
    }
    Ok(())
}

/// Keeps the database being replaced as `<file>.before-restore-<time>` (a consistent copy).
async fn keep_previous(target: &Path) -> ServiceResult<Option<PathBuf>> {
    if !target.exists() {
        return Ok(None);
    }
    let mut name = target.as_os_str().to_owned();
    name.push(format!(
        ".before-restore-{}",
        Local::now().format("%Y%m%d-%H%M%S")
    ));
    let previous = PathBuf::from(name);
    let db = Db::connect(&sqlite_url(target)).await?;
    crate::config::create_private_file(&previous)
        .map_err(|e| io_failed("保存原数据库", &previous, e))?;
    let copied = transfer::sqlite_snapshot(&db, &previous).await;
    db.close().await;
    copied?;
    Ok(Some(previous))
}

/// What `copy-data` did, and what it checked afterwards.
#[derive(Debug)]
pub struct Copied {
    pub counts: BTreeMap<String, i64>,
    /// The years whose township figures were compared (all equal, or the copy fails).
    pub years: Vec<i32>,
}

/// Copies every table of `from` into the empty database `to` (SQLite to PostgreSQL or
/// back), in one transaction, then checks each table's row count and every year's figures
/// in both.
pub async fn copy_data(from: &Db, to: &Db, today: NaiveDate) -> ServiceResult<Copied> {
    if matches!((from, to), (Db::Sqlite(_), Db::Sqlite(_))) {
        return Err(refused(
            "两个数据库都是 SQLite：请用 pufa backup 生成备份文件后复制该文件",
        ));
    }
    if !transfer::is_empty(to).await? {
        return Err(refused(
            "目标数据库里已经有数据，未做任何更改。请使用一个新建的空数据库",
        ));
    }
    transfer::copy_all(from, to, false).await?;
    let counts = transfer::row_counts(from).await?;
    let copied = transfer::row_counts(to).await?;
    if counts != copied {
        let differ: Vec<String> = counts
            .iter()
            .filter(|(t, n)| copied.get(*t) != Some(n))
            .map(|(t, n)| format!("{t}：{n} → {}", copied.get(t).copied().unwrap_or(0)))
            .collect();
        return Err(refused(format!("复制后行数不一致：{}", differ.join("；"))));
    }
    let mut years = Vec::new();
    if let Some((first, last)) = transfer::data_years(from).await? {
        for year in first..=last {
            let a = super::summary::compute_summary(from, year, None, today).await?;
            let b = super::summary::compute_summary(to, year, None, today).await?;
            let (a, b) = (serde_json::to_value(&a), serde_json::to_value(&b));
            if a.ok() != b.ok() {
                return Err(refused(format!("复制后 {year} 年的统计数字不一致")));
            }
            years.push(year);
        }
    }
    Ok(Copied { counts, years })
}
