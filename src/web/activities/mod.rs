//! /activities: outreach events (普法活动) with 法律七进 place and audience groups.

use chrono::Datelike;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::{Metadata, Template};

use super::choices::material_choices;
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActionForm, OutreachForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_month, chosen_year, period_of};
use super::render::{context_of, drawn_once, Chrome, DrawnPage};
use crate::domain::activity::{
    ActivityForm, ActivityInput, AudienceGroup, MaterialLineInput, Place,
};
use crate::domain::person::FieldErrors;
use crate::domain::VillageScope;
use crate::services::activities::{self, ActivityFilter};
use crate::services::choices::selectable_villages;
use crate::services::{Actor, Db, ServiceError};

mod views;

use views::{confirm_page, detail_page, list_page, FormPage, FormValues, ListEcho};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[derive(rocket::FromForm, Default)]
struct ListQuery<'r> {
    year: Option<i32>,
    month: Option<u32>,
    village: Option<&'r str>,
    form: Option<&'r str>,
    place: Option<&'r str>,
    group: Option<&'r str>,
    page: Option<i64>,
}

impl ListQuery<'_> {
    fn filter(&self) -> ActivityFilter {
        ActivityFilter {
            period: period_of(chosen_year(self.year), chosen_month(self.month)),
            village: VillageScope::of(self.village.and_then(|v| v.parse().ok())),
            form: self.form.and_then(ActivityForm::from_code),
            place: self.place.and_then(Place::from_code),
            group: self.group.and_then(AudienceGroup::from_code),
        }
    }

    fn echo(&self) -> ListEcho {
        let f = self.filter();
        ListEcho {
            year: chosen_year(self.year),
            month: chosen_month(self.month),
            village: f.village.village(),
            form: f.form.map(ActivityForm::code).unwrap_or_default(),
            place: f.place.map(Place::code).unwrap_or_default(),
            group: f.group.map(AudienceGroup::code).unwrap_or_default(),
        }
    }
}

#[rocket::get("/?<query..>")]
async fn list(
    me: CurrentUser,
    query: ListQuery<'_>,
    db: &State<Db>,
    chrome: Chrome,
    templates: Metadata<'_>,
) -> AppResult<Template> {
    let actor = &me.actor;
    let view = format!("activities-page:{:?}:{:?}", query.filter(), query.page);
    let body = drawn_once(
        db,
        actor,
        view,
        &templates,
        "activities/list_body",
        || async {
            let page =
                activities::list_activities(db, actor, query.filter(), query.page.unwrap_or(1))
                    .await?;
            let villages = selectable_villages(db, actor).await?;
            context_of(list_page(&page, actor, query.echo(), villages))
        },
    )
    .await?;
    Ok(chrome.render("activities/list", DrawnPage { body: &body }))
}

#[rocket::get("/export.xlsx?<query..>")]
async fn export(me: CurrentUser, query: ListQuery<'_>, db: &State<Db>) -> AppResult<XlsxDownload> {
    let (file_name, bytes) = activities::export_activities(db, &me.actor, query.filter()).await?;
    Ok(XlsxDownload { file_name, bytes })
}

#[rocket::get("/<id>")]
async fn detail(me: CurrentUser, id: i64, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let detail = activities::get_activity(db, &me.actor, id).await?;
    Ok(chrome.render("activities/detail", detail_page(&detail, &me.actor)))
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    activity_id: Option<i64>,
    values: FormValues,
    errors: &FieldErrors,
) -> AppResult<Template> {
    let page = FormPage {
        activity_id,
        values,
        errors,
        materials: material_choices(db).await?,
        villages: selectable_villages(db, actor).await?,
        township_allowed: !actor.is_confined(),
        forms: ActivityForm::options(),
        places: Place::options(),
        groups: AudienceGroup::options(),
    };
    Ok(chrome.render("activities/form", page))
}

fn input_of(form: &OutreachForm) -> Result<ActivityInput, AppError> {
    Ok(ActivityInput {
        held_on: form.held_on.clone(),
        village_id: parse_village_id(&form.village_id)?,
        topic: form.topic.clone(),
        form: form.form.clone(),
        place: form.place.clone(),
        audience_groups: form.audience_groups.clone(),
        audience_count: form.audience_count.clone(),
        speaker: form.speaker.clone(),
        venue: form.venue.clone(),
        notes: form.notes.clone(),
        materials: form
            .materials
            .iter()
            .map(|l| MaterialLineInput {
                material_id: l.material_id.clone(),
                quantity: l.quantity.clone(),
            })
            .collect(),
    })
}

#[rocket::get("/new")]
async fn new_form(editor: EditorUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let values = FormValues::new(actor);
    form_page(db, actor, &chrome, None, values, &FieldErrors::new()).await
}

#[rocket::post("/", data = "<form>")]
async fn create(
    editor: EditorUser,
    form: CsrfForm<OutreachForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    match activities::create_activity(db, actor, &input_of(&form)?).await {
        Ok(id) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/activities/{id}")),
            format!("已登记活动“{}”。", form.topic.trim()),
        ))),
        Err(ServiceError::Invalid(errors)) => {
            let values = FormValues::submitted(&form);
            Ok(Either::Left(
                form_page(db, actor, &chrome, None, values, &errors).await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let detail = activities::get_activity(db, actor, id).await?;
    let values = FormValues::saved(&detail);
    form_page(db, actor, &chrome, Some(id), values, &FieldErrors::new()).await
}

#[rocket::post("/<id>", data = "<form>")]
async fn update(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<OutreachForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    match activities::update_activity(db, actor, id, &input_of(&form)?).await {
        Ok(()) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/activities/{id}")),
            "已保存。",
        ))),
        Err(ServiceError::Invalid(errors)) => {
            let values = FormValues::submitted(&form);
            Ok(Either::Left(
                form_page(db, actor, &chrome, Some(id), values, &errors).await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/delete")]
async fn delete_confirm(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let detail = activities::activity_to_delete(db, &editor.0.actor, id).await?;
    Ok(chrome.render("confirm", confirm_page(&detail, id)))
}

#[rocket::post("/<id>/delete", data = "<_form>")]
async fn delete(
    editor: EditorUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let deleted = activities::delete_activity(db, &editor.0.actor, id).await?;
    Ok(Flash::success(
        Redirect::to(format!(
            "/activities?year={}",
            deleted.activity.held_on.year()
        )),
        "已删除该活动及其发放记录。",
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        list,
        export,
        detail,
        new_form,
        create,
        edit_form,
        update,
        delete_confirm,
        delete
    ]
}
