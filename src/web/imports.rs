//! /imports: upload, preview, commit, history, undo, templates.

use rocket::response::{Flash, Redirect};
use rocket::tokio::io::AsyncReadExt;
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::Value;

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{ActionForm, CommitForm, UploadForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::today;
use super::render::Chrome;
use super::views::local_minute;
use crate::domain::import::ImportKind;
use crate::domain::labels::CodeLabel;
use crate::services::imports::batches::{self, BatchLine};
use crate::services::imports::{self, ImportError, Issue, Preview, SheetSummary};
use crate::services::villages::Village;
use crate::services::Db;
use crate::services::ServiceError;
use crate::sheets::import_files;
use crate::sheets::read::MAX_UPLOAD_BYTES;

fn refused(message: impl Into<String>) -> AppError {
    AppError(ServiceError::Refused(message.into()))
}

#[derive(Serialize)]
struct UploadPage {
    kinds: Vec<CodeLabel>,
    villages: Vec<Village>,
    confined: bool,
    max_mb: usize,
}

#[rocket::get("/")]
async fn upload_form(editor: EditorUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let view = UploadPage {
        kinds: ImportKind::options(),
        villages: selectable_villages(db, actor).await?,
        confined: !actor.role.sees_all_villages(),
        max_mb: MAX_UPLOAD_BYTES / 1024 / 1024,
    };
    Ok(chrome.render("imports/upload", view))
}

#[rocket::post("/", data = "<form>")]
async fn upload(
    editor: EditorUser,
    form: CsrfForm<UploadForm<'_>>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let form = form.0;
    let back = |message: String| Flash::error(Redirect::to("/imports"), message);
    let file_name = form
        .file
        .raw_name()
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_string())
        .unwrap_or_default();
    if file_name.is_empty() || form.file.len() == 0 {
        return Ok(back("请选择要上传的文件。".into()));
    }
    if form.file.len() as usize > MAX_UPLOAD_BYTES {
        return Ok(back(format!(
            "文件太大，单个文件不能超过 {} MB。",
            MAX_UPLOAD_BYTES / 1024 / 1024
        )));
    }
    let mut bytes = Vec::with_capacity(form.file.len() as usize);
    let mut reader = form
        .file
        .open()
        .await
        .map_err(|e| refused(format!("无法读取上传的文件：{e}")))?;
    reader
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| refused(format!("无法读取上传的文件：{e}")))?;
    let kind = form.kind.as_deref().and_then(ImportKind::from_code);
    let actor = &editor.0.actor;
    let village = match form.village_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(
            v.parse::<i64>()
                .map_err(|_| AppError(ServiceError::Forbidden))?,
        ),
    };
    let id = batches::save_upload(db, actor, &file_name, kind, village, &bytes).await?;
    Ok(Flash::success(
        Redirect::to(format!("/imports/preview/{id}")),
        "文件已上传，请核对预览结果。",
    ))
}

/// The same file was committed before: which batch, and when.
#[derive(Serialize)]
struct AlreadyImported {
    id: i64,
    at: String,
}

/// The most errors, and the most notes, a preview or batch page lists: a sheet that
/// registers 12,000 new people has a note for each, a page of megabytes on a phone. The
/// whole list is a download (问题和提示).
const SHOWN_ISSUES: usize = 200;

fn first_issues(issues: &[Issue]) -> Vec<Issue> {
    issues.iter().take(SHOWN_ISSUES).cloned().collect()
}

/// What importing the file would do.
#[derive(Serialize)]
struct PreviewView {
    kind: &'static str,
    sheets: Vec<SheetSummary>,
    rows_total: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
    rejected: usize,
    /// The first [`SHOWN_ISSUES`] errors and notes, and how many there are.
    errors: Vec<Issue>,
    error_count: usize,
    warnings: Vec<Issue>,
    warning_count: usize,
    already: Option<AlreadyImported>,
}

impl PreviewView {
    fn of(p: &Preview) -> PreviewView {
        PreviewView {
            kind: p.kind.label_zh(),
            sheets: p.sheets.clone(),
            rows_total: p.rows_total,
            created: p.created,
            updated: p.updated,
            unchanged: p.unchanged,
            rejected: p.rejected,
            errors: first_issues(&p.errors),
            error_count: p.errors.len(),
            warnings: first_issues(&p.warnings),
            warning_count: p.warnings.len(),
            already: p.already_imported.map(|(id, at)| AlreadyImported {
                id,
                at: local_minute(at),
            }),
        }
    }
}

/// The preview, or why the file could not be read.
#[derive(Serialize)]
struct PreviewPage {
    pending_id: i64,
    file_name: String,
    preview: Option<PreviewView>,
    read_error: Option<String>,
}

#[rocket::get("/preview/<id>")]
async fn preview(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let (pending, result) = batches::preview_pending(db, &editor.0.actor, id).await?;
    let (preview, read_error) = match result {
        Ok(p) => (Some(PreviewView::of(&p)), None),
        Err(ImportError::Read(e)) => (None, Some(e.to_string())),
        Err(ImportError::Service(e)) => return Err(AppError(e)),
    };
    let view = PreviewPage {
        pending_id: id,
        file_name: pending.file_name,
        preview,
        read_error,
    };
    Ok(chrome.render("imports/preview", view))
}

#[rocket::post("/preview/<id>/commit", data = "<form>")]
async fn commit(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<CommitForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    match batches::commit_pending(db, &editor.0.actor, id, form.0.allow_partial).await {
        Ok((batch, p)) => Ok(Flash::success(
            Redirect::to(format!("/imports/batches/{batch}")),
            format!(
                "导入完成：新增 {} 行，更新 {} 行，未变 {} 行，跳过错误行 {} 行。",
                p.created, p.updated, p.unchanged, p.rejected
            ),
        )),
        Err(ImportError::Service(ServiceError::Refused(message))) => Ok(Flash::error(
            Redirect::to(format!("/imports/preview/{id}")),
            message,
        )),
        Err(ImportError::Read(e)) => Ok(Flash::error(Redirect::to("/imports"), e.to_string())),
        Err(ImportError::Service(e)) => Err(AppError(e)),
    }
}

/// The waiting upload's file name and plan, for a download; a file that cannot be read is
/// refused with the reason.
async fn planned_upload(
    editor: &EditorUser,
    id: i64,
    db: &Db,
) -> AppResult<(String, std::sync::Arc<Preview>)> {
    let (pending, result) = batches::preview_pending(db, &editor.0.actor, id).await?;
    match result {
        Ok(p) => Ok((pending.file_name, p)),
        Err(ImportError::Read(e)) => Err(refused(e.to_string())),
        Err(ImportError::Service(e)) => Err(AppError(e)),
    }
}

#[rocket::get("/preview/<id>/rejected.xlsx")]
async fn rejected(editor: EditorUser, id: i64, db: &State<Db>) -> AppResult<XlsxDownload> {
    let (file_name, p) = planned_upload(&editor, id, db).await?;
    let sheets = imports::rejected_sheets(&p.headers, &p.rejected_rows);
    rejected_download(&file_name, &sheets)
}

/// An upload's name without its extension, for the names of the files made from it.
fn stem(file_name: &str) -> &str {
    file_name
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(file_name)
}

/// The 错误行 workbook of an upload named `file_name`.
fn rejected_download(
    file_name: &str,
    sheets: &[import_files::RejectedSheet],
) -> AppResult<XlsxDownload> {
    Ok(XlsxDownload {
        file_name: format!("{}_错误行.xlsx", stem(file_name)),
        bytes: import_files::rejected_rows(sheets)?,
    })
}

/// Every error and note of the waiting upload's preview.
#[rocket::get("/preview/<id>/issues.xlsx")]
async fn preview_issues(editor: EditorUser, id: i64, db: &State<Db>) -> AppResult<XlsxDownload> {
    let (file_name, p) = planned_upload(&editor, id, db).await?;
    issues_download(&file_name, &p.errors, &p.warnings)
}

/// Every error and note of a committed batch, as its report keeps them.
#[rocket::get("/batches/<id>/issues.xlsx")]
async fn batch_issues(me: CurrentUser, id: i64, db: &State<Db>) -> AppResult<XlsxDownload> {
    let line = batches::batch_line(db, &me.actor, id, today()).await?;
    let (mut report, _) = imports::split_report(&line.batch);
    // Each list is taken out of the report, not copied: a batch can keep 12,000 notes.
    let mut list = |key: &str| -> Vec<Issue> {
        report
            .get_mut(key)
            .map(Value::take)
            .and_then(|issues| serde_json::from_value(issues).ok())
            .unwrap_or_default()
    };
    issues_download(&line.batch.file_name, &list("errors"), &list("warnings"))
}

/// The 问题和提示 workbook of an upload named `file_name`.
fn issues_download(
    file_name: &str,
    errors: &[Issue],
    warnings: &[Issue],
) -> AppResult<XlsxDownload> {
    fn line<'a>(kind: &'static str, i: &'a Issue) -> import_files::IssueLine<'a> {
        import_files::IssueLine {
            kind,
            sheet: &i.sheet,
            row: i.row,
            column: &i.column,
            header: &i.header,
            value: &i.value,
            message: &i.message,
        }
    }
    let lines: Vec<import_files::IssueLine<'_>> = errors
        .iter()
        .map(|i| line("错误", i))
        .chain(warnings.iter().map(|i| line("提示", i)))
        .collect();
    Ok(XlsxDownload {
        file_name: format!("{}_问题和提示.xlsx", stem(file_name)),
        bytes: import_files::issue_list(&lines)?,
    })
}

/// The rows a committed batch left out ("只导入正确的行"), as uploaded with 错误说明.
#[rocket::get("/batches/<id>/rejected.xlsx")]
async fn batch_rejected(me: CurrentUser, id: i64, db: &State<Db>) -> AppResult<XlsxDownload> {
    let line = batches::batch_line(db, &me.actor, id, today()).await?;
    let (_, sheets) = imports::split_report(&line.batch);
    if sheets.iter().all(|(_, _, rows)| rows.is_empty()) {
        return Err(AppError(ServiceError::NotFound));
    }
    rejected_download(&line.batch.file_name, &sheets)
}

/// One import batch as the history and batch pages show it.
#[derive(Serialize)]
struct BatchView {
    id: i64,
    kind: &'static str,
    village_name: String,
    file_name: String,
    uploader: Option<String>,
    at: String,
    rows_total: i64,
    created: i64,
    updated: i64,
    unchanged: i64,
    rejected: i64,
    status: &'static str,
    can_undo: bool,
}

impl BatchView {
    fn of(line: &BatchLine) -> BatchView {
        let b = &line.batch;
        BatchView {
            id: b.id,
            kind: ImportKind::from_code(&b.kind)
                .map(ImportKind::label_zh)
                .unwrap_or(""),
            village_name: b.village_name.as_deref().unwrap_or("—").to_string(),
            file_name: b.file_name.clone(),
            uploader: b.uploader.clone(),
            at: local_minute(b.uploaded_at),
            rows_total: b.rows_total,
            created: b.created_count,
            updated: b.updated_count,
            unchanged: b.unchanged_count,
            rejected: b.rejected_count,
            status: if b.status == "committed" {
                "已导入"
            } else {
                "已撤销"
            },
            can_undo: line.can_undo,
        }
    }
}

#[derive(Serialize)]
struct HistoryPage {
    batches: Vec<BatchView>,
}

#[rocket::get("/history")]
async fn history(me: CurrentUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let lines = batches::batch_history(db, &me.actor, today()).await?;
    let view = HistoryPage {
        batches: lines.iter().map(BatchView::of).collect(),
    };
    Ok(chrome.render("imports/history", view))
}

#[derive(Serialize)]
struct BatchPage {
    batch: BatchView,
    /// The report stored with the batch (sheets, errors, warnings), its lists cut to the
    /// first [`SHOWN_ISSUES`].
    report: Value,
    error_count: usize,
    warning_count: usize,
    /// Whether the rows left out can be downloaded.
    has_rejected_rows: bool,
}

#[rocket::get("/batches/<id>")]
async fn batch(me: CurrentUser, id: i64, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let line = batches::batch_line(db, &me.actor, id, today()).await?;
    // The rejected rows are for the download, not the page.
    let (mut report, rejected) = imports::split_report(&line.batch);
    let has_rejected_rows = rejected.iter().any(|(_, _, rows)| !rows.is_empty());
    let mut cut = |key: &str| match report.get_mut(key).and_then(Value::as_array_mut) {
        Some(list) => {
            let count = list.len();
            list.truncate(SHOWN_ISSUES);
            count
        }
        None => 0,
    };
    let (error_count, warning_count) = (cut("errors"), cut("warnings"));
    let view = BatchPage {
        has_rejected_rows,
        report,
        error_count,
        warning_count,
        batch: BatchView::of(&line),
    };
    Ok(chrome.render("imports/batch", view))
}

/// The shared “are you sure?” page.
#[derive(Serialize)]
struct ConfirmPage {
    title: String,
    message: String,
    items: Vec<String>,
    action: String,
    cancel: String,
    button: &'static str,
}

#[rocket::get("/batches/<id>/undo")]
async fn undo_confirm(
    me: CurrentUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let b = batches::batch_to_undo(db, &me.actor, id, today()).await?;
    let view = ConfirmPage {
        title: format!("撤销导入批次 #{}？", b.id),
        message: format!(
            "将删除该批次新增的 {} 行记录，并把更新的 {} 行恢复为导入前的内容。此操作不能再撤回。",
            b.created_count, b.updated_count
        ),
        items: vec![format!(
            "{}（{}）",
            b.file_name,
            local_minute(b.uploaded_at)
        )],
        action: format!("/imports/batches/{id}/undo"),
        cancel: format!("/imports/batches/{id}"),
        button: "确定撤销",
    };
    Ok(chrome.render("confirm", view))
}

#[rocket::post("/batches/<id>/undo", data = "<_form>")]
async fn undo(
    me: CurrentUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let to = Redirect::to(format!("/imports/batches/{id}"));
    match imports::undo(db, &me.actor, id, today()).await {
        Ok(()) => Ok(Flash::success(to, "已撤销该批次导入。")),
        Err(ServiceError::Refused(message)) => Ok(Flash::error(to, message)),
        Err(e) => Err(AppError(e)),
    }
}

#[rocket::get("/templates/<file>")]
async fn template(me: CurrentUser, file: &str, db: &State<Db>) -> AppResult<XlsxDownload> {
    let kind = file
        .strip_suffix(".xlsx")
        .and_then(ImportKind::from_code)
        .ok_or(AppError(ServiceError::NotFound))?;
    let villages = batches::template_villages(db, &me.actor).await?;
    Ok(XlsxDownload {
        file_name: format!("{}模板.xlsx", kind.label_zh()),
        bytes: import_files::template(kind, &villages)?,
    })
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        upload_form,
        upload,
        preview,
        commit,
        rejected,
        batch_rejected,
        preview_issues,
        batch_issues,
        history,
        batch,
        undo_confirm,
        undo,
        template
    ]
}
