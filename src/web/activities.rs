//! /activities: outreach events (普法活动) with 法律七进 place and audience groups.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::choices::{default_village, material_choices, selectable_villages};
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActionForm, MaterialLineFields, OutreachForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_month, chosen_year, period_of, today, year_choices};
use super::render::Chrome;
use super::subtotals::{code_label, month_label, subtotal_views, SubtotalView};
use super::views::{query_string_of, ConfirmPage};
use crate::domain::activity::{
    ActivityForm, ActivityInput, AudienceGroup, MaterialLineInput, Place,
};
use crate::domain::labels::CodeLabel;
use crate::domain::person::FieldErrors;
use crate::services::activities::{
    self, ActivityDetail, ActivityFilter, ActivityPage, ActivityRow,
};
use crate::services::choices::{MaterialChoice, Village};
use crate::services::materials::can_edit_in;
use crate::services::{Actor, Db, ServiceError, Subtotal};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

/// Empty material lines offered on the form.
const MATERIAL_LINES: usize = 3;

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
            village_id: self.village.and_then(|v| v.parse().ok()),
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
            village: f.village_id,
            form: f.form.map(ActivityForm::code).unwrap_or_default(),
            place: f.place.map(Place::code).unwrap_or_default(),
            group: f.group.map(AudienceGroup::code).unwrap_or_default(),
        }
    }
}

/// The list's filter as the page shows it and its links repeat it.
#[derive(Serialize)]
struct ListEcho {
    year: i32,
    month: Option<u32>,
    village: Option<i64>,
    form: &'static str,
    place: &'static str,
    group: &'static str,
}

fn group_labels(row: &ActivityRow) -> Vec<&'static str> {
    row.groups()
        .into_iter()
        .map(AudienceGroup::label_zh)
        .collect()
}

/// An activity as the list and the detail page show it.
#[derive(Serialize)]
struct RowView<'a> {
    id: i64,
    held_on: String,
    village_name: &'a str,
    topic: &'a str,
    form: &'static str,
    place: Option<&'static str>,
    groups: Vec<&'static str>,
    audience_count: i64,
    speaker: &'a str,
    venue: &'a str,
    notes: &'a str,
    materials_quantity: i64,
    can_edit: bool,
}

fn row_view<'a>(row: &'a ActivityRow, actor: &Actor) -> RowView<'a> {
    RowView {
        id: row.id,
        held_on: row.held_on.to_string(),
        village_name: row.village_name.as_deref().unwrap_or("镇级"),
        topic: &row.topic,
        form: row.form.label_zh(),
        place: row.place().map(Place::label_zh),
        groups: group_labels(row),
        audience_count: row.audience_count,
        speaker: &row.speaker,
        venue: &row.venue,
        notes: &row.notes,
        materials_quantity: row.materials_quantity,
        can_edit: can_edit_in(actor, row.village_id),
    }
}

#[derive(Serialize)]
struct ListPage<'a> {
    rows: Vec<RowView<'a>>,
    totals: &'a Subtotal,
    page: i64,
    pages: i64,
    by_village: Vec<SubtotalView>,
    by_month: Vec<SubtotalView>,
    by_form: Vec<SubtotalView>,
    by_place: Vec<SubtotalView>,
    by_group: Vec<SubtotalView>,
    qs: String,
    filter: ListEcho,
    years: Vec<i32>,
    villages: Vec<Village>,
    forms: Vec<CodeLabel>,
    places: Vec<CodeLabel>,
    groups: Vec<CodeLabel>,
    confined: bool,
    can_edit: bool,
}

fn list_page<'a>(
    page: &'a ActivityPage,
    actor: &Actor,
    echo: ListEcho,
    villages: Vec<Village>,
) -> ListPage<'a> {
    ListPage {
        rows: page.rows.iter().map(|r| row_view(r, actor)).collect(),
        totals: &page.totals,
        page: page.page,
        pages: page.pages,
        by_village: subtotal_views(&page.by_village, "镇级", str::to_string),
        by_month: subtotal_views(&page.by_month, "未填", month_label),
        by_form: subtotal_views(&page.by_form, "未填", |c| {
            code_label(c, ActivityForm::from_code, ActivityForm::label_zh)
        }),
        by_place: subtotal_views(&page.by_place, "未填", |c| {
            code_label(c, Place::from_code, Place::label_zh)
        }),
        by_group: subtotal_views(&page.by_group, "未填", |c| {
            code_label(c, AudienceGroup::from_code, AudienceGroup::label_zh)
        }),
        qs: query_string_of(&echo),
        filter: echo,
        years: year_choices(),
        villages,
        forms: ActivityForm::options(),
        places: Place::options(),
        groups: AudienceGroup::options(),
        confined: !actor.role.sees_all_villages(),
        can_edit: actor.role.can_edit_records(),
    }
}

#[rocket::get("/?<query..>")]
async fn list(
    me: CurrentUser,
    query: ListQuery<'_>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &me.actor;
    let page =
        activities::list_activities(db, actor, query.filter(), query.page.unwrap_or(1)).await?;
    let villages = selectable_villages(db, actor).await?;
    Ok(chrome.render(
        "activities/list",
        list_page(&page, actor, query.echo(), villages),
    ))
}

#[rocket::get("/export.xlsx?<query..>")]
async fn export(me: CurrentUser, query: ListQuery<'_>, db: &State<Db>) -> AppResult<XlsxDownload> {
    let (file_name, bytes) = activities::export_activities(db, &me.actor, query.filter()).await?;
    Ok(XlsxDownload { file_name, bytes })
}

#[derive(Serialize)]
struct LinkedDistribution<'a> {
    material_id: i64,
    title: &'a str,
    quantity: i64,
    unit: &'a str,
}

#[derive(Serialize)]
struct DetailPage<'a> {
    activity: RowView<'a>,
    distributions: Vec<LinkedDistribution<'a>>,
}

fn detail_page<'a>(detail: &'a ActivityDetail, actor: &Actor) -> DetailPage<'a> {
    DetailPage {
        activity: row_view(&detail.activity, actor),
        distributions: detail
            .distributions
            .iter()
            .map(|d| LinkedDistribution {
                material_id: d.material_id,
                title: &d.material_title,
                quantity: d.quantity,
                unit: &d.unit,
            })
            .collect(),
    }
}

#[rocket::get("/<id>")]
async fn detail(me: CurrentUser, id: i64, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let detail = activities::get_activity(db, &me.actor, id).await?;
    Ok(chrome.render("activities/detail", detail_page(&detail, &me.actor)))
}

/// What the form's fields show: the submitted text, a saved activity, or a new one.
#[derive(Serialize)]
struct FormValues {
    held_on: String,
    village_id: String,
    topic: String,
    form: String,
    place: String,
    audience_groups: Vec<String>,
    audience_count: String,
    speaker: String,
    venue: String,
    notes: String,
    materials: Vec<MaterialLineFields>,
}

impl FormValues {
    fn new(actor: &Actor) -> Self {
        FormValues {
            held_on: today().to_string(),
            village_id: default_village(actor),
            topic: String::new(),
            form: "lecture".into(),
            place: String::new(),
            audience_groups: Vec::new(),
            audience_count: String::new(),
            speaker: String::new(),
            venue: String::new(),
            notes: String::new(),
            materials: padded_lines(Vec::new()),
        }
    }

    fn submitted(form: &OutreachForm) -> Self {
        FormValues {
            held_on: form.held_on.clone(),
            village_id: form.village_id.clone(),
            topic: form.topic.clone(),
            form: form.form.clone(),
            place: form.place.clone(),
            audience_groups: form.audience_groups.clone(),
            audience_count: form.audience_count.clone(),
            speaker: form.speaker.clone(),
            venue: form.venue.clone(),
            notes: form.notes.clone(),
            materials: padded_lines(form.materials.clone()),
        }
    }

    fn saved(detail: &ActivityDetail) -> Self {
        let a = &detail.activity;
        let lines = detail
            .distributions
            .iter()
            .map(|d| MaterialLineFields {
                material_id: d.material_id.to_string(),
                quantity: d.quantity.to_string(),
            })
            .collect();
        FormValues {
            held_on: a.held_on.to_string(),
            village_id: a.village_id.map(|v| v.to_string()).unwrap_or_default(),
            topic: a.topic.clone(),
            form: a.form.code().into(),
            place: a.place.clone().unwrap_or_default(),
            audience_groups: a.groups().iter().map(|g| g.code().to_string()).collect(),
            audience_count: a.audience_count.to_string(),
            speaker: a.speaker.clone(),
            venue: a.venue.clone(),
            notes: a.notes.clone(),
            materials: padded_lines(lines),
        }
    }
}

#[derive(Serialize)]
struct FormPage<'a> {
    activity_id: Option<i64>,
    values: FormValues,
    errors: &'a FieldErrors,
    materials: Vec<MaterialChoice>,
    villages: Vec<Village>,
    township_allowed: bool,
    forms: Vec<CodeLabel>,
    places: Vec<CodeLabel>,
    groups: Vec<CodeLabel>,
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
        township_allowed: actor.role.sees_all_villages(),
        forms: ActivityForm::options(),
        places: Place::options(),
        groups: AudienceGroup::options(),
    };
    Ok(chrome.render("activities/form", page))
}

fn padded_lines(mut lines: Vec<MaterialLineFields>) -> Vec<MaterialLineFields> {
    while lines.len() < MATERIAL_LINES {
        lines.push(MaterialLineFields::default());
    }
    lines
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

fn confirm_page(detail: &ActivityDetail, id: i64) -> ConfirmPage {
    let items: Vec<String> = detail
        .distributions
        .iter()
        .map(|d| format!("随活动发放：{} {}{}", d.material_title, d.quantity, d.unit))
        .collect();
    let message = if items.is_empty() {
        "删除后无法恢复。".to_string()
    } else {
        format!(
            "该活动登记的 {} 条资料发放记录将一并删除，无法恢复：",
            items.len()
        )
    };
    ConfirmPage {
        title: format!("删除活动“{}”？", detail.activity.topic),
        message,
        items,
        action: format!("/activities/{id}/delete"),
        cancel: format!("/activities/{id}"),
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
    activities::delete_activity(db, &editor.0.actor, id).await?;
    Ok(Flash::success(
        Redirect::to("/activities"),
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
