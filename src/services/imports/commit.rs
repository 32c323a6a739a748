//! Committing a planned upload: in the import's exclusive turn, with the plan the preview
//! made while nothing has changed since, or planned again against what has.

use std::sync::Arc;

use super::{
    plan_upload, read_upload, rejected_sheets, ImportError, Preview, Upload, REJECTED_KEY,
};
use crate::services::{Actor, ServiceError};
use crate::store::imports::{self as store, NewBatch};
use crate::store::Db;

/// The data version read before anything the plan looked at, and the day the planner was
/// given (a row without a year or 认定日期 takes the day's).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Stamp {
    version: i64,
    day: chrono::NaiveDate,
}

impl Stamp {
    pub(super) fn today(version: i64) -> Stamp {
        Stamp {
            version,
            day: chrono::Local::now().date_naive(),
        }
    }

    pub(super) fn day(&self) -> chrono::NaiveDate {
        self.day
    }
}

impl Preview {
    /// Whether nothing changed since the plan was made (and it is still the same day). The
    /// batches are not under the data version: whether the file counts as imported already
    /// is looked up again.
    pub(super) async fn still_current(&self, db: &Db) -> Result<bool, ImportError> {
        let version = crate::store::summary::data_version(db).await?;
        if self.planned != Stamp::today(version) {
            return Ok(false);
        }
        let twin = store::committed_with_sha(db, &self.sha256)
            .await?
            .map(|b| (b.id, b.uploaded_at));
        Ok(twin == self.already_imported)
    }
}

/// Commits the upload: all accepted rows in one transaction. Rejected rows block the
/// commit unless `allow_partial` (“只导入正确的行”).
pub async fn commit(
    db: &Db,
    actor: &Actor,
    upload: &Upload<'_>,
    allow_partial: bool,
) -> Result<(i64, Arc<Preview>), ImportError> {
    commit_upload(db, actor, upload, allow_partial, None).await
}

/// Reads the upload, then plans it in the import's turn (after any import committing at the
/// same time) and writes it; `pending` is the waiting upload the commit claims, so that a
/// second click finds it gone. Only planning and writing hold the turn.
pub(crate) async fn commit_upload(
    db: &Db,
    actor: &Actor,
    upload: &Upload<'_>,
    allow_partial: bool,
    pending: Option<i64>,
) -> Result<(i64, Arc<Preview>), ImportError> {
    let read = read_upload(db, actor, upload).await?;
    let import = store::begin_exclusive(db).await?;
    let preview = Arc::new(plan_upload(db, actor, read).await?);
    let id = write_planned(
        import,
        actor,
        upload.file_name,
        &preview,
        allow_partial,
        pending,
    )
    .await?;
    Ok((id, preview))
}

/// Commits an upload the caller previewed just before: the file is not parsed again, and
/// it is not planned again either unless something changed since the preview was planned.
pub async fn commit_previewed(
    db: &Db,
    actor: &Actor,
    file_name: &str,
    preview: Preview,
    allow_partial: bool,
) -> Result<(i64, Arc<Preview>), ImportError> {
    commit_planned(db, actor, file_name, Arc::new(preview), allow_partial, None).await
}

/// Writes a preview's plan in the import's turn when the data it was planned against is
/// still the same (no change since, on the same day); otherwise plans the read upload again
/// in the turn, against what other imports and edits committed meanwhile.
pub(crate) async fn commit_planned(
    db: &Db,
    actor: &Actor,
    file_name: &str,
    preview: Arc<Preview>,
    allow_partial: bool,
    pending: Option<i64>,
) -> Result<(i64, Arc<Preview>), ImportError> {
    let mut import = store::begin_exclusive(db).await?;
    let now = Stamp::today(store::data_version_in(&mut import).await?);
    // A plan that found the file imported already is made again: that batch may have been
    // undone since (a twin committed since is found by the store in this transaction).
    let preview = if preview.planned == now && preview.already_imported.is_none() {
        preview
    } else {
        let Some(read) = preview.source.clone() else {
            return Err(ServiceError::Refused("预览已失效，请重新导入".into()).into());
        };
        // The stale plan is let go before the new one is made.
        drop(preview);
        Arc::new(plan_upload(db, actor, read).await?)
    };
    let id = write_planned(import, actor, file_name, &preview, allow_partial, pending).await?;
    Ok((id, preview))
}

async fn write_planned(
    import: store::ImportTx,
    actor: &Actor,
    file_name: &str,
    preview: &Preview,
    allow_partial: bool,
    pending: Option<i64>,
) -> Result<i64, ImportError> {
    let Some(user_id) = actor.user_id else {
        return Err(ServiceError::Refused(
            "导入需要以某个账号的身份进行（命令行请用 --as 用户名）".into(),
        )
        .into());
    };
    if let Some((batch, at)) = preview.already_imported {
        return Err(ServiceError::Refused(format!(
            "该文件已于 {} 导入（批次 #{batch}），本次未做任何修改。",
            at.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M")
        ))
        .into());
    }
    // "Only the correct rows" of a file without one would record an empty batch, and the
    // same file could then not be uploaded again.
    if preview.rows_total > 0 && preview.rejected == preview.rows_total {
        return Err(ServiceError::Refused(format!(
            "全部 {} 行都有错误，没有可以导入的数据，未导入任何数据。请修改后重新上传。",
            preview.rejected
        ))
        .into());
    }
    if preview.rejected > 0 && !allow_partial {
        return Err(ServiceError::Refused(format!(
            "有 {} 行有错误，未导入任何数据。请修改后重新上传，或选择“只导入正确的行”。",
            preview.rejected
        ))
        .into());
    }
    // The rejected rows are kept as uploaded, so that they can still be downloaded from
    // the batch page after "只导入正确的行".
    let report = serde_json::json!({
        "sheets": preview.sheets, "errors": preview.errors, "warnings": preview.warnings,
        REJECTED_KEY: rejected_sheets(&preview.headers, &preview.rejected_rows),
    });
    let batch = NewBatch {
        kind: preview.kind.code().into(),
        village_id: preview.village_id,
        file_name: file_name.chars().take(200).collect(),
        file_sha256: preview.sha256.clone(),
        uploaded_by: user_id,
        rows_total: preview.rows_total as i64,
        created: preview.created as i64,
        updated: preview.updated as i64,
        unchanged: preview.unchanged as i64,
        rejected: preview.rejected as i64,
        report: report.to_string(),
    };
    Ok(store::commit(import, &batch, &preview.ops, pending).await?)
}
