//! Reading an upload under bounds: each user reads one file at a time and the server at most
//! as many files at once as it has cores (the others wait their turn for up to a minute,
//! then are told the server is busy), every file is read in a worker process (see
//! `sheets::read::worker`), and what was read is kept for a few uploads, so that reloading
//! a preview or downloading its rejected rows does not read a 20 MB file again.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::domain::import::ImportKind;
use crate::sheets::read::{self, worker, ReadError, TableSet};

/// How long an upload waits for a free reader before the server says it is busy.
const WAIT_FOR_READER: Duration = Duration::from_secs(60);
/// Kept tables, in rows over all entries (a 100,000-row sheet is ~80 MB once read).
const CACHED_ROWS: usize = 250_000;

fn readers() -> &'static Semaphore {
    static READERS: OnceLock<Semaphore> = OnceLock::new();
    READERS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

/// One lock per user: a user's second upload (or a double click) waits for the first read,
/// then usually finds its result kept.
fn user_lock(user: i64) -> Arc<tokio::sync::Mutex<()>> {
    static USERS: OnceLock<Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let mut users = USERS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    Arc::clone(users.entry(user).or_default())
}

fn busy() -> ReadError {
    ReadError::Busy("服务器正在读取其他文件，请过一两分钟再试".into())
}

/// What identifies a read: the file, the kind asked for and the villages its title rows
/// and village column are matched against.
#[derive(PartialEq, Eq, Clone)]
struct Key {
    sha256: String,
    file_name: String,
    hint: Option<ImportKind>,
    villages: Vec<String>,
}

type Cache = Mutex<VecDeque<(Key, Arc<TableSet>)>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(Mutex::default)
}

fn rows_of(tables: &TableSet) -> usize {
    tables.sheets.iter().map(|s| s.rows.len()).sum()
}

fn cached(key: &Key) -> Option<Arc<TableSet>> {
    let cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, t)| Arc::clone(t))
}

fn remember(key: Key, tables: &Arc<TableSet>) {
    let rows = rows_of(tables);
    if rows > CACHED_ROWS {
        return;
    }
    let mut cache = cache().lock().unwrap_or_else(|p| p.into_inner());
    cache.retain(|(k, _)| *k != key);
    cache.push_back((key, Arc::clone(tables)));
    while cache.iter().map(|(_, t)| rows_of(t)).sum::<usize>() > CACHED_ROWS {
        cache.pop_front();
    }
}

/// The upload's table (header found, rows taken), read at most once while it is kept.
pub(super) async fn read_tables(
    user: Option<i64>,
    file_name: &str,
    bytes: &[u8],
    sha256: &str,
    hint: Option<ImportKind>,
    villages: Vec<String>,
) -> Result<Arc<TableSet>, ReadError> {
    let key = Key {
        sha256: sha256.to_string(),
        file_name: file_name.to_string(),
        hint,
        villages,
    };
    if let Some(tables) = cached(&key) {
        return Ok(tables);
    }
    let user_lock = user.map(user_lock);
    let _own_turn = match &user_lock {
        Some(lock) => Some(
            tokio::time::timeout(WAIT_FOR_READER, lock.lock())
                .await
                .map_err(|_| busy())?,
        ),
        None => None,
    };
    if let Some(tables) = cached(&key) {
        return Ok(tables);
    }
    let _reader = tokio::time::timeout(WAIT_FOR_READER, readers().acquire())
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(busy)?;
    // Someone may have read the same file while this one waited.
    if let Some(tables) = cached(&key) {
        return Ok(tables);
    }
    let grids = worker::read_isolated(file_name, bytes, worker::Limits::default()).await?;
    let names = key.villages.clone();
    let tables = tokio::task::spawn_blocking(move || read::find_table(grids, hint, &names))
        .await
        .unwrap_or(Err(ReadError::Unreadable))?;
    let tables = Arc::new(tables);
    remember(key, &tables);
    Ok(tables)
}
