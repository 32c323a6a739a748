//! The web side of intake: uploads waiting for preview (each visible only to its
//! uploader), committing one, and the batch history with who may undo what.

use chrono::NaiveDate;
use std::sync::Arc;

use super::{
    can_undo, commit_planned, commit_upload, get_batch, kept_plans, list_batches, preview,
    ImportError, Preview, Upload,
};
use crate::domain::import::ImportKind;
use crate::services::{Actor, ServiceError, ServiceResult};
use crate::sheets::read::ReadError;
use crate::store::imports as store;
use crate::store::{villages, Db};

pub use crate::store::imports::{Batch, Pending};

/// Keeps an upload until it is previewed and committed. A clerk may only name their own
/// village.
pub async fn save_upload(
    db: &Db,
    actor: &Actor,
    file_name: &str,
    kind: Option<ImportKind>,
    village_id: Option<i64>,
    bytes: &[u8],
) -> ServiceResult<i64> {
    actor.require(actor.role.can_edit_records())?;
    let user_id = actor.user_id.ok_or(ServiceError::Forbidden)?;
    if !actor.role.sees_all_villages()
        && village_id.is_some_and(|v| Some(v) != actor.confined_village())
    {
        return Err(ServiceError::Forbidden);
    }
    Ok(store::save_pending(
        db,
        user_id,
        file_name,
        kind.map(ImportKind::code),
        village_id,
        bytes,
    )
    .await?)
}

/// An upload waiting for preview; only its uploader sees it.
pub async fn pending_upload(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Pending> {
    let pending = store::get_pending(db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if actor.user_id != Some(pending.uploaded_by) {
        return Err(ServiceError::NotFound);
    }
    Ok(pending)
}

pub fn upload_of(pending: &Pending) -> Upload<'_> {
    Upload {
        file_name: &pending.file_name,
        bytes: &pending.content,
        kind: pending.kind.as_deref().and_then(ImportKind::from_code),
        village_id: pending.village_id,
    }
}

/// The waiting upload and what importing it would do (or why the file cannot be read).
/// The plan is kept for the upload, and planned again only once something has changed.
pub async fn preview_pending(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> ServiceResult<(Pending, Result<Arc<Preview>, ImportError>)> {
    let pending = pending_upload(db, actor, id).await?;
    if pending.unreadable {
        return Ok((pending, Err(ReadError::Unreadable.into())));
    }
    match current_plan(db, actor, &pending).await {
        Ok(Some(kept)) => return Ok((pending, Ok(kept))),
        Ok(None) => {}
        Err(e) => return Ok((pending, Err(e))),
    }
    let preview = preview(db, actor, &upload_of(&pending)).await.map(Arc::new);
    mark_if_unreadable(db, id, &preview).await?;
    if let Ok(planned) = &preview {
        kept_plans::keep(db, actor, &pending, planned);
    }
    Ok((pending, preview))
}

/// The plan kept for the upload while nothing has changed since it was made; an outdated
/// one is let go.
async fn current_plan(
    db: &Db,
    actor: &Actor,
    pending: &Pending,
) -> Result<Option<Arc<Preview>>, ImportError> {
    let Some(kept) = kept_plans::kept(db, actor, pending) else {
        return Ok(None);
    };
    if kept.still_current(db).await? {
        return Ok(Some(kept));
    }
    kept_plans::forget(db, pending.id);
    Ok(None)
}

/// A read that failed in its worker is not started again for this upload: a crafted file
/// that takes its reader down does it once, not at every reload of the preview.
async fn mark_if_unreadable<T>(
    db: &Db,
    id: i64,
    result: &Result<T, ImportError>,
) -> ServiceResult<()> {
    if let Err(ImportError::Read(ReadError::Unreadable)) = result {
        store::mark_pending_unreadable(db, id).await?;
    }
    Ok(())
}

/// Commits the waiting upload (with the plan its preview made, while that is still
/// current) and, once committed, forgets it and its plan. Returns the batch id. A refused
/// commit (rows with errors, not “只导入正确的行”) leaves the plan for the preview it
/// returns to.
pub async fn commit_pending(
    db: &Db,
    actor: &Actor,
    id: i64,
    allow_partial: bool,
) -> Result<(i64, Arc<Preview>), ImportError> {
    let pending = pending_upload(db, actor, id).await?;
    if pending.unreadable {
        return Err(ReadError::Unreadable.into());
    }
    let result = match current_plan(db, actor, &pending).await? {
        Some(planned) => {
            commit_planned(
                db,
                actor,
                &pending.file_name,
                planned,
                allow_partial,
                Some(id),
            )
            .await
        }
        None => commit_upload(db, actor, &upload_of(&pending), allow_partial, Some(id)).await,
    };
    mark_if_unreadable(db, id, &result).await?;
    if result.is_ok() {
        kept_plans::forget(db, id);
    }
    result
}

/// A batch and whether the actor may undo it (today).
pub struct BatchLine {
    pub batch: Batch,
    pub can_undo: bool,
}

pub async fn batch_history(
    db: &Db,
    actor: &Actor,
    today: NaiveDate,
) -> ServiceResult<Vec<BatchLine>> {
    Ok(list_batches(db, actor)
        .await?
        .into_iter()
        .map(|batch| BatchLine {
            can_undo: can_undo(actor, &batch, today),
            batch,
        })
        .collect())
}

pub async fn batch_line(
    db: &Db,
    actor: &Actor,
    id: i64,
    today: NaiveDate,
) -> ServiceResult<BatchLine> {
    let batch = get_batch(db, actor, id).await?;
    Ok(BatchLine {
        can_undo: can_undo(actor, &batch, today),
        batch,
    })
}

/// A batch the actor may undo, for the confirmation page.
pub async fn batch_to_undo(
    db: &Db,
    actor: &Actor,
    id: i64,
    today: NaiveDate,
) -> ServiceResult<Batch> {
    let line = batch_line(db, actor, id, today).await?;
    actor.require(line.can_undo)?;
    Ok(line.batch)
}

/// The village names a blank import template offers in its drop-downs.
pub async fn template_villages(db: &Db, _actor: &Actor) -> ServiceResult<Vec<String>> {
    Ok(villages::list(db)
        .await?
        .into_iter()
        .map(|v| v.name)
        .collect())
}
