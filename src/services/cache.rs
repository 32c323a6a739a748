//! Results that depend only on stored data, kept in this process under the data version
//! (`store::summary::data_version`), which triggers move on in every transaction that
//! changes those data. A request then costs one one-row query instead of the passes over
//! the year's records that computed the result. Several app instances on one PostgreSQL
//! database each keep their own, all keyed by the shared version.
//!
//! The version is read before computing: a result computed while a change commits is kept
//! under the older version and recomputed by the next request, never served stale.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock};

use super::ServiceResult;
use crate::store::{summary, Db};

type Entry = (i64, Arc<dyn Any + Send + Sync>);
type Key = (String, String);
type Gate = Arc<tokio::sync::Mutex<()>>;

fn entries() -> &'static Mutex<HashMap<Key, Entry>> {
    static ENTRIES: OnceLock<Mutex<HashMap<Key, Entry>>> = OnceLock::new();
    ENTRIES.get_or_init(Default::default)
}

/// The gate of a key's computation.
fn in_flight(key: &Key) -> Gate {
    static GATES: OnceLock<Mutex<HashMap<Key, Gate>>> = OnceLock::new();
    let mut gates = GATES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if gates.len() >= MAX_ENTRIES {
        gates.retain(|_, gate| Arc::strong_count(gate) > 1);
    }
    gates.entry(key.clone()).or_default().clone()
}

/// At most this many results are kept; past it the cache starts afresh.
const MAX_ENTRIES: usize = 1024;

/// The result under `key` (which must name everything the result depends on besides the
/// data: the filter, the page, the actor's scope, the day), computed by `compute` when the
/// data changed since it was kept.
pub async fn by_data_version<T, F, Fut>(db: &Db, key: String, compute: F) -> ServiceResult<T>
where
    T: Clone + Send + Sync + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = ServiceResult<T>>,
{
    let version = summary::data_version(db).await?;
    let key = (db.identity(), key);
    let lock = || {
        entries()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some((kept_version, value)) = lock().get(&key) {
        if *kept_version == version {
            if let Some(hit) = value.downcast_ref::<T>() {
                return Ok(hit.clone());
            }
        }
    }
    // One computation per key at a time: requests arriving while it runs wait for it
    // instead of each starting the same passes over the year (64 at once took minutes).
    let gate = in_flight(&key);
    let _turn = gate.lock().await;
    if let Some((kept_version, value)) = lock().get(&key) {
        if *kept_version == version {
            if let Some(hit) = value.downcast_ref::<T>() {
                return Ok(hit.clone());
            }
        }
    }
    let fresh = compute().await?;
    let mut kept = lock();
    if kept.len() >= MAX_ENTRIES {
        kept.clear();
    }
    kept.insert(key, (version, Arc::new(fresh.clone())));
    Ok(fresh)
}
