//! /distributions: the material handed out (发放), filtered, totalled and exportable.

use chrono::Datelike;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::choices::{default_village, material_choices, selectable_villages};
use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActionForm, DistributionForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_month, chosen_year, period_of, today, year_choices};
use super::render::Chrome;
use super::subtotals::{code_label, month_label, subtotal_views, SubtotalView};
use super::views::{query_string_of, ConfirmPage};
use crate::domain::labels::CodeLabel;
use crate::domain::material::{DistributionInput, MaterialKind};
use crate::domain::person::FieldErrors;
use crate::domain::VillageScope;
use crate::services::activities::activity_choices;
use crate::services::choices::{MaterialChoice, Village};
use crate::services::materials::{
    self, can_change_distribution, DistributionFilter, DistributionPage, DistributionRow,
};
use crate::services::{Actor, Db, ServiceError, Subtotal};

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
            village: VillageScope::of(self.village.and_then(|v| v.parse().ok())),
            material_kind: self.kind.and_then(MaterialKind::from_code),
            material_id: self.material,
        }
    }

    fn echo(&self) -> ListEcho {
        ListEcho {
            year: chosen_year(self.year),
            month: chosen_month(self.month),
            village: self.village.and_then(|v| v.parse::<i64>().ok()),
            kind: self
                .kind
                .and_then(MaterialKind::from_code)
                .map(MaterialKind::code)
                .unwrap_or_default(),
            material: self.material,
        }
    }
}

/// The list's filter as the page shows it and its links repeat it.
#[derive(Serialize)]
struct ListEcho {
    year: i32,
    month: Option<u32>,
    village: Option<i64>,
    kind: &'static str,
    material: Option<i64>,
}

#[derive(Serialize)]
struct RowView<'a> {
    id: i64,
    material_id: i64,
    material_title: &'a str,
    kind: &'static str,
    unit: &'a str,
    distributed_on: String,
    village_name: &'a str,
    quantity: i64,
    recipients: &'a str,
    place: &'a str,
    handled_by: &'a str,
    activity_id: Option<i64>,
    activity_topic: Option<&'a str>,
    short: bool,
    can_edit: bool,
}

fn row_view<'a>(row: &'a DistributionRow, actor: &Actor, short: &[i64]) -> RowView<'a> {
    RowView {
        id: row.id,
        material_id: row.material_id,
        material_title: &row.material_title,
        kind: row.material_kind.label_zh(),
        unit: &row.unit,
        distributed_on: row.distributed_on.to_string(),
        village_name: row.village_name.as_deref().unwrap_or("镇级"),
        quantity: row.quantity,
        recipients: &row.recipients,
        place: &row.place,
        handled_by: &row.handled_by,
        activity_id: row.activity_id,
        activity_topic: row.activity_topic.as_deref(),
        short: short.contains(&row.material_id),
        can_edit: can_change_distribution(actor, row),
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
    by_kind: Vec<SubtotalView>,
    qs: String,
    filter: ListEcho,
    years: Vec<i32>,
    villages: Vec<Village>,
    kinds: Vec<CodeLabel>,
    confined: bool,
    can_edit: bool,
}

fn list_page<'a>(
    page: &'a DistributionPage,
    actor: &Actor,
    echo: ListEcho,
    villages: Vec<Village>,
) -> ListPage<'a> {
    let short = &page.short_material_ids;
    ListPage {
        rows: page
            .rows
            .iter()
            .map(|r| row_view(r, actor, short))
            .collect(),
        totals: &page.totals,
        page: page.page,
        pages: page.pages,
        by_village: subtotal_views(&page.by_village, "镇级", str::to_string),
        by_month: subtotal_views(&page.by_month, "镇级", month_label),
        by_kind: subtotal_views(&page.by_kind, "镇级", |c| {
            code_label(c, MaterialKind::from_code, MaterialKind::label_zh)
        }),
        qs: query_string_of(&echo),
        filter: echo,
        years: year_choices(),
        villages,
        kinds: MaterialKind::options(),
        confined: actor.is_confined(),
        can_edit: actor.may_edit_records(),
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
        materials::list_distributions(db, actor, query.filter(), query.page.unwrap_or(1)).await?;
    let villages = selectable_villages(db, actor).await?;
    Ok(chrome.render(
        "distributions/list",
        list_page(&page, actor, query.echo(), villages),
    ))
}

#[rocket::get("/export.xlsx?<query..>")]
async fn export(me: CurrentUser, query: ListQuery<'_>, db: &State<Db>) -> AppResult<XlsxDownload> {
    let (file_name, bytes) = materials::export_distributions(db, &me.actor, query.filter()).await?;
    Ok(XlsxDownload { file_name, bytes })
}

/// An activity a distribution may belong to, in the form's `<select>`.
#[derive(Serialize)]
struct ActivityChoice {
    id: i64,
    label: String,
}

#[derive(Serialize)]
struct FormPage<'a> {
    distribution_id: Option<i64>,
    values: FormValues,
    errors: &'a FieldErrors,
    materials: Vec<MaterialChoice>,
    villages: Vec<Village>,
    township_allowed: bool,
    activities: Vec<ActivityChoice>,
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    distribution_id: Option<i64>,
    values: FormValues,
    errors: &FieldErrors,
) -> AppResult<Template> {
    let activities = activity_choices(db, actor)
        .await?
        .into_iter()
        .map(|(id, on, topic)| ActivityChoice {
            id,
            label: format!("{on} {topic}"),
        })
        .collect();
    let page = FormPage {
        distribution_id,
        values,
        errors,
        materials: material_choices(db).await?,
        villages: selectable_villages(db, actor).await?,
        township_allowed: !actor.is_confined(),
        activities,
    };
    Ok(chrome.render("distributions/form", page))
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

/// What the form's fields show: the submitted text, a saved distribution, or a new one.
#[derive(Serialize)]
struct FormValues {
    material_id: String,
    distributed_on: String,
    village_id: String,
    quantity: String,
    recipients: String,
    place: String,
    handled_by: String,
    session_id: String,
    activity_id: String,
    notes: String,
}

impl FormValues {
    fn new(actor: &Actor, handled_by: &str) -> Self {
        FormValues {
            material_id: String::new(),
            distributed_on: today().to_string(),
            village_id: default_village(actor),
            quantity: String::new(),
            recipients: String::new(),
            place: String::new(),
            handled_by: handled_by.to_string(),
            session_id: String::new(),
            activity_id: String::new(),
            notes: String::new(),
        }
    }

    fn submitted(form: &DistributionForm) -> Self {
        FormValues {
            material_id: form.material_id.clone(),
            distributed_on: form.distributed_on.clone(),
            village_id: form.village_id.clone(),
            quantity: form.quantity.clone(),
            recipients: form.recipients.clone(),
            place: form.place.clone(),
            handled_by: form.handled_by.clone(),
            session_id: form.session_id.clone(),
            activity_id: form.activity_id.clone(),
            notes: form.notes.clone(),
        }
    }

    fn saved(row: &DistributionRow) -> Self {
        let text = |id: Option<i64>| id.map(|v| v.to_string()).unwrap_or_default();
        FormValues {
            material_id: row.material_id.to_string(),
            distributed_on: row.distributed_on.to_string(),
            village_id: text(row.village_id),
            quantity: row.quantity.to_string(),
            recipients: row.recipients.clone(),
            place: row.place.clone(),
            handled_by: row.handled_by.clone(),
            session_id: text(row.session_id),
            activity_id: text(row.activity_id),
            notes: row.notes.clone(),
        }
    }
}

/// After saving: a warning when the material is now handed out beyond recorded stock.
/// Back to the list, on the year of the record just saved (so that it is in view), with
/// a warning when the material is now handed out beyond its recorded stock.
async fn saved(
    db: &Db,
    actor: &Actor,
    form: &DistributionForm,
    message: &str,
) -> AppResult<Flash<Redirect>> {
    let year = crate::domain::dates::parse_cn_date(&form.distributed_on)
        .map(|d| chrono::Datelike::year(&d))
        .ok();
    let to = Redirect::to(match year {
        Some(year) => format!("/distributions?year={year}"),
        None => "/distributions".to_string(),
    });
    // Only organizers and admins record receipts; a clerk is told whom to ask.
    let who = if actor.may_manage_catalogue() {
        "请补录入库"
    } else {
        "请联系镇里的组织者补录入库"
    };
    let material_id = form.material_id.as_str();
    let shortfall = match material_id.trim().parse() {
        Ok(id) => materials::shortfall_of(db, actor, id).await?,
        Err(_) => None,
    };
    Ok(match shortfall {
        Some(missing) => Flash::error(
            to,
            format!(
                "{message}注意：该资料发放已超出登记库存 {missing}，已标记为“库存不足”，{who}。"
            ),
        ),
        None => Flash::success(to, message.to_string()),
    })
}

#[rocket::get("/new")]
async fn new_form(editor: EditorUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let values = FormValues::new(actor, &editor.0.user.display_name);
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
            saved(db, actor, &form, "已登记发放。").await?,
        )),
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
    let row = materials::get_distribution(db, actor, id).await?;
    let values = FormValues::saved(&row);
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
        Ok(()) => Ok(Either::Right(saved(db, actor, &form, "已保存。").await?)),
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
    let row = materials::get_distribution(db, &editor.0.actor, id).await?;
    let page = ConfirmPage {
        title: "删除这条发放记录？".into(),
        message: "删除后无法恢复，该资料的库存和发放合计随之改变。".into(),
        items: vec![format!(
            "{} {} {}{}",
            row.distributed_on, row.material_title, row.quantity, row.unit
        )],
        action: format!("/distributions/{id}/delete"),
        cancel: "/distributions".into(),
    };
    Ok(chrome.render("confirm", page))
}

#[rocket::post("/<id>/delete", data = "<_form>")]
async fn delete(
    editor: EditorUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    match materials::delete_distribution(db, &editor.0.actor, id).await {
        Ok(deleted) => Ok(Flash::success(
            Redirect::to(format!(
                "/distributions?year={}",
                deleted.distributed_on.year()
            )),
            "已删除。",
        )),
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
