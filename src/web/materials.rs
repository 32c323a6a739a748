//! /materials: the catalogue with its stock, stock receipts, and the 库存不足 list.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::csrf::CsrfForm;
use super::download::XlsxDownload;
use super::error::AppResult;
use super::forms::{ActionForm, MaterialForm, ReceiptForm};
use super::guards::{CatalogueUser, CurrentUser};
use super::period::{chosen_year, period_of, today, year_choices};
use super::render::Chrome;
use crate::domain::material::{MaterialInput, MaterialKind, ReceiptInput, UNITS};
use crate::domain::person::FieldErrors;
use crate::services::{materials, ServiceError};
use crate::sheets::table::{table_workbook, Cell, Table};
use crate::store::materials::MaterialStock;
use crate::store::Db;

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

fn stock_view(m: &MaterialStock) -> Value {
    json!({
        "id": m.id, "title": m.title, "kind": m.kind.label_zh(), "unit": m.unit, "notes": m.notes,
        "received_total": m.received_total, "distributed_total": m.distributed_total,
        "received_in_period": m.received_in_period, "distributed_in_period": m.distributed_in_period,
        "on_hand": m.on_hand(), "short": m.is_short(), "missing": (-m.on_hand()).max(0),
    })
}

#[rocket::get("/?<year>")]
async fn list(
    me: CurrentUser,
    year: Option<i32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let stock = materials::list_materials(db, period_of(year, None)).await?;
    let short: Vec<Value> = stock
        .iter()
        .filter(|m| m.is_short())
        .map(stock_view)
        .collect();
    Ok(chrome.render(
        "materials/list",
        json!({
            "materials": stock.iter().map(stock_view).collect::<Vec<_>>(),
            "short": short,
            "year": year,
            "years": year_choices(),
            "totals": {
                "received": stock.iter().map(|m| m.received_in_period).sum::<i64>(),
                "distributed": stock.iter().map(|m| m.distributed_in_period).sum::<i64>(),
                "on_hand": stock.iter().map(MaterialStock::on_hand).sum::<i64>(),
            },
            "can_manage": me.actor.role.can_manage_catalogue(),
        }),
    ))
}

#[rocket::get("/export.xlsx?<year>")]
async fn export(_me: CurrentUser, year: Option<i32>, db: &State<Db>) -> AppResult<XlsxDownload> {
    let year = chosen_year(year);
    let stock = materials::list_materials(db, period_of(year, None)).await?;
    let rows = stock
        .iter()
        .map(|m| {
            vec![
                Cell::from(m.title.as_str()),
                m.kind.label_zh().into(),
                m.unit.as_str().into(),
                m.received_in_period.into(),
                m.distributed_in_period.into(),
                m.on_hand().into(),
                if m.is_short() { "库存不足" } else { "" }.into(),
            ]
        })
        .collect();
    let sum = |f: fn(&MaterialStock) -> i64| Cell::Int(stock.iter().map(f).sum());
    let table = Table {
        sheet_name: format!("{year}年资料库存"),
        headers: vec![
            "资料名称",
            "资料类型",
            "单位",
            "本年入库",
            "本年发放",
            "现有库存",
            "备注",
        ],
        rows,
        totals: Some(vec![
            "合计".into(),
            Cell::Empty,
            Cell::Empty,
            sum(|m| m.received_in_period),
            sum(|m| m.distributed_in_period),
            sum(MaterialStock::on_hand),
            Cell::Empty,
        ]),
    };
    Ok(XlsxDownload {
        file_name: format!("普法资料库存_{year}.xlsx"),
        bytes: table_workbook(&table)?,
    })
}

#[rocket::get("/<id>?<year>")]
async fn detail(
    me: CurrentUser,
    id: i64,
    year: Option<i32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let material = materials::get_material(db, id, period_of(year, None)).await?;
    let receipts = materials::receipts(db, id).await?;
    Ok(chrome.render(
        "materials/detail",
        json!({
            "material": stock_view(&material),
            "receipts": receipts,
            "year": year,
            "today": today().to_string(),
            "values": { "received_on": today().to_string(), "quantity": "", "source": "", "notes": "" },
            "errors": {},
            "can_manage": me.actor.role.can_manage_catalogue(),
        }),
    ))
}

fn form_page(chrome: &Chrome, id: Option<i64>, values: Value, errors: &FieldErrors) -> Template {
    chrome.render(
        "materials/form",
        json!({ "material_id": id, "values": values, "errors": errors,
                "kinds": MaterialKind::options(), "units": UNITS }),
    )
}

fn input_of(form: &MaterialForm) -> MaterialInput {
    MaterialInput {
        title: form.title.clone(),
        kind: form.kind.clone(),
        unit: form.unit.clone(),
        notes: form.notes.clone(),
    }
}

fn values_of(form: &MaterialForm) -> Value {
    json!({ "title": form.title, "kind": form.kind, "unit": form.unit, "notes": form.notes })
}

#[rocket::get("/new")]
fn new_form(_user: CatalogueUser, chrome: Chrome) -> Template {
    let values = json!({ "title": "", "kind": "booklet", "unit": "份", "notes": "" });
    form_page(&chrome, None, values, &FieldErrors::new())
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
            values_of(&form),
            &errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    _user: CatalogueUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let m = materials::get_material(db, id, period_of(chosen_year(None), None)).await?;
    let values =
        json!({ "title": m.title, "kind": m.kind.code(), "unit": m.unit, "notes": m.notes });
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
            values_of(&form),
            &errors,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/delete")]
async fn delete_confirm(
    _user: CatalogueUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let m = materials::get_material(db, id, period_of(chosen_year(None), None)).await?;
    Ok(chrome.render(
        "confirm",
        json!({
            "title": format!("删除资料“{}”？", m.title),
            "message": "资料及其入库记录将一并删除，无法恢复。已有发放记录的资料不能删除。",
            "items": [],
            "action": format!("/materials/{id}/delete"),
            "cancel": format!("/materials/{id}"),
        }),
    ))
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
    match materials::record_receipt(db, &user.0.actor, id, &input).await {
        Ok(_) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/materials/{id}")),
            "已登记入库。",
        ))),
        Err(ServiceError::Invalid(errors)) => {
            let year = chosen_year(None);
            let material = materials::get_material(db, id, period_of(year, None)).await?;
            Ok(Either::Left(chrome.render(
                "materials/detail",
                json!({
                    "material": stock_view(&material),
                    "receipts": materials::receipts(db, id).await?,
                    "year": year,
                    "values": { "received_on": form.received_on, "quantity": form.quantity,
                                 "source": form.source, "notes": form.notes },
                    "errors": errors,
                    "can_manage": true,
                }),
            )))
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
