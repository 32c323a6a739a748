//! /imports: upload, preview, commit, history, undo, templates.

use chrono::Local;
use rocket::response::{Flash, Redirect};
use rocket::tokio::io::AsyncReadExt;
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{ActionForm, CommitForm, UploadForm};
use super::guards::{CurrentUser, EditorUser};
use super::render::Chrome;
use crate::domain::import::ImportKind;
use crate::services::imports::{self, ImportError, Preview, Upload};
use crate::services::{Actor, ServiceError};
use crate::sheets::import_files;
use crate::sheets::read::MAX_UPLOAD_BYTES;
use crate::store::imports::{self as store, Pending};
use crate::store::Db;

fn refused(message: impl Into<String>) -> AppError {
    AppError(ServiceError::Refused(message.into()))
}

#[rocket::get("/")]
async fn upload_form(editor: EditorUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let actor = &editor.0.actor;
    Ok(chrome.render(
        "imports/upload",
        json!({
            "kinds": ImportKind::options(),
            "villages": selectable_villages(db, actor).await?,
            "confined": !actor.role.sees_all_villages(),
            "max_mb": MAX_UPLOAD_BYTES / 1024 / 1024,
        }),
    ))
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
    if !actor.role.sees_all_villages() && village.is_some_and(|v| Some(v) != actor.village_id) {
        return Err(AppError(ServiceError::Forbidden));
    }
    let user_id = editor.0.user.id;
    let id = store::save_pending(
        db,
        user_id,
        &file_name,
        kind.map(ImportKind::code),
        village,
        &bytes,
    )
    .await?;
    Ok(Flash::success(
        Redirect::to(format!("/imports/preview/{id}")),
        "文件已上传，请核对预览结果。",
    ))
}

async fn pending_of(db: &Db, me: &CurrentUser, id: i64) -> AppResult<Pending> {
    let pending = store::get_pending(db, id)
        .await?
        .ok_or(AppError(ServiceError::NotFound))?;
    if pending.uploaded_by != me.user.id {
        return Err(AppError(ServiceError::NotFound));
    }
    Ok(pending)
}

fn upload_of(pending: &Pending) -> Upload<'_> {
    Upload {
        file_name: &pending.file_name,
        bytes: &pending.content,
        kind: pending.kind.as_deref().and_then(ImportKind::from_code),
        village_id: pending.village_id,
    }
}

fn preview_view(p: &Preview) -> Value {
    json!({
        "kind": p.kind.label_zh(),
        "sheets": p.sheets,
        "rows_total": p.rows_total,
        "created": p.created,
        "updated": p.updated,
        "unchanged": p.unchanged,
        "rejected": p.rejected,
        "errors": p.errors,
        "warnings": p.warnings,
        "already": p.already_imported.map(|(id, at)| json!({
            "id": id, "at": at.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string() })),
    })
}

#[rocket::get("/preview/<id>")]
async fn preview(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let me = &editor.0;
    let pending = pending_of(db, me, id).await?;
    let result = imports::preview(db, &me.actor, &upload_of(&pending)).await;
    let context = match result {
        Ok(p) => {
            json!({ "pending_id": id, "file_name": pending.file_name, "preview": preview_view(&p) })
        }
        Err(ImportError::Read(e)) => {
            json!({ "pending_id": id, "file_name": pending.file_name, "read_error": e.to_string() })
        }
        Err(ImportError::Service(e)) => return Err(AppError(e)),
    };
    Ok(chrome.render("imports/preview", context))
}

#[rocket::post("/preview/<id>/commit", data = "<form>")]
async fn commit(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<CommitForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let me = &editor.0;
    let pending = pending_of(db, me, id).await?;
    match imports::commit(db, &me.actor, &upload_of(&pending), form.0.allow_partial).await {
        Ok((batch, p)) => {
            store::delete_pending(db, id).await?;
            Ok(Flash::success(
                Redirect::to(format!("/imports/batches/{batch}")),
                format!(
                    "导入完成：新增 {} 行，更新 {} 行，未变 {} 行，跳过错误行 {} 行。",
                    p.created, p.updated, p.unchanged, p.rejected
                ),
            ))
        }
        Err(ImportError::Service(ServiceError::Refused(message))) => Ok(Flash::error(
            Redirect::to(format!("/imports/preview/{id}")),
            message,
        )),
        Err(ImportError::Read(e)) => Ok(Flash::error(Redirect::to("/imports"), e.to_string())),
        Err(ImportError::Service(e)) => Err(AppError(e)),
    }
}

#[rocket::get("/preview/<id>/rejected.xlsx")]
async fn rejected(editor: EditorUser, id: i64, db: &State<Db>) -> AppResult<XlsxDownload> {
    let me = &editor.0;
    let pending = pending_of(db, me, id).await?;
    let p = match imports::preview(db, &me.actor, &upload_of(&pending)).await {
        Ok(p) => p,
        Err(ImportError::Read(e)) => return Err(refused(e.to_string())),
        Err(ImportError::Service(e)) => return Err(AppError(e)),
    };
    let sheets: Vec<_> = p
        .headers
        .iter()
        .map(|(name, headers)| {
            let rows = p
                .rejected_rows
                .iter()
                .filter(|r| &r.row.sheet == name)
                .map(|r| (r.row.raw.clone(), r.message.clone()))
                .collect();
            (name.clone(), headers.clone(), rows)
        })
        .collect();
    let stem = pending
        .file_name
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(&pending.file_name);
    Ok(XlsxDownload {
        file_name: format!("{stem}_错误行.xlsx"),
        bytes: import_files::rejected_rows(&sheets)?,
    })
}

fn batch_view(b: &store::Batch, actor: &Actor) -> Value {
    json!({
        "id": b.id,
        "kind": ImportKind::from_code(&b.kind).map(ImportKind::label_zh).unwrap_or(""),
        "village_name": b.village_name.as_deref().unwrap_or("—"),
        "file_name": b.file_name,
        "uploader": b.uploader,
        "at": b.uploaded_at.with_timezone(&Local).format("%Y-%m-%d %H:%M").to_string(),
        "rows_total": b.rows_total, "created": b.created_count, "updated": b.updated_count,
        "unchanged": b.unchanged_count, "rejected": b.rejected_count,
        "status": if b.status == "committed" { "已导入" } else { "已撤销" },
        "can_undo": imports::can_undo(actor, b, Local::now().date_naive()),
    })
}

#[rocket::get("/history")]
async fn history(me: CurrentUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let batches = imports::list_batches(db, &me.actor).await?;
    let rows: Vec<Value> = batches.iter().map(|b| batch_view(b, &me.actor)).collect();
    Ok(chrome.render("imports/history", json!({ "batches": rows })))
}

#[rocket::get("/batches/<id>")]
async fn batch(me: CurrentUser, id: i64, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let b = imports::get_batch(db, &me.actor, id).await?;
    let report: Value = serde_json::from_str(&b.report).unwrap_or(Value::Null);
    Ok(chrome.render(
        "imports/batch",
        json!({ "batch": batch_view(&b, &me.actor), "report": report }),
    ))
}

#[rocket::get("/batches/<id>/undo")]
async fn undo_confirm(
    me: CurrentUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let b = imports::get_batch(db, &me.actor, id).await?;
    if !imports::can_undo(&me.actor, &b, Local::now().date_naive()) {
        return Err(AppError(ServiceError::Forbidden));
    }
    Ok(chrome.render(
        "confirm",
        json!({
            "title": format!("撤销导入批次 #{}？", b.id),
            "message": format!("将删除该批次新增的 {} 行记录，并把更新的 {} 行恢复为导入前的内容。此操作不能再撤回。", b.created_count, b.updated_count),
            "items": [format!("{}（{}）", b.file_name, b.uploaded_at.with_timezone(&Local).format("%Y-%m-%d %H:%M"))],
            "action": format!("/imports/batches/{id}/undo"),
            "cancel": format!("/imports/batches/{id}"),
            "button": "确定撤销",
        }),
    ))
}

#[rocket::post("/batches/<id>/undo", data = "<_form>")]
async fn undo(
    me: CurrentUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let to = Redirect::to(format!("/imports/batches/{id}"));
    match imports::undo(db, &me.actor, id, Local::now().date_naive()).await {
        Ok(()) => Ok(Flash::success(to, "已撤销该批次导入。")),
        Err(ServiceError::Refused(message)) => Ok(Flash::error(to, message)),
        Err(e) => Err(AppError(e)),
    }
}

#[rocket::get("/templates/<file>")]
async fn template(_me: CurrentUser, file: &str, db: &State<Db>) -> AppResult<XlsxDownload> {
    let kind = file
        .strip_suffix(".xlsx")
        .and_then(ImportKind::from_code)
        .ok_or(AppError(ServiceError::NotFound))?;
    let villages: Vec<String> = crate::store::villages::list(db)
        .await?
        .into_iter()
        .map(|v| v.name)
        .collect();
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
        history,
        batch,
        undo_confirm,
        undo,
        template
    ]
}
