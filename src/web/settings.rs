//! /settings: the admin's yearly study requirements per category.

use rocket::response::{Flash, Redirect};
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::csrf::CsrfForm;
use super::download::BackupDownload;
use super::error::AppResult;
use super::forms::{ActionForm, RequirementForm, TownshipForm};
use super::guards::AdminUser;
use super::render::Chrome;
use crate::domain::labels::CodeLabel;
use crate::domain::self_study::{requirement_kind_label, requirement_kind_options};
use crate::domain::Category;
use crate::services::attendance::{self, RequirementInput};
use crate::services::{backup, report, Db, ServiceError};

#[derive(Serialize)]
struct RequirementRow {
    id: i64,
    category: &'static str,
    kind: &'static str,
    min_sessions: i64,
    min_hours: f64,
}

#[derive(Serialize)]
struct RequirementsPage {
    rows: Vec<RequirementRow>,
    categories: Vec<CodeLabel>,
    kinds: Vec<CodeLabel>,
    township_name: String,
}

/// The admin downloads a backup of the whole database, made now (the file the nightly
/// backup writes, and `pufa restore` reads).
#[rocket::get("/backup")]
async fn download_backup(_admin: AdminUser, db: &State<Db>) -> AppResult<BackupDownload> {
    let file_name = backup::backup_file_name(chrono::Local::now().naive_local());
    let dir = std::env::temp_dir().join(format!("pufa-backup-{}", crate::random_token()));
    let path = dir.join(&file_name);
    let written = backup::write_backup(db, &path).await;
    let opened = match written {
        Ok(size) => tokio::fs::File::open(&path).await.map(|file| (file, size)),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e.into());
        }
    };
    // The open file stays readable after its name is gone.
    let _ = std::fs::remove_dir_all(&dir);
    let (file, size) =
        opened.map_err(|e| ServiceError::Refused(format!("读取备份文件失败：{e}")))?;
    Ok(BackupDownload {
        file_name,
        file,
        size,
    })
}

#[rocket::get("/requirements")]
async fn requirements(_admin: AdminUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let rows = attendance::requirements(db)
        .await?
        .iter()
        .map(|r| RequirementRow {
            id: r.id,
            category: r.category.label_zh(),
            kind: requirement_kind_label(&r.session_kind),
            min_sessions: r.min_sessions,
            min_hours: r.min_hours,
        })
        .collect();
    let page = RequirementsPage {
        rows,
        categories: Category::options(),
        kinds: requirement_kind_options(),
        township_name: report::township_name(db).await?,
    };
    Ok(chrome.render("settings/requirements", page))
}

#[rocket::post("/requirements", data = "<form>")]
async fn save(
    admin: AdminUser,
    form: CsrfForm<RequirementForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let form = form.0;
    let input = RequirementInput {
        category: form.category,
        session_kind: form.session_kind,
        min_sessions: form.min_sessions,
        min_hours: form.min_hours,
    };
    let to = Redirect::to("/settings/requirements");
    match attendance::save_requirement(db, &admin.0.actor, &input).await {
        Ok(()) => Ok(Flash::success(to, "已保存学法要求。")),
        Err(ServiceError::Invalid(errors)) => Ok(Flash::error(
            to,
            errors.values().cloned().collect::<Vec<_>>().join("；"),
        )),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/requirements/<id>/delete", data = "<_form>")]
async fn delete(
    admin: AdminUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    attendance::delete_requirement(db, &admin.0.actor, id).await?;
    Ok(Flash::success(
        Redirect::to("/settings/requirements"),
        "已删除该要求。",
    ))
}

#[rocket::post("/township", data = "<form>")]
async fn save_township(
    admin: AdminUser,
    form: CsrfForm<TownshipForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let to = Redirect::to("/settings/requirements");
    match report::set_township_name(db, &admin.0.actor, &form.0.name).await {
        Ok(()) => Ok(Flash::success(to, "已保存乡镇名称。")),
        Err(ServiceError::Invalid(errors)) => Ok(Flash::error(
            to,
            errors.into_values().collect::<Vec<_>>().join("；"),
        )),
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> Vec<Route> {
    rocket::routes![requirements, save, delete, save_township, download_backup]
}
