//! The material catalogue, stock receipts and distributions. Everybody logged in reads the
//! catalogue; organizers and admins keep it; clerks record distributions for their village.

use super::{invalid_if_any, ledgers, Actor, ServiceError, ServiceResult};
use crate::domain::dates::Period;
use crate::domain::material::{
    DistributionDraft, DistributionInput, MaterialDraft, MaterialInput, ReceiptInput,
};
use crate::domain::person::FieldErrors;
use crate::domain::VillageScope;
use crate::store::distributions;
use crate::store::materials;
use crate::store::{activities, villages, Db, StoreError, Subtotal};

pub use crate::store::distributions::{DistributionDimension, DistributionFilter, DistributionRow};
pub use crate::store::materials::{MaterialStock, Receipt};

/// The catalogue with each material's stock; everybody logged in reads it.
pub async fn list_materials(
    db: &Db,
    _actor: &Actor,
    period: Period,
) -> ServiceResult<Vec<MaterialStock>> {
    Ok(materials::list_with_stock(db, period).await?)
}

/// The materials of `stock` to warn this actor about as 库存不足: all of them for the
/// township; for a clerk only those their village handed out (the others are not theirs
/// to act on).
pub async fn short_for_actor<'a>(
    db: &Db,
    actor: &Actor,
    stock: &'a [MaterialStock],
) -> ServiceResult<Vec<&'a MaterialStock>> {
    let short = stock.iter().filter(|m| m.is_short());
    Ok(match actor.confined_village() {
        Some(own) => {
            let handed_out = distributions::material_ids_of_village(db, own).await?;
            short.filter(|m| handed_out.contains(&m.id)).collect()
        }
        None => short.collect(),
    })
}

/// The stock list of a year (`period`) as a workbook: file name and bytes.
pub async fn export_stock(
    db: &Db,
    actor: &Actor,
    year: i32,
    period: Period,
) -> ServiceResult<(String, Vec<u8>)> {
    let stock = list_materials(db, actor, period).await?;
    let bytes = ledgers::workbook(&ledgers::stock_table(year, &stock))?;
    Ok((format!("普法资料库存_{year}.xlsx"), bytes))
}

pub async fn get_material(
    db: &Db,
    _actor: &Actor,
    id: i64,
    period: Period,
) -> ServiceResult<MaterialStock> {
    materials::get_with_stock(db, id, period)
        .await?
        .ok_or(ServiceError::NotFound)
}

fn draft_of(material: &MaterialStock) -> MaterialDraft {
    MaterialDraft {
        title: material.title.clone(),
        kind: material.kind,
        unit: material.unit.clone(),
        notes: material.notes.clone(),
    }
}

async fn parse_material(
    db: &Db,
    input: &MaterialInput,
    editing: Option<i64>,
) -> ServiceResult<MaterialDraft> {
    let draft = input.parse().map_err(ServiceError::Invalid)?;
    if let Some(other) = materials::find_by_title(db, &draft.title).await? {
        if Some(other) != editing {
            return Err(title_taken());
        }
    }
    Ok(draft)
}

fn title_taken() -> ServiceError {
    let mut errors = FieldErrors::new();
    errors.insert("title".into(), "已有同名的资料".into());
    ServiceError::Invalid(errors)
}

/// A unique-index violation from a race becomes the same field message.
fn unique_title(e: StoreError) -> ServiceError {
    if e.is_unique_violation() {
        title_taken()
    } else {
        e.into()
    }
}

pub async fn create_material(db: &Db, actor: &Actor, input: &MaterialInput) -> ServiceResult<i64> {
    actor.require(actor.role.can_manage_catalogue())?;
    let draft = parse_material(db, input, None).await?;
    materials::create(db, &draft, actor.user_id)
        .await
        .map_err(unique_title)
}

pub async fn update_material(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &MaterialInput,
) -> ServiceResult<()> {
    actor.require(actor.role.can_manage_catalogue())?;
    let before = get_material(db, actor, id, Period::everything()).await?;
    let draft = parse_material(db, input, Some(id)).await?;
    materials::update(db, id, &draft_of(&before), &draft, actor.user_id)
        .await
        .map_err(unique_title)
}

pub async fn delete_material(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.require(actor.role.can_manage_catalogue())?;
    let before = get_material(db, actor, id, Period::everything()).await?;
    if materials::has_distributions(db, id).await? {
        return Err(ServiceError::Refused(format!(
            "“{}”已有发放记录，不能删除。",
            before.title
        )));
    }
    Ok(materials::delete(db, id, &draft_of(&before), actor.user_id).await?)
}

/// A material with its stock in `period` and all its receipts (the material page).
pub async fn get_material_with_receipts(
    db: &Db,
    actor: &Actor,
    id: i64,
    period: Period,
) -> ServiceResult<(MaterialStock, Vec<Receipt>)> {
    let material = get_material(db, actor, id, period).await?;
    let receipts = receipts(db, actor, id).await?;
    Ok((material, receipts))
}

pub async fn receipts(db: &Db, _actor: &Actor, material_id: i64) -> ServiceResult<Vec<Receipt>> {
    Ok(materials::receipts(db, material_id).await?)
}

pub async fn record_receipt(
    db: &Db,
    actor: &Actor,
    material_id: i64,
    input: &ReceiptInput,
) -> ServiceResult<i64> {
    actor.require(actor.role.can_manage_catalogue())?;
    let draft = input.parse().map_err(ServiceError::Invalid)?;
    if !materials::exists(db, material_id).await? {
        return Err(ServiceError::NotFound);
    }
    Ok(materials::create_receipt(db, material_id, &draft, actor.user_id).await?)
}

pub async fn delete_receipt(db: &Db, actor: &Actor, receipt_id: i64) -> ServiceResult<Receipt> {
    actor.require(actor.role.can_manage_catalogue())?;
    let receipt = materials::get_receipt(db, receipt_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    materials::delete_receipt(db, &receipt, actor.user_id).await?;
    Ok(receipt)
}

pub const PAGE_SIZE: i64 = 100;

/// One page of the list, with the totals and subtotals of the whole filtered list.
pub struct DistributionPage {
    pub rows: Vec<DistributionRow>,
    pub totals: Subtotal,
    pub page: i64,
    pub pages: i64,
    pub by_village: Vec<Subtotal>,
    pub by_month: Vec<Subtotal>,
    pub by_kind: Vec<Subtotal>,
    /// Materials handed out beyond their recorded stock (库存不足).
    pub short_material_ids: Vec<i64>,
}

/// The filter as this actor may use it: a clerk always sees their own village only.
pub fn scoped_distributions(actor: &Actor, mut filter: DistributionFilter) -> DistributionFilter {
    if let Some(own) = actor.confined_village() {
        filter.village = VillageScope::Village(own);
    }
    filter
}

pub async fn list_distributions(
    db: &Db,
    actor: &Actor,
    filter: DistributionFilter,
    page: i64,
) -> ServiceResult<DistributionPage> {
    let filter = scoped_distributions(actor, filter);
    let totals = distributions::totals(db, &filter).await?;
    let pages = ((totals.rows + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = distributions::list(db, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let by = |d| distributions::subtotals(db, &filter, d);
    Ok(DistributionPage {
        rows,
        totals,
        page,
        pages,
        by_village: by(DistributionDimension::Village).await?,
        by_month: by(DistributionDimension::Month).await?,
        by_kind: by(DistributionDimension::MaterialKind).await?,
        short_material_ids: distributions::short_material_ids(db).await?,
    })
}

/// The filtered list as the 资料发放 ledger workbook: file name and bytes.
pub async fn export_distributions(
    db: &Db,
    actor: &Actor,
    filter: DistributionFilter,
) -> ServiceResult<(String, Vec<u8>)> {
    let filter = scoped_distributions(actor, filter);
    let rows = distributions::list_all(db, &filter).await?;
    let year = filter.period.from.format("%Y");
    let bytes = ledgers::workbook(&ledgers::distributions_table(&rows))?;
    Ok((format!("普法资料发放_{year}.xlsx"), bytes))
}

pub async fn get_distribution(db: &Db, actor: &Actor, id: i64) -> ServiceResult<DistributionRow> {
    let row = distributions::get(db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !actor.can_see_village(row.village_id) {
        return Err(ServiceError::NotFound);
    }
    Ok(row)
}

/// Whether the actor may change a record of this village (and so sees its edit buttons).
pub fn can_edit_in(actor: &Actor, village_id: Option<i64>) -> bool {
    actor.role.can_edit_records() && actor.can_see_village(village_id)
}

/// Whether the actor may edit or delete this distribution on its own; one recorded with an
/// activity is changed through that activity.
pub fn can_change_distribution(actor: &Actor, row: &DistributionRow) -> bool {
    can_edit_in(actor, row.village_id) && row.activity_id.is_none()
}

async fn validate_distribution(
    db: &Db,
    actor: &Actor,
    input: &DistributionInput,
) -> ServiceResult<DistributionDraft> {
    actor.require(actor.role.can_edit_records())?;
    // A clerk's form cannot name another village, nor the township.
    if !actor.can_see_village(input.village_id) {
        return Err(ServiceError::Forbidden);
    }
    let draft = input.parse().map_err(ServiceError::Invalid)?;
    let mut errors = FieldErrors::new();
    if !materials::exists(db, draft.material_id).await? {
        errors.insert("material_id".into(), "所选资料不存在".into());
    }
    if let Some(village_id) = draft.village_id {
        if villages::get(db, village_id).await?.is_none() {
            errors.insert("village_id".into(), super::UNKNOWN_VILLAGE.into());
        }
    }
    if let Some(activity_id) = draft.activity_id {
        match activities::get(db, activity_id).await? {
            Some(activity) if actor.can_see_village(activity.village_id) => {}
            _ => {
                errors.insert("activity_id".into(), "所选普法活动不存在".into());
            }
        }
    }
    if let Some(session_id) = draft.session_id {
        if !crate::store::sessions::exists_visible(db, session_id, actor.scope).await? {
            errors.insert("session_id".into(), "所选学法活动不存在".into());
        }
    }
    invalid_if_any(errors)?;
    Ok(draft)
}

pub async fn create_distribution(
    db: &Db,
    actor: &Actor,
    input: &DistributionInput,
) -> ServiceResult<i64> {
    let draft = validate_distribution(db, actor, input).await?;
    Ok(distributions::create(db, &draft, actor.user_id).await?)
}

pub async fn update_distribution(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &DistributionInput,
) -> ServiceResult<()> {
    let before = get_distribution(db, actor, id).await?;
    actor.require(can_edit_in(actor, before.village_id))?;
    let draft = validate_distribution(db, actor, input).await?;
    Ok(distributions::update(db, &before, &draft, actor.user_id).await?)
}

/// Deletes a handout recorded on its own; returns what was deleted.
pub async fn delete_distribution(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> ServiceResult<DistributionRow> {
    let before = get_distribution(db, actor, id).await?;
    actor.require(can_edit_in(actor, before.village_id))?;
    if before.activity_id.is_some() {
        return Err(ServiceError::Refused(
            "这条发放记录随普法活动登记，请在该活动中修改或删除。".into(),
        ));
    }
    distributions::delete(db, &before, actor.user_id).await?;
    Ok(before)
}

/// The stock left after handing out, when it went below zero: the shortfall to show.
pub async fn shortfall_of(db: &Db, actor: &Actor, material_id: i64) -> ServiceResult<Option<i64>> {
    let any_period = Period::everything();
    let material = get_material(db, actor, material_id, any_period).await?;
    Ok(material.is_short().then(|| -material.on_hand()))
}
