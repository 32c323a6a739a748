//! /villages: everyone reads the list; the admin creates, edits and deletes.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::csrf::CsrfForm;
use super::error::AppResult;
use super::forms::{ActionForm, VillageForm};
use super::guards::{AdminUser, CurrentUser};
use super::period::{chosen_year, today, year_choices};
use super::render::Chrome;
use crate::domain::activity::Place;
use crate::domain::category::LEGAL_LITERATE_TARGET;
use crate::domain::labels::CodeLabel;
use crate::domain::person::FieldErrors;
use crate::domain::VillageKind;
use crate::services::villages::{self, Subtotal, Village, VillageInput};
use crate::services::Db;
use crate::services::ServiceError;

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[derive(Serialize)]
struct VillageListPage {
    villages: Vec<Village>,
}

#[rocket::get("/")]
async fn list(me: CurrentUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let view = VillageListPage {
        villages: villages::list_villages(db, &me.actor).await?,
    };
    Ok(chrome.render("villages/list", view))
}

/// A session of the village's year.
#[derive(Serialize)]
struct SessionLine {
    id: i64,
    date: String,
    kind: &'static str,
    topic: String,
    status: &'static str,
    hours: f64,
}

/// An outreach activity of the village's year.
#[derive(Serialize)]
struct ActivityLine {
    id: i64,
    held_on: String,
    topic: String,
    form: &'static str,
    place: Option<&'static str>,
    audience_count: i64,
}

#[derive(Serialize)]
struct VillageDetailPage {
    village: Village,
    year: i32,
    years: Vec<i32>,
    sessions: Vec<SessionLine>,
    activities: Vec<ActivityLine>,
    materials: Vec<Subtotal>,
    materials_total: i64,
    audience_total: i64,
    legal_literates: i64,
    literate_target: i64,
    literate_ok: bool,
    quiet_months: Vec<String>,
}

/// One village's year: sessions, activities, material received, 法律明白人 against the
/// target, and the months without any activity.
#[rocket::get("/<id>?<year>", rank = 2)]
async fn detail(
    me: CurrentUser,
    id: i64,
    year: Option<i32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let report = villages::village_year(db, &me.actor, id, year, today()).await?;
    let view = VillageDetailPage {
        year,
        years: year_choices(),
        sessions: report
            .sessions
            .iter()
            .map(|s| SessionLine {
                id: s.id,
                date: s.starts_at.format("%Y-%m-%d %H:%M").to_string(),
                kind: s.kind.label_zh(),
                topic: s.topic.clone(),
                status: s.status.label_zh(),
                hours: s.hours_credited,
            })
            .collect(),
        activities: report
            .activities
            .iter()
            .map(|a| ActivityLine {
                id: a.id,
                held_on: a.held_on.to_string(),
                topic: a.topic.clone(),
                form: a.form.label_zh(),
                place: a.place().map(Place::label_zh),
                audience_count: a.audience_count,
            })
            .collect(),
        materials_total: report.materials_received.iter().map(|m| m.quantity).sum(),
        audience_total: report.activities.iter().map(|a| a.audience_count).sum(),
        legal_literates: report.legal_literates,
        literate_target: LEGAL_LITERATE_TARGET,
        literate_ok: report.meets_literate_target(),
        quiet_months: report
            .quiet_months
            .iter()
            .map(|m| format!("{m}月"))
            .collect(),
        materials: report.materials_received,
        village: report.village,
    };
    Ok(chrome.render("villages/detail", view))
}

/// What the village form's fields hold.
#[derive(Serialize)]
struct VillageFormValues {
    name: String,
    kind: String,
    code: String,
    display_order: String,
}

impl VillageFormValues {
    fn posted(form: &VillageForm) -> Self {
        VillageFormValues {
            name: form.name.clone(),
            kind: form.kind.clone(),
            code: form.code.clone(),
            display_order: form.display_order.clone(),
        }
    }
}

#[derive(Serialize)]
struct VillageFormPage<'a> {
    action: &'a str,
    values: VillageFormValues,
    errors: FieldErrors,
    kinds: Vec<CodeLabel>,
}

fn form_page(
    chrome: &Chrome,
    action: &str,
    values: VillageFormValues,
    errors: FieldErrors,
) -> Template {
    let view = VillageFormPage {
        action,
        values,
        errors,
        kinds: VillageKind::options(),
    };
    chrome.render("villages/form", view)
}

#[rocket::get("/new")]
fn new_form(_admin: AdminUser, chrome: Chrome) -> Template {
    let values = VillageFormValues {
        name: String::new(),
        kind: VillageKind::Village.code().into(),
        code: String::new(),
        display_order: "0".into(),
    };
    form_page(&chrome, "/villages", values, FieldErrors::new())
}

fn input_of(form: &VillageForm) -> VillageInput {
    VillageInput {
        name: form.name.clone(),
        kind: form.kind.clone(),
        code: form.code.clone(),
        display_order: form.display_order.clone(),
    }
}

#[rocket::post("/", data = "<form>")]
async fn create(
    admin: AdminUser,
    form: CsrfForm<VillageForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    match villages::create_village(db, &admin.0.actor, &input_of(&form)).await {
        Ok(_) => Ok(Either::Right(Flash::success(
            Redirect::to("/villages"),
            format!("已添加“{}”。", form.name.trim()),
        ))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(form_page(
            &chrome,
            "/villages",
            VillageFormValues::posted(&form),
            errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    admin: AdminUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let village = villages::editable_village(db, &admin.0.actor, id).await?;
    let values = VillageFormValues {
        name: village.name,
        kind: village.kind.code().into(),
        code: village.code.unwrap_or_default(),
        display_order: village.display_order.to_string(),
    };
    let action = format!("/villages/{id}");
    Ok(form_page(&chrome, &action, values, FieldErrors::new()))
}

#[rocket::post("/<id>", data = "<form>")]
async fn update(
    admin: AdminUser,
    id: i64,
    form: CsrfForm<VillageForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    match villages::update_village(db, &admin.0.actor, id, &input_of(&form)).await {
        Ok(()) => Ok(Either::Right(Flash::success(
            Redirect::to("/villages"),
            "已保存。",
        ))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(form_page(
            &chrome,
            &format!("/villages/{id}"),
            VillageFormValues::posted(&form),
            errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct VillageDeletePage {
    village: Village,
}

/// Asks before deleting.
#[rocket::get("/<id>/delete")]
async fn delete_confirm(
    admin: AdminUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let view = VillageDeletePage {
        village: villages::editable_village(db, &admin.0.actor, id).await?,
    };
    Ok(chrome.render("villages/delete", view))
}

#[rocket::post("/<id>/delete", data = "<_form>")]
async fn delete(
    admin: AdminUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    match villages::delete_village(db, &admin.0.actor, id).await {
        Ok(()) => Ok(Flash::success(Redirect::to("/villages"), "已删除。")),
        Err(ServiceError::Refused(message)) => Ok(Flash::error(Redirect::to("/villages"), message)),
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        list,
        detail,
        new_form,
        create,
        edit_form,
        update,
        delete_confirm,
        delete
    ]
}
