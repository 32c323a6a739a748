//! Plans kept for their waiting upload: a reload of the preview, its 错误行 download and
//! the commit that follows reuse the plan already made while nothing has changed since,
//! instead of planning the whole file again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Utc};

use super::Preview;
use crate::domain::{Role, VillageScope};
use crate::services::Actor;
use crate::store::imports::Pending;
use crate::store::Db;

/// Kept plans, in rows over all entries. A plan holds its read tables (shared with the
/// reader's cache while that keeps them) and its planned changes.
const KEPT_ROWS: usize = 250_000;
/// Kept plans, however small.
const KEPT_PLANS: usize = 8;

/// Which plan is for which upload: one waiting upload of one database, planned for one
/// actor. The upload is told apart by when it was saved as well as by its id, since SQLite
/// can give the id of an upload that is gone to the next one.
#[derive(PartialEq)]
struct Key {
    database: String,
    pending: i64,
    saved_at: DateTime<Utc>,
    size: usize,
    user: Option<i64>,
    role: Role,
    scope: VillageScope,
}

impl Key {
    fn is_upload(&self, database: &str, pending: i64) -> bool {
        self.pending == pending && self.database == database
    }

    fn of(db: &Db, actor: &Actor, pending: &Pending) -> Key {
        Key {
            database: db.identity(),
            pending: pending.id,
            saved_at: pending.created_at,
            size: pending.content.len(),
            user: actor.user_id,
            role: actor.role,
            scope: actor.scope,
        }
    }
}

/// The kept plans, oldest first.
type Kept = VecDeque<(Key, Arc<Preview>)>;

fn kept_plans() -> std::sync::MutexGuard<'static, Kept> {
    static KEPT: OnceLock<Mutex<Kept>> = OnceLock::new();
    KEPT.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The plan kept for this upload and actor, if any (it may be out of date: see
/// [`Preview::still_current`]).
pub(super) fn kept(db: &Db, actor: &Actor, pending: &Pending) -> Option<Arc<Preview>> {
    let key = Key::of(db, actor, pending);
    kept_plans()
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, plan)| Arc::clone(plan))
}

/// Lets go of whatever is kept for this upload.
pub(super) fn forget(db: &Db, pending: i64) {
    let database = db.identity();
    kept_plans().retain(|(k, _)| !k.is_upload(&database, pending));
}

/// Keeps the plan for this upload and actor, letting the oldest plans go past the bounds.
pub(super) fn keep(db: &Db, actor: &Actor, pending: &Pending, plan: &Arc<Preview>) {
    if plan.rows_total > KEPT_ROWS {
        return;
    }
    let key = Key::of(db, actor, pending);
    let mut kept = kept_plans();
    kept.retain(|(k, _)| !k.is_upload(&key.database, key.pending));
    kept.push_back((key, Arc::clone(plan)));
    while kept.len() > KEPT_PLANS
        || kept.iter().map(|(_, p)| p.rows_total).sum::<usize>() > KEPT_ROWS
    {
        kept.pop_front();
    }
}
