//! /villages: everyone reads the list; the admin creates, edits and deletes.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use super::csrf::CsrfForm;
use super::error::AppResult;
use super::forms::{ActionForm, VillageForm};
use super::guards::{AdminUser, CurrentUser};
use super::period::{chosen_year, today, year_choices};
use super::render::Chrome;
use crate::domain::activity::Place;
use crate::domain::category::LEGAL_LITERATE_TARGET;
use crate::domain::VillageKind;
use crate::services::villages::{self, VillageInput};
use crate::services::ServiceError;
use crate::store::Db;

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[rocket::get("/")]
async fn list(_me: CurrentUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let villages = villages::list_villages(db).await?;
    Ok(chrome.render("villages/list", json!({ "villages": villages })))
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
    let sessions: Vec<serde_json::Value> = report
        .sessions
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "date": s.starts_at.format("%Y-%m-%d %H:%M").to_string(),
                "kind": s.kind.label_zh(),
                "topic": s.topic,
                "status": s.status.label_zh(),
                "hours": s.hours_credited,
            })
        })
        .collect();
    let activities: Vec<serde_json::Value> = report
        .activities
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "held_on": a.held_on.to_string(), "topic": a.topic, "form": a.form.label_zh(),
                "place": a.place().map(Place::label_zh), "audience_count": a.audience_count,
            })
        })
        .collect();
    let quiet: Vec<String> = report
        .quiet_months
        .iter()
        .map(|m| format!("{m}月"))
        .collect();
    Ok(chrome.render(
        "villages/detail",
        json!({
            "village": report.village,
            "year": year,
            "years": year_choices(),
            "sessions": sessions,
            "activities": activities,
            "materials": report.materials_received,
            "materials_total": report.materials_received.iter().map(|m| m.quantity).sum::<i64>(),
            "audience_total": report.activities.iter().map(|a| a.audience_count).sum::<i64>(),
            "legal_literates": report.legal_literates,
            "literate_target": LEGAL_LITERATE_TARGET,
            "literate_ok": report.meets_literate_target(),
            "quiet_months": quiet,
        }),
    ))
}

fn form_page(
    chrome: &Chrome,
    action: &str,
    values: serde_json::Value,
    errors: serde_json::Value,
) -> Template {
    chrome.render(
        "villages/form",
        json!({ "action": action, "values": values, "errors": errors, "kinds": VillageKind::options() }),
    )
}

#[rocket::get("/new")]
fn new_form(_admin: AdminUser, chrome: Chrome) -> Template {
    let values = json!({ "name": "", "kind": "village", "code": "", "display_order": "0" });
    form_page(&chrome, "/villages", values, json!({}))
}

fn input_of(form: &VillageForm) -> VillageInput {
    VillageInput {
        name: form.name.clone(),
        kind: form.kind.clone(),
        code: form.code.clone(),
        display_order: form.display_order.clone(),
    }
}

fn values_of(form: &VillageForm) -> serde_json::Value {
    json!({ "name": form.name, "kind": form.kind, "code": form.code, "display_order": form.display_order })
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
            values_of(&form),
            json!(errors),
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    _admin: AdminUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let village = villages::get_village(db, id).await?;
    let values = json!({
        "name": village.name,
        "kind": village.kind.code(),
        "code": village.code.unwrap_or_default(),
        "display_order": village.display_order.to_string(),
    });
    Ok(form_page(
        &chrome,
        &format!("/villages/{id}"),
        values,
        json!({}),
    ))
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
            values_of(&form),
            json!(errors),
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Asks before deleting.
#[rocket::get("/<id>/delete")]
async fn delete_confirm(
    _admin: AdminUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let village = villages::get_village(db, id).await?;
    Ok(chrome.render("villages/delete", json!({ "village": village })))
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
