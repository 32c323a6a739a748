//! /activities: outreach events (普法活动) with 法律七进 place and audience groups.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::choices::{default_village, material_choices, selectable_villages};
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActionForm, MaterialLineFields, OutreachForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_month, chosen_year, period_of, query_string, today, year_choices};
use super::render::Chrome;
use super::subtotals::{code_label, month_label, subtotal_views};
use crate::domain::activity::{
    ActivityForm, ActivityInput, AudienceGroup, MaterialLineInput, Place,
};
use crate::domain::person::FieldErrors;
use crate::services::activities::{self, scoped_activities, ActivityDetail};
use crate::services::materials::can_edit_in;
use crate::services::{Actor, ServiceError};
use crate::sheets::table::{table_workbook, Cell, Table};
use crate::store::activities::{self as store, ActivityDimension, ActivityFilter, ActivityRow};
use crate::store::Db;

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

    fn echo(&self) -> Value {
        let f = self.filter();
        json!({
            "year": chosen_year(self.year),
            "month": chosen_month(self.month),
            "village": f.village_id,
            "form": f.form.map(ActivityForm::code).unwrap_or_default(),
            "place": f.place.map(Place::code).unwrap_or_default(),
            "group": f.group.map(AudienceGroup::code).unwrap_or_default(),
        })
    }
}

fn group_labels(row: &ActivityRow) -> Vec<&'static str> {
    row.groups()
        .into_iter()
        .map(AudienceGroup::label_zh)
        .collect()
}

fn row_view(row: &ActivityRow, actor: &Actor) -> Value {
    json!({
        "id": row.id,
        "held_on": row.held_on.to_string(),
        "village_name": row.village_name.as_deref().unwrap_or("镇级"),
        "topic": row.topic,
        "form": row.form.label_zh(),
        "place": row.place().map(Place::label_zh),
        "groups": group_labels(row),
        "audience_count": row.audience_count,
        "speaker": row.speaker,
        "venue": row.venue,
        "notes": row.notes,
        "materials_quantity": row.materials_quantity,
        "can_edit": can_edit_in(actor, row.village_id),
    })
}

#[rocket::get("/?<query..>")]
async fn list(
    me: CurrentUser,
    query: ListQuery<'_>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &me.actor;
    let filter = scoped_activities(actor, query.filter());
    let page =
        activities::list_activities(db, actor, filter.clone(), query.page.unwrap_or(1)).await?;
    let by = |d| store::subtotals(db, &filter, d);
    Ok(chrome.render(
        "activities/list",
        json!({
            "rows": page.rows.iter().map(|r| row_view(r, actor)).collect::<Vec<_>>(),
            "totals": page.totals,
            "page": page.page,
            "pages": page.pages,
            "by_village": subtotal_views(&by(ActivityDimension::Village).await?, "镇级", str::to_string),
            "by_month": subtotal_views(&by(ActivityDimension::Month).await?, "未填", month_label),
            "by_form": subtotal_views(&by(ActivityDimension::Form).await?, "未填", |c| code_label(c, ActivityForm::from_code, ActivityForm::label_zh)),
            "by_place": subtotal_views(&by(ActivityDimension::Place).await?, "未填", |c| code_label(c, Place::from_code, Place::label_zh)),
            "by_group": subtotal_views(&by(ActivityDimension::AudienceGroup).await?, "未填", |c| code_label(c, AudienceGroup::from_code, AudienceGroup::label_zh)),
            "filter": query.echo(),
            "qs": query_string(&query.echo()),
            "years": year_choices(),
            "villages": selectable_villages(db, actor).await?,
            "forms": ActivityForm::options(),
            "places": Place::options(),
            "groups": AudienceGroup::options(),
            "confined": !actor.role.sees_all_villages(),
            "can_edit": actor.role.can_edit_records(),
        }),
    ))
}

#[rocket::get("/export.xlsx?<query..>")]
async fn export(me: CurrentUser, query: ListQuery<'_>, db: &State<Db>) -> AppResult<XlsxDownload> {
    let filter = scoped_activities(&me.actor, query.filter());
    let rows = store::list(db, &filter, i64::MAX, 0).await?;
    let totals = store::totals(db, &filter).await?;
    let materials_total: i64 = rows.iter().map(|r| r.materials_quantity).sum();
    let table = Table {
        sheet_name: "普法活动".into(),
        headers: vec![
            "活动日期",
            "村(社区)",
            "活动主题",
            "活动形式",
            "法律七进",
            "受众对象",
            "参与人数",
            "主讲人",
            "地点",
            "发放资料(份)",
            "备注",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.held_on.into(),
                    r.village_name
                        .clone()
                        .unwrap_or_else(|| "镇级".into())
                        .into(),
                    r.topic.as_str().into(),
                    r.form.label_zh().into(),
                    r.place().map(Place::label_zh).unwrap_or_default().into(),
                    group_labels(r).join("、").into(),
                    r.audience_count.into(),
                    r.speaker.as_str().into(),
                    r.venue.as_str().into(),
                    r.materials_quantity.into(),
                    r.notes.as_str().into(),
                ]
            })
            .collect(),
        totals: Some(vec![
            "合计".into(),
            format!("{}场", totals.rows).into(),
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            Cell::Empty,
            totals.quantity.into(),
            Cell::Empty,
            Cell::Empty,
            materials_total.into(),
        ]),
    };
    let year = filter.period.from.format("%Y");
    Ok(XlsxDownload {
        file_name: format!("普法活动台账_{year}.xlsx"),
        bytes: table_workbook(&table)?,
    })
}

fn detail_view(detail: &ActivityDetail, actor: &Actor) -> Value {
    let distributions: Vec<Value> = detail
        .distributions
        .iter()
        .map(|d| json!({ "material_id": d.material_id, "title": d.material_title, "quantity": d.quantity, "unit": d.unit }))
        .collect();
    json!({ "activity": row_view(&detail.activity, actor), "distributions": distributions })
}

#[rocket::get("/<id>")]
async fn detail(me: CurrentUser, id: i64, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let detail = activities::get_activity(db, &me.actor, id).await?;
    Ok(chrome.render("activities/detail", detail_view(&detail, &me.actor)))
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    id: Option<i64>,
    values: Value,
    errors: &FieldErrors,
) -> AppResult<Template> {
    Ok(chrome.render(
        "activities/form",
        json!({
            "activity_id": id,
            "values": values,
            "errors": errors,
            "materials": material_choices(db).await?,
            "villages": selectable_villages(db, actor).await?,
            "township_allowed": actor.role.sees_all_villages(),
            "forms": ActivityForm::options(),
            "places": Place::options(),
            "groups": AudienceGroup::options(),
        }),
    ))
}

fn padded_lines(mut lines: Vec<MaterialLineFields>) -> Vec<MaterialLineFields> {
    while lines.len() < MATERIAL_LINES {
        lines.push(MaterialLineFields::default());
    }
    lines
}

fn values_of(form: &OutreachForm) -> Value {
    let lines: Vec<Value> = padded_lines(form.materials.clone())
        .iter()
        .map(|l| json!({ "material_id": l.material_id, "quantity": l.quantity }))
        .collect();
    json!({
        "held_on": form.held_on, "village_id": form.village_id, "topic": form.topic, "form": form.form,
        "place": form.place, "audience_groups": form.audience_groups, "audience_count": form.audience_count,
        "speaker": form.speaker, "venue": form.venue, "notes": form.notes, "materials": lines,
    })
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
    let lines: Vec<Value> = (0..MATERIAL_LINES)
        .map(|_| json!({ "material_id": "", "quantity": "" }))
        .collect();
    let values = json!({
        "held_on": today().to_string(), "village_id": default_village(actor), "topic": "",
        "form": "lecture", "place": "", "audience_groups": [], "audience_count": "", "speaker": "",
        "venue": "", "notes": "", "materials": lines,
    });
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
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(
            form_page(db, actor, &chrome, None, values_of(&form), &errors).await?,
        )),
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
    let a = &detail.activity;
    let lines = padded_lines(
        detail
            .distributions
            .iter()
            .map(|d| MaterialLineFields {
                material_id: d.material_id.to_string(),
                quantity: d.quantity.to_string(),
            })
            .collect(),
    );
    let lines: Vec<Value> = lines
        .iter()
        .map(|l| json!({ "material_id": l.material_id, "quantity": l.quantity }))
        .collect();
    let values = json!({
        "held_on": a.held_on.to_string(),
        "village_id": a.village_id.map(|v| v.to_string()).unwrap_or_default(),
        "topic": a.topic, "form": a.form.code(), "place": a.place.clone().unwrap_or_default(),
        "audience_groups": a.groups().iter().map(|g| g.code()).collect::<Vec<_>>(),
        "audience_count": a.audience_count.to_string(), "speaker": a.speaker, "venue": a.venue,
        "notes": a.notes, "materials": lines,
    });
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
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(
            form_page(db, actor, &chrome, Some(id), values_of(&form), &errors).await?,
        )),
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
    let actor = &editor.0.actor;
    let detail = activities::get_activity(db, actor, id).await?;
    if !can_edit_in(actor, detail.activity.village_id) {
        return Err(AppError(ServiceError::Forbidden));
    }
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
    Ok(chrome.render(
        "confirm",
        json!({
            "title": format!("删除活动“{}”？", detail.activity.topic),
            "message": message,
            "items": items,
            "action": format!("/activities/{id}/delete"),
            "cancel": format!("/activities/{id}"),
        }),
    ))
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
