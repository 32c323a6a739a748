//! Plans kept for their waiting upload: a reload of the preview, its 错误行 download and
//! the commit that follows reuse the plan already made while nothing has changed since,
//! instead of planning the whole file again.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use super::Preview;
use crate::domain::{Role, VillageScope};
use crate::services::Actor;
use crate::store::imports::Pending;

/// Kept plans, in rows over all entries (they share the read tables with the reader's
/// cache; what they add is the planned changes).
const KEPT_ROWS: usize = 250_000;

/// A plan and what it was made of: the same waiting upload (its bytes too, since the id
/// of an upload that is gone can come back) planned for the same actor.
struct Entry {
    pending: i64,
    user: Option<i64>,
    role: Role,
    scope: VillageScope,
    file_name: String,
    kind: Option<String>,
    village_id: Option<i64>,
    content: Vec<u8>,
    preview: Arc<Preview>,
}

impl Entry {
    fn is_for(&self, actor: &Actor, pending: &Pending) -> bool {
        self.pending == pending.id
            && self.user == actor.user_id
            && self.role == actor.role
            && self.scope == actor.scope
            && self.file_name == pending.file_name
            && self.kind == pending.kind
            && self.village_id == pending.village_id
            && self.content == pending.content
    }
}

fn kept_plans() -> std::sync::MutexGuard<'static, VecDeque<Entry>> {
    static KEPT: OnceLock<Mutex<VecDeque<Entry>>> = OnceLock::new();
    KEPT.get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The plan kept for this upload and actor, if any (it may be out of date: see
/// [`Preview::still_current`]).
pub(super) fn kept(actor: &Actor, pending: &Pending) -> Option<Arc<Preview>> {
    kept_plans()
        .iter()
        .find(|e| e.is_for(actor, pending))
        .map(|e| Arc::clone(&e.preview))
}

/// Takes the plan kept for this upload and actor out, so that one commit uses it.
pub(super) fn take(actor: &Actor, pending: &Pending) -> Option<Arc<Preview>> {
    let mut kept = kept_plans();
    let at = kept.iter().position(|e| e.is_for(actor, pending))?;
    kept.remove(at).map(|e| e.preview)
}

/// Lets go of whatever is kept for this upload.
pub(super) fn forget(pending: i64) {
    kept_plans().retain(|e| e.pending != pending);
}

/// Keeps the plan for this upload and actor, letting the oldest plans go past the bound.
pub(super) fn keep(actor: &Actor, pending: &Pending, preview: &Arc<Preview>) {
    if preview.rows_total > KEPT_ROWS {
        return;
    }
    let mut kept = kept_plans();
    kept.retain(|e| e.pending != pending.id);
    kept.push_back(Entry {
        pending: pending.id,
        user: actor.user_id,
        role: actor.role,
        scope: actor.scope,
        file_name: pending.file_name.clone(),
        kind: pending.kind.clone(),
        village_id: pending.village_id,
        content: pending.content.clone(),
        preview: Arc::clone(preview),
    });
    while kept.iter().map(|e| e.preview.rows_total).sum::<usize>() > KEPT_ROWS {
        kept.pop_front();
    }
}
