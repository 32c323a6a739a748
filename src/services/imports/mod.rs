//! Spreadsheet intake: preview (parse, validate, plan; nothing written), commit (one
//! transaction, recorded so it can be undone), undo. Web and CLI both call these.

pub mod batches;
mod cells;
mod commit;
mod kept_plans;
mod plan;
mod reading;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use super::{Actor, ServiceError};
use crate::domain::import::ImportKind;
use crate::sheets::read::{self, ReadError, SourceRow};
use crate::store::imports::{self as store, Op};
use crate::store::StoreError;
use crate::store::{villages, Db};

use commit::Stamp;
pub use commit::{commit, commit_previewed};
pub(crate) use commit::{commit_planned, commit_upload};
pub use plan::Issue;

/// An uploaded file and what the uploader chose.
pub struct Upload<'a> {
    pub file_name: &'a str,
    pub bytes: &'a [u8],
    pub kind: Option<ImportKind>,
    /// The village an organizer chose; a clerk's is always their own.
    pub village_id: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file cannot be read at all.
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for ImportError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::AlreadyImported(batch) => {
                let which = batch
                    .map(|id| format!("（批次 #{id}）"))
                    .unwrap_or_default();
                ImportError::Service(ServiceError::Refused(format!(
                    "该文件已经导入{which}，本次未做任何修改。"
                )))
            }
            other => ImportError::Service(other.into()),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SheetSummary {
    pub name: String,
    pub header_row: usize,
    /// What the title rows said, used for rows that leave these cells blank.
    pub title_village: Option<String>,
    pub title_year: Option<i32>,
}

/// A rejected row: its sheet's headers and cells as uploaded, and what is wrong.
#[derive(Debug, Clone)]
pub struct RejectedRow {
    pub row: SourceRow,
    pub message: String,
}

/// What an import would do (or did).
#[derive(Debug)]
pub struct Preview {
    pub kind: ImportKind,
    pub sheets: Vec<SheetSummary>,
    pub rows_total: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    /// The same file was committed before: (batch id, when).
    pub already_imported: Option<(i64, DateTime<Utc>)>,
    pub sha256: String,
    pub village_id: Option<i64>,
    pub rejected_rows: Vec<RejectedRow>,
    /// Header texts per sheet, for the rejected-rows file.
    pub headers: Vec<(String, Vec<String>)>,
    ops: Vec<Op>,
    /// The parsed file, kept so that a commit plans it again without parsing it again.
    source: Option<ReadUpload>,
    /// What the plan was made against: a commit writes it as it is while that still holds.
    planned: Stamp,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// An upload read and checked, not yet planned.
#[derive(Debug, Clone)]
pub(crate) struct ReadUpload {
    tables: Arc<read::TableSet>,
    villages: Vec<crate::store::villages::Village>,
    default_village: Option<i64>,
    sha256: String,
    /// The data version before the villages were read (see [`Stamp`]).
    version: i64,
}

/// Checks who may import what, and reads the file (in a worker process, see `reading`).
async fn read_upload(
    db: &Db,
    actor: &Actor,
    upload: &Upload<'_>,
) -> Result<ReadUpload, ImportError> {
    actor.require(actor.role.can_edit_records())?;
    if let (Some(own), Some(chosen)) = (actor.confined_village(), upload.village_id) {
        if own != chosen {
            return Err(ServiceError::Forbidden.into());
        }
    }
    // Read first: a change made while the file is read and planned moves it on.
    let version = crate::store::summary::data_version(db).await?;
    let villages = villages::list(db).await?;
    let names: Vec<String> = villages.iter().map(|v| v.name.clone()).collect();
    let sha256 = sha256_hex(upload.bytes);
    let tables = reading::read_tables(
        actor.user_id,
        upload.file_name,
        upload.bytes,
        &sha256,
        upload.kind,
        names,
    )
    .await?;
    Ok(ReadUpload {
        tables,
        villages,
        default_village: actor.confined_village().or(upload.village_id),
        sha256,
        version,
    })
}

/// Plans what the read upload would change, against the data as it is now.
async fn plan_upload(db: &Db, actor: &Actor, upload: ReadUpload) -> Result<Preview, ImportError> {
    let planned = Stamp::today(upload.version);
    let already_imported = store::committed_with_sha(db, &upload.sha256)
        .await?
        .map(|b| (b.id, b.uploaded_at));
    let tables = &upload.tables;
    let mut planner = plan::Planner::new(
        db,
        actor,
        tables.kind,
        upload.villages.clone(),
        upload.default_village,
        planned.day(),
    )
    .await?;
    for sheet in &tables.sheets {
        planner.plan_sheet(sheet).await?;
    }
    let village_id = upload.default_village.or_else(|| planner.single_village());
    let result = planner.finish();
    Ok(Preview {
        kind: tables.kind,
        sheets: tables
            .sheets
            .iter()
            .map(|s| SheetSummary {
                name: s.name.clone(),
                header_row: s.header_row,
                title_village: s.title_village.clone(),
                title_year: s.title_year,
            })
            .collect(),
        rows_total: tables.sheets.iter().map(|s| s.rows.len()).sum(),
        created: result.created,
        updated: result.updated,
        unchanged: result.unchanged,
        rejected: result.rejected.len(),
        errors: result.errors,
        warnings: result.warnings,
        already_imported,
        sha256: upload.sha256.clone(),
        village_id,
        rejected_rows: result.rejected,
        headers: tables
            .sheets
            .iter()
            .map(|s| (s.name.clone(), s.headers.clone()))
            .collect(),
        ops: result.ops,
        planned,
        source: Some(upload),
    })
}

/// Parses and validates the upload and plans what it would change. Nothing is written.
pub async fn preview(db: &Db, actor: &Actor, upload: &Upload<'_>) -> Result<Preview, ImportError> {
    let read = read_upload(db, actor, upload).await?;
    plan_upload(db, actor, read).await
}

/// Where a batch's report keeps its rejected rows.
const REJECTED_KEY: &str = "rejected_sheets";

/// The rejected rows by source sheet, with the sheet's headers: what the 错误行 workbook
/// is written from.
pub fn rejected_sheets(
    headers: &[(String, Vec<String>)],
    rejected: &[RejectedRow],
) -> Vec<crate::sheets::import_files::RejectedSheet> {
    headers
        .iter()
        .map(|(name, headers)| {
            let rows = rejected
                .iter()
                .filter(|r| *r.row.sheet == **name)
                .map(|r| (r.row.raw.clone(), r.message.clone()))
                .collect();
            (name.clone(), headers.clone(), rows)
        })
        .collect()
}

/// A committed batch's report (sheets, errors, warnings) and, taken out of it, the rejected
/// rows it keeps (none for batches from before they were kept, or without errors).
pub fn split_report(
    batch: &store::Batch,
) -> (
    serde_json::Value,
    Vec<crate::sheets::import_files::RejectedSheet>,
) {
    let mut report: serde_json::Value =
        serde_json::from_str(&batch.report).unwrap_or(serde_json::Value::Null);
    let rejected = report
        .as_object_mut()
        .and_then(|map| map.remove(REJECTED_KEY))
        .and_then(|sheets| serde_json::from_value(sheets).ok())
        .unwrap_or_default();
    (report, rejected)
}

/// What an import's table is called in messages.
fn table_label(table: &str) -> &str {
    match table {
        "people" => "人员",
        "sessions" => "学法活动",
        "attendance" => "考勤记录",
        "activities" => "普法活动",
        "distributions" => "资料发放",
        "self_study" => "自学记录",
        other => other,
    }
}

/// Who may undo: an admin, or the uploader within the year of the upload while they may
/// still edit that village's records (a clerk moved to another village, or made a viewer,
/// may not).
pub fn can_undo(actor: &Actor, batch: &store::Batch, today: chrono::NaiveDate) -> bool {
    batch.status == "committed"
        && (actor.role.can_administer()
            || (actor.user_id == Some(batch.uploaded_by)
                && actor.role.can_edit_records()
                && actor
                    .confined_village()
                    .is_none_or(|own| batch.village_id == Some(own))
                && batch.uploaded_at.with_timezone(&chrono::Local).year() == today.year()))
}

pub async fn get_batch(db: &Db, actor: &Actor, id: i64) -> Result<store::Batch, ServiceError> {
    let batch = store::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if actor.confined_village().is_some() && batch.village_id != actor.confined_village() {
        return Err(ServiceError::NotFound);
    }
    Ok(batch)
}

pub async fn list_batches(db: &Db, actor: &Actor) -> Result<Vec<store::Batch>, ServiceError> {
    Ok(store::list(db, actor.scope, 500).await?)
}

pub async fn undo(
    db: &Db,
    actor: &Actor,
    id: i64,
    today: chrono::NaiveDate,
) -> Result<(), ServiceError> {
    let batch = get_batch(db, actor, id).await?;
    if batch.status != "committed" {
        return Err(ServiceError::Refused("该批次已撤销。".into()));
    }
    actor.require(can_undo(actor, &batch, today))?;
    store::undo(db, id, actor.user_id)
        .await
        .map_err(|e| match e {
            StoreError::AlreadyUndone => ServiceError::Refused("该批次已撤销。".into()),
            StoreError::EditedSince(rows) => ServiceError::Refused(format!(
                "以下记录在导入后又被修改过：{}。撤销会覆盖或删除这些修改，因此没有撤销。请先核对这些记录；确需撤销时，可先把它们改回导入时的内容或逐条处理。",
                rows.iter()
                    .take(store::EDITS_NAMED)
                    .map(|(table, what)| format!("{}“{what}”", table_label(table)))
                    .collect::<Vec<_>>()
                    .join("、")
                    + if rows.len() > store::EDITS_NAMED { " 等" } else { "" }
            )),
            e if e.is_foreign_key_violation() => ServiceError::Refused(
                "该批次导入的数据已被后来的记录使用（如新的考勤或发放），不能撤销。".into(),
            ),
            e => e.into(),
        })
}
