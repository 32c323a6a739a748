//! /materials: the catalogue with its stock, stock receipts, and the 库存不足 list.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::AppResult;
use super::forms::{ActionForm, MaterialForm, ReceiptForm};
use super::guards::{CatalogueUser, CurrentUser};
use super::period::{chosen_year, period_of, today, year_choices};
use super::render::Chrome;
use super::views::ConfirmPage;
use crate::domain::labels::CodeLabel;
use crate::domain::material::{MaterialInput, MaterialKind, ReceiptInput, UNITS};
use crate::domain::person::FieldErrors;
use crate::services::materials::{self, MaterialStock, Receipt};
use crate::services::{Actor, Db, ServiceError};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[derive(Serialize)]
struct StockView<'a> {
    id: i64,
    title: &'a str,
    kind: &'static str,
    unit: &'a str,
    notes: &'a str,
    received_total: i64,
    distributed_total: i64,
    received_in_period: i64,
    distributed_in_period: i64,
    on_hand: i64,
    short: bool,
    missing: i64,
}

fn stock_view(m: &MaterialStock) -> StockView<'_> {
    StockView {
        id: m.id,
        title: &m.title,
        kind: m.kind.label_zh(),
        unit: &m.unit,
        notes: &m.notes,
        received_total: m.received_total,
        distributed_total: m.distributed_total,
        received_in_period: m.received_in_period,
        distributed_in_period: m.distributed_in_period,
        on_hand: m.on_hand(),
        short: m.is_short(),
        missing: (-m.on_hand()).max(0),
    }
}

#[derive(Serialize)]
struct StockTotals {
    received: i64,
    distributed: i64,
    on_hand: i64,
}

#[derive(Serialize)]
struct ListPage<'a> {
    materials: Vec<StockView<'a>>,
    short: Vec<StockView<'a>>,
    year: i32,
    years: Vec<i32>,
    totals: StockTotals,
    can_manage: bool,
}

fn list_page<'a>(
    stock: &'a [MaterialStock],
    short: Vec<&'a MaterialStock>,
    year: i32,
    actor: &Actor,
) -> ListPage<'a> {
    ListPage {
        materials: stock.iter().map(stock_view).collect(),
        short: short.into_iter().map(stock_view).collect(),
        year,
        years: year_choices(),
        totals: StockTotals {
            received: stock.iter().map(|m| m.received_in_period).sum(),
            distributed: stock.iter().map(|m| m.distributed_in_period).sum(),
            on_hand: stock.iter().map(MaterialStock::on_hand).sum(),
        },
        can_manage: actor.may_manage_catalogue(),
    }
}

#[rocket::get("/?<year>")]
async fn list(
    me: CurrentUser,
    year: Option<i32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let stock = materials::list_materials(db, &me.actor, period_of(year, None)).await?;
    let short = materials::short_for_actor(db, &me.actor, &stock).await?;
    Ok(chrome.render("materials/list", list_page(&stock, short, year, &me.actor)))
}

#[rocket::get("/export.xlsx?<year>")]
async fn export(me: CurrentUser, year: Option<i32>, db: &State<Db>) -> AppResult<XlsxDownload> {
    let year = chosen_year(year);
    let (file_name, bytes) =
        materials::export_stock(db, &me.actor, year, period_of(year, None)).await?;
    Ok(XlsxDownload { file_name, bytes })
}

/// A stock receipt's fields: the submitted text, or today's empty receipt.
#[derive(Serialize)]
struct ReceiptValues {
    received_on: String,
    quantity: String,
    source: String,
    notes: String,
}

#[derive(Serialize)]
struct DetailPage<'a> {
    material: StockView<'a>,
    receipts: &'a [Receipt],
    year: i32,
    values: ReceiptValues,
    errors: &'a FieldErrors,
    can_manage: bool,
}

/// The material page with its receipts and the receipt form.
async fn detail_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    id: i64,
    year: i32,
    values: ReceiptValues,
    errors: &FieldErrors,
) -> AppResult<Template> {
    let period = period_of(year, None);
    let (material, receipts) = materials::get_material_with_receipts(db, actor, id, period).await?;
    let page = DetailPage {
        material: stock_view(&material),
        receipts: &receipts,
        year,
        values,
        errors,
        can_manage: actor.may_manage_catalogue(),
    };
    Ok(chrome.render("materials/detail", page))
}

#[rocket::get("/<id>?<year>")]
async fn detail(
    me: CurrentUser,
    id: i64,
    year: Option<i32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let values = ReceiptValues {
        received_on: today().to_string(),
        quantity: String::new(),
        source: String::new(),
        notes: String::new(),
    };
    let (year, errors) = (chosen_year(year), FieldErrors::new());
    detail_page(db, &me.actor, &chrome, id, year, values, &errors).await
}

/// What the catalogue form's fields show.
#[derive(Serialize)]
struct FormValues {
    title: String,
    kind: String,
    unit: String,
    notes: String,
}

impl FormValues {
    fn new() -> Self {
        FormValues {
            title: String::new(),
            kind: "booklet".into(),
            unit: "份".into(),
            notes: String::new(),
        }
    }

    fn submitted(form: &MaterialForm) -> Self {
        FormValues {
            title: form.title.clone(),
            kind: form.kind.clone(),
            unit: form.unit.clone(),
            notes: form.notes.clone(),
        }
    }

    fn saved(m: &MaterialStock) -> Self {
        FormValues {
            title: m.title.clone(),
            kind: m.kind.code().into(),
            unit: m.unit.clone(),
            notes: m.notes.clone(),
        }
    }
}

#[derive(Serialize)]
struct FormPage<'a> {
    material_id: Option<i64>,
    values: FormValues,
    errors: &'a FieldErrors,
    kinds: Vec<CodeLabel>,
    units: &'static [&'static str],
}

fn form_page(
    chrome: &Chrome,
    material_id: Option<i64>,
    values: FormValues,
    errors: &FieldErrors,
) -> Template {
    let page = FormPage {
        material_id,
        values,
        errors,
        kinds: MaterialKind::options(),
        units: UNITS,
    };
    chrome.render("materials/form", page)
}

fn input_of(form: &MaterialForm) -> MaterialInput {
    MaterialInput {
        title: form.title.clone(),
        kind: form.kind.clone(),
        unit: form.unit.clone(),
        notes: form.notes.clone(),
    }
}

#[rocket::get("/new")]
fn new_form(_user: CatalogueUser, chrome: Chrome) -> Template {
    form_page(&chrome, None, FormValues::new(), &FieldErrors::new())
}

#[rocket::post("/", data = "<form>")]
async fn create(
    user: CatalogueUser,
    form: CsrfForm<MaterialForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    match materials::create_material(db, &user.0.actor, &input_of(&form)).await {
        Ok(id) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/materials/{id}")),
            format!("已添加资料“{}”。", form.title.trim()),
        ))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(form_page(
            &chrome,
            None,
            FormValues::submitted(&form),
            &errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    user: CatalogueUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let period = period_of(chosen_year(None), None);
    let m = materials::get_material(db, &user.0.actor, id, period).await?;
    let values = FormValues::saved(&m);
    Ok(form_page(&chrome, Some(id), values, &FieldErrors::new()))
}

#[rocket::post("/<id>", data = "<form>")]
async fn update(
    user: CatalogueUser,
    id: i64,
    form: CsrfForm<MaterialForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    match materials::update_material(db, &user.0.actor, id, &input_of(&form)).await {
        Ok(()) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/materials/{id}")),
            "已保存。",
        ))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(form_page(
            &chrome,
            Some(id),
            FormValues::submitted(&form),
            &errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/delete")]
async fn delete_confirm(
    user: CatalogueUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let period = period_of(chosen_year(None), None);
    let m = materials::get_material(db, &user.0.actor, id, period).await?;
    let page = ConfirmPage {
        title: format!("删除资料“{}”？", m.title),
        message: "资料及其入库记录将一并删除，无法恢复。已有发放记录的资料不能删除。".into(),
        items: Vec::new(),
        action: format!("/materials/{id}/delete"),
        cancel: format!("/materials/{id}"),
    };
    Ok(chrome.render("confirm", page))
}

#[rocket::post("/<id>/delete", data = "<_form>")]
async fn delete(
    user: CatalogueUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    match materials::delete_material(db, &user.0.actor, id).await {
        Ok(()) => Ok(Flash::success(Redirect::to("/materials"), "已删除。")),
        Err(ServiceError::Refused(message)) => Ok(Flash::error(
            Redirect::to(format!("/materials/{id}")),
            message,
        )),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/<id>/receipts", data = "<form>")]
async fn add_receipt(
    user: CatalogueUser,
    id: i64,
    form: CsrfForm<ReceiptForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let input = ReceiptInput {
        received_on: form.received_on.clone(),
        quantity: form.quantity.clone(),
        source: form.source.clone(),
        notes: form.notes.clone(),
    };
    let actor = &user.0.actor;
    match materials::record_receipt(db, actor, id, &input).await {
        Ok(_) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/materials/{id}")),
            "已登记入库。",
        ))),
        Err(ServiceError::Invalid(errors)) => {
            let values = ReceiptValues {
                received_on: form.received_on,
                quantity: form.quantity,
                source: form.source,
                notes: form.notes,
            };
            let year = chosen_year(None);
            Ok(Either::Left(
                detail_page(db, actor, &chrome, id, year, values, &errors).await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/receipts/<id>/delete", data = "<_form>")]
async fn delete_receipt(
    user: CatalogueUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let receipt = materials::delete_receipt(db, &user.0.actor, id).await?;
    Ok(Flash::success(
        Redirect::to(format!("/materials/{}", receipt.material_id)),
        "已删除该入库记录。",
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
        delete,
        add_receipt,
        delete_receipt
    ]
}
