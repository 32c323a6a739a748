//! /distributions: the material handed out (发放), filtered, totalled and exportable.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::choices::{default_village, material_choices, selectable_villages};
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActionForm, DistributionForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_month, chosen_year, period_of, query_string, today, year_choices};
use super::render::Chrome;
use super::subtotals::{code_label, month_label, subtotal_views};
use crate::domain::material::{DistributionInput, MaterialKind};
use crate::domain::person::FieldErrors;
use crate::services::materials::{self, can_edit_in, scoped_distributions};
use crate::services::{Actor, ServiceError};
use crate::sheets::table::{table_workbook, Cell, Table};
use crate::store::distributions::{
    self as store, DistributionDimension, DistributionFilter, DistributionRow,
};
use crate::store::{activities, Db};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[derive(rocket::FromForm, Default)]
struct ListQuery<'r> {
    year: Option<i32>,
    month: Option<u32>,
    village: Option<&'r str>,
    kind: Option<&'r str>,
    material: Option<i64>,
    page: Option<i64>,
}

impl ListQuery<'_> {
    fn filter(&self) -> DistributionFilter {
        DistributionFilter {
            period: period_of(chosen_year(self.year), chosen_month(self.month)),
            village_id: self.village.and_then(|v| v.parse().ok()),
            material_kind: self.kind.and_then(MaterialKind::from_code),
            material_id: self.material,
        }
    }

    fn echo(&self) -> Value {
        json!({
            "year": chosen_year(self.year),
            "month": chosen_month(self.month),
            "village": self.village.and_then(|v| v.parse::<i64>().ok()),
            "kind": self.kind.and_then(MaterialKind::from_code).map(MaterialKind::code).unwrap_or_default(),
            "material": self.material,
        })
    }
}

fn row_view(row: &DistributionRow, actor: &Actor, short: &[i64]) -> Value {
    json!({
        "id": row.id,
        "material_id": row.material_id,
        "material_title": row.material_title,
        "kind": row.material_kind.label_zh(),
        "unit": row.unit,
        "distributed_on": row.distributed_on.to_string(),
        "village_name": row.village_name.as_deref().unwrap_or("镇级"),
        "quantity": row.quantity,
        "recipients": row.recipients,
        "place": row.place,
        "handled_by": row.handled_by,
        "activity_id": row.activity_id,
        "activity_topic": row.activity_topic,
        "short": short.contains(&row.material_id),
        "can_edit": can_edit_in(actor, row.village_id) && row.activity_id.is_none(),
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
    let filter = scoped_distributions(actor, query.filter());
    let page =
        materials::list_distributions(db, actor, filter.clone(), query.page.unwrap_or(1)).await?;
    let short = store::short_material_ids(db).await?;
    let by = |d| store::subtotals(db, &filter, d);
    Ok(chrome.render(
        "distributions/list",
        json!({
            "rows": page.rows.iter().map(|r| row_view(r, actor, &short)).collect::<Vec<_>>(),
            "totals": page.totals,
            "page": page.page,
            "pages": page.pages,
            "by_village": subtotal_views(&by(DistributionDimension::Village).await?, "镇级", str::to_string),
            "by_month": subtotal_views(&by(DistributionDimension::Month).await?, "镇级", month_label),
            "by_kind": subtotal_views(&by(DistributionDimension::MaterialKind).await?, "镇级", |c| {
                code_label(c, MaterialKind::from_code, MaterialKind::label_zh)
            }),
            "filter": query.echo(),
            "qs": query_string(&query.echo()),
            "years": year_choices(),
            "villages": selectable_villages(db, actor).await?,
            "kinds": MaterialKind::options(),
            "confined": !actor.role.sees_all_villages(),
            "can_edit": actor.role.can_edit_records(),
        }),
    ))
}

#[rocket::get("/export.xlsx?<query..>")]
async fn export(me: CurrentUser, query: ListQuery<'_>, db: &State<Db>) -> AppResult<XlsxDownload> {
    let filter = scoped_distributions(&me.actor, query.filter());
    let rows = store::list(db, &filter, i64::MAX, 0).await?;
    let totals = store::totals(db, &filter).await?;
    let table = Table {
        sheet_name: "资料发放".into(),
        headers: vec![
            "发放日期",
            "村(社区)",
            "资料名称",
            "资料类型",
            "数量",
            "单位",
            "发放对象",
            "发放地点",
            "经办人",
            "关联活动",
            "备注",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.distributed_on.into(),
                    r.village_name
                        .clone()
                        .unwrap_or_else(|| "镇级".into())
                        .into(),
                    r.material_title.as_str().into(),
                    r.material_kind.label_zh().into(),
                    r.quantity.into(),
                    r.unit.as_str().into(),
                    r.recipients.as_str().into(),
                    r.place.as_str().into(),
                    r.handled_by.as_str().into(),
                    r.activity_topic.clone().into(),
                    r.notes.as_str().into(),
                ]
            })
            .collect(),
        totals: Some(vec![
            "合计".into(),
            format!("{}条", totals.rows).into(),
            Cell::Empty,
            Cell::Empty,
            totals.quantity.into(),
        ]),
    };
    let year = filter.period.from.format("%Y");
    Ok(XlsxDownload {
        file_name: format!("普法资料发放_{year}.xlsx"),
        bytes: table_workbook(&table)?,
    })
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    id: Option<i64>,
    values: Value,
    errors: &FieldErrors,
) -> AppResult<Template> {
    let activities: Vec<Value> = activities::choices(db, actor.confined_village(), 200)
        .await?
        .into_iter()
        .map(|(id, on, topic)| json!({ "id": id, "label": format!("{on} {topic}") }))
        .collect();
    Ok(chrome.render(
        "distributions/form",
        json!({
            "distribution_id": id,
            "values": values,
            "errors": errors,
            "materials": material_choices(db).await?,
            "villages": selectable_villages(db, actor).await?,
            "township_allowed": actor.role.sees_all_villages(),
            "activities": activities,
        }),
    ))
}

fn input_of(form: &DistributionForm) -> Result<DistributionInput, AppError> {
    Ok(DistributionInput {
        material_id: form.material_id.clone(),
        distributed_on: form.distributed_on.clone(),
        village_id: parse_village_id(&form.village_id)?,
        quantity: form.quantity.clone(),
        recipients: form.recipients.clone(),
        place: form.place.clone(),
        handled_by: form.handled_by.clone(),
        session_id: form.session_id.clone(),
        activity_id: form.activity_id.clone(),
        notes: form.notes.clone(),
    })
}

fn values_of(form: &DistributionForm) -> Value {
    json!({
        "material_id": form.material_id, "distributed_on": form.distributed_on,
        "village_id": form.village_id, "quantity": form.quantity, "recipients": form.recipients,
        "place": form.place, "handled_by": form.handled_by, "session_id": form.session_id,
        "activity_id": form.activity_id, "notes": form.notes,
    })
}

/// After saving: a warning when the material is now handed out beyond recorded stock.
async fn saved(db: &Db, material_id: &str, message: &str) -> AppResult<Flash<Redirect>> {
    let to = Redirect::to("/distributions");
    let shortfall = match material_id.trim().parse() {
        Ok(id) => materials::shortfall_of(db, id).await?,
        Err(_) => None,
    };
    Ok(match shortfall {
        Some(missing) => Flash::error(
            to,
            format!("{message}注意：该资料发放已超出登记库存 {missing}，已标记为“库存不足”，请补录入库。"),
        ),
        None => Flash::success(to, message.to_string()),
    })
}

#[rocket::get("/new")]
async fn new_form(editor: EditorUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let values = json!({
        "material_id": "", "distributed_on": today().to_string(), "village_id": default_village(actor),
        "quantity": "", "recipients": "", "place": "", "handled_by": editor.0.user.display_name,
        "session_id": "", "activity_id": "", "notes": "",
    });
    form_page(db, actor, &chrome, None, values, &FieldErrors::new()).await
}

#[rocket::post("/", data = "<form>")]
async fn create(
    editor: EditorUser,
    form: CsrfForm<DistributionForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    match materials::create_distribution(db, actor, &input_of(&form)?).await {
        Ok(_) => Ok(Either::Right(
            saved(db, &form.material_id, "已登记发放。").await?,
        )),
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
    let row = materials::get_distribution(db, actor, id).await?;
    let values = json!({
        "material_id": row.material_id.to_string(), "distributed_on": row.distributed_on.to_string(),
        "village_id": row.village_id.map(|v| v.to_string()).unwrap_or_default(),
        "quantity": row.quantity.to_string(), "recipients": row.recipients, "place": row.place,
        "handled_by": row.handled_by,
        "session_id": row.session_id.map(|v| v.to_string()).unwrap_or_default(),
        "activity_id": row.activity_id.map(|v| v.to_string()).unwrap_or_default(),
        "notes": row.notes,
    });
    form_page(db, actor, &chrome, Some(id), values, &FieldErrors::new()).await
}

#[rocket::post("/<id>", data = "<form>")]
async fn update(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<DistributionForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    match materials::update_distribution(db, actor, id, &input_of(&form)?).await {
        Ok(()) => Ok(Either::Right(
            saved(db, &form.material_id, "已保存。").await?,
        )),
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
    let row = materials::get_distribution(db, &editor.0.actor, id).await?;
    Ok(chrome.render(
        "confirm",
        json!({
            "title": "删除这条发放记录？",
            "message": "删除后无法恢复，该资料的库存和发放合计随之改变。",
            "items": [format!("{} {} {}{}", row.distributed_on, row.material_title, row.quantity, row.unit)],
            "action": format!("/distributions/{id}/delete"),
            "cancel": "/distributions",
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
    match materials::delete_distribution(db, &editor.0.actor, id).await {
        Ok(()) => Ok(Flash::success(Redirect::to("/distributions"), "已删除。")),
        Err(ServiceError::Refused(message)) => {
            Ok(Flash::error(Redirect::to("/distributions"), message))
        }
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        list,
        export,
        new_form,
        create,
        edit_form,
        update,
        delete_confirm,
        delete
    ]
}
