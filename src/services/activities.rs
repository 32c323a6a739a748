//! Outreach activities. Clerks record and edit their own village's; the material lines of
//! an activity become linked distributions.

use chrono::NaiveDate;
use serde_json::json;

use super::cache::by_data_version;
use super::ledgers;
use super::materials::can_edit_in;
use super::{invalid_if_any, Actor, ServiceError, ServiceResult};
use crate::domain::activity::{ActivityDraft, ActivityInput};
use crate::domain::person::FieldErrors;
use crate::domain::VillageScope;
use crate::store::activities;
use crate::store::distributions::{self, DistributionRow};
use crate::store::{materials, villages, Db, Subtotal};

pub use crate::store::activities::{ActivityDimension, ActivityFilter, ActivityRow};

pub const PAGE_SIZE: i64 = 100;

/// One page of the list, with the totals and subtotals of the whole filtered list.
#[derive(Debug, Clone)]
pub struct ActivityPage {
    pub rows: Vec<ActivityRow>,
    pub totals: Subtotal,
    pub page: i64,
    pub pages: i64,
    pub by_village: Vec<Subtotal>,
    pub by_month: Vec<Subtotal>,
    pub by_form: Vec<Subtotal>,
    pub by_place: Vec<Subtotal>,
    pub by_group: Vec<Subtotal>,
}

pub fn scoped_activities(actor: &Actor, mut filter: ActivityFilter) -> ActivityFilter {
    if let Some(own) = actor.confined_village() {
        filter.village = VillageScope::Village(own);
    }
    filter
}

pub async fn list_activities(
    db: &Db,
    actor: &Actor,
    filter: ActivityFilter,
    page: i64,
) -> ServiceResult<ActivityPage> {
    let filter = scoped_activities(actor, filter);
    let key = format!("activities:{filter:?}:{page}");
    by_data_version(db, key, || activity_page(db, filter, page)).await
}

async fn activity_page(db: &Db, filter: ActivityFilter, page: i64) -> ServiceResult<ActivityPage> {
    let totals = activities::totals(db, &filter).await?;
    let pages = ((totals.rows + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = activities::list(db, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let by = |d| activities::subtotals(db, &filter, d);
    Ok(ActivityPage {
        rows,
        totals,
        page,
        pages,
        by_village: by(ActivityDimension::Village).await?,
        by_month: by(ActivityDimension::Month).await?,
        by_form: by(ActivityDimension::Form).await?,
        by_place: by(ActivityDimension::Place).await?,
        by_group: by(ActivityDimension::AudienceGroup).await?,
    })
}

/// The filtered list as the 普法活动 ledger workbook: file name and bytes.
pub async fn export_activities(
    db: &Db,
    actor: &Actor,
    filter: ActivityFilter,
) -> ServiceResult<(String, Vec<u8>)> {
    let filter = scoped_activities(actor, filter);
    let rows = activities::list_all(db, &filter).await?;
    let year = filter.period.from.format("%Y");
    let bytes = ledgers::workbook(&ledgers::activities_table(&rows))?;
    Ok((format!("普法活动台账_{year}.xlsx"), bytes))
}

/// Recent activities the actor may link a distribution to: id, date, topic.
pub async fn activity_choices(
    db: &Db,
    actor: &Actor,
) -> ServiceResult<Vec<(i64, NaiveDate, String)>> {
    Ok(activities::choices(db, actor.scope, 200).await?)
}

/// An activity with the distributions it created.
pub struct ActivityDetail {
    pub activity: ActivityRow,
    pub distributions: Vec<DistributionRow>,
}

impl ActivityDetail {
    /// What the audit log keeps of it.
    pub fn for_audit(&self) -> serde_json::Value {
        let a = &self.activity;
        json!({
            "held_on": a.held_on,
            "village_id": a.village_id,
            "topic": a.topic,
            "form": a.form.code(),
            "place": a.place,
            "audience_groups": a.groups().iter().map(|g| g.code()).collect::<Vec<_>>(),
            "audience_count": a.audience_count,
            "speaker": a.speaker,
            "venue": a.venue,
            "notes": a.notes,
            "materials": self.distributions.iter()
                .map(|d| json!({ "distribution_id": d.id, "material_id": d.material_id, "quantity": d.quantity }))
                .collect::<Vec<_>>(),
        })
    }
}

pub async fn get_activity(db: &Db, actor: &Actor, id: i64) -> ServiceResult<ActivityDetail> {
    let activity = activities::get(db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !actor.can_see_village(activity.village_id) {
        return Err(ServiceError::NotFound);
    }
    let distributions = distributions::for_activity(db, id).await?;
    Ok(ActivityDetail {
        activity,
        distributions,
    })
}

async fn validate(db: &Db, actor: &Actor, input: &ActivityInput) -> ServiceResult<ActivityDraft> {
    actor.require(actor.role.can_edit_records())?;
    if !actor.can_see_village(input.village_id) {
        return Err(ServiceError::Forbidden);
    }
    let draft = input.parse().map_err(ServiceError::Invalid)?;
    let mut errors = FieldErrors::new();
    if let Some(village_id) = draft.village_id {
        if villages::get(db, village_id).await?.is_none() {
            errors.insert("village_id".into(), super::UNKNOWN_VILLAGE.into());
        }
    }
    for (index, line) in draft.materials.iter().enumerate() {
        if !materials::exists(db, line.material_id).await? {
            errors.insert(format!("materials.{index}"), "所选资料不存在".into());
        }
    }
    invalid_if_any(errors)?;
    Ok(draft)
}

pub async fn create_activity(db: &Db, actor: &Actor, input: &ActivityInput) -> ServiceResult<i64> {
    let draft = validate(db, actor, input).await?;
    Ok(activities::create(db, &draft, actor.user_id).await?)
}

pub async fn update_activity(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &ActivityInput,
) -> ServiceResult<()> {
    let before = get_activity(db, actor, id).await?;
    actor.require(can_edit_in(actor, before.activity.village_id))?;
    let draft = validate(db, actor, input).await?;
    Ok(activities::update(db, id, &before.for_audit(), &draft, actor.user_id).await?)
}

/// The activity about to be deleted, when the actor may delete it (for the confirmation).
pub async fn activity_to_delete(db: &Db, actor: &Actor, id: i64) -> ServiceResult<ActivityDetail> {
    let detail = get_activity(db, actor, id).await?;
    actor.require(can_edit_in(actor, detail.activity.village_id))?;
    Ok(detail)
}

/// Deletes the activity and the distributions it created (the page asked first).
/// Deletes the activity (and its handouts); returns what was deleted.
pub async fn delete_activity(db: &Db, actor: &Actor, id: i64) -> ServiceResult<ActivityDetail> {
    let before = get_activity(db, actor, id).await?;
    actor.require(can_edit_in(actor, before.activity.village_id))?;
    activities::delete(db, id, &before.for_audit(), actor.user_id).await?;
    Ok(before)
}
