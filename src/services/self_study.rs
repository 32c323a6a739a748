//! Self-study (自学): organizers record anyone's, clerks their own village's people's;
//! a record is changed or removed by whoever may edit that person.

use super::{Actor, ServiceError, ServiceResult};
use crate::domain::dates::Period;
use crate::domain::self_study::{SelfStudyDraft, SelfStudyInput};
use crate::domain::VillageScope;
use crate::store::audit::{self, AuditEntry};
use crate::store::self_study::{self as store, SelfStudyRecord};

pub use crate::store::self_study::{SelfStudyFilter, SelfStudyRow};
use crate::store::{people, Db};

pub const PAGE_SIZE: i64 = 100;

/// One page of the list with the totals of the whole filtered list.
pub struct SelfStudyPage {
    pub rows: Vec<SelfStudyRow>,
    pub records: i64,
    pub hours: f64,
    pub people: i64,
    pub page: i64,
    pub pages: i64,
}

fn scoped(actor: &Actor, mut filter: SelfStudyFilter) -> SelfStudyFilter {
    if let Some(own) = actor.confined_village() {
        filter.village = VillageScope::Village(own);
    }
    filter
}

pub async fn list_self_study(
    db: &Db,
    actor: &Actor,
    filter: SelfStudyFilter,
    page: i64,
) -> ServiceResult<SelfStudyPage> {
    let filter = scoped(actor, filter);
    let (records, hours, people) = store::totals(db, &filter).await?;
    let pages = ((records + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = store::list(db, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    Ok(SelfStudyPage {
        rows,
        records,
        hours,
        people,
        page,
        pages,
    })
}

/// A person's records of a period (the person page); the caller has checked the person.
pub async fn of_person(
    db: &Db,
    person_id: i64,
    period: Period,
) -> ServiceResult<Vec<SelfStudyRow>> {
    let filter = SelfStudyFilter {
        period,
        village: VillageScope::Any,
        person_id: Some(person_id),
    };
    Ok(store::list(db, &filter, i64::MAX, 0).await?)
}

/// Whether the actor may record, change or remove self-study of a person of this village.
pub fn can_edit_for(actor: &Actor, village_id: Option<i64>) -> bool {
    actor.role.can_edit_records() && actor.can_see_village(village_id)
}

/// People the actor may record self-study for: (id, name, village).
pub async fn people_choices(
    db: &Db,
    actor: &Actor,
) -> ServiceResult<Vec<(i64, String, Option<String>)>> {
    actor.require(actor.role.can_edit_records())?;
    let scope = actor
        .confined_village()
        .map_or(VillageScope::Any, VillageScope::Village);
    Ok(store::people_choices(db, scope).await?)
}

async fn validate(db: &Db, actor: &Actor, input: &SelfStudyInput) -> ServiceResult<SelfStudyDraft> {
    actor.require(actor.role.can_edit_records())?;
    let draft = input.parse().map_err(ServiceError::Invalid)?;
    let person = people::get(db, draft.person_id).await?;
    match person {
        // Someone of another village is, to a clerk, someone who does not exist.
        Some(p) if actor.can_see_village(p.village_id) => Ok(draft),
        _ => {
            let mut errors = crate::domain::person::FieldErrors::new();
            errors.insert("person_id".into(), "所选人员不存在".into());
            Err(ServiceError::Invalid(errors))
        }
    }
}

pub async fn create_self_study(
    db: &Db,
    actor: &Actor,
    input: &SelfStudyInput,
) -> ServiceResult<i64> {
    let draft = validate(db, actor, input).await?;
    let record = SelfStudyRecord::from(&draft);
    let mut tx = db.begin().await?;
    let id = store::insert(&mut tx, &record, None, actor.user_id).await?;
    let entry = AuditEntry::new(actor.user_id, "create", "self_study", id).after(&record);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// A record the actor may see (by its person's village); `NotFound` otherwise.
pub async fn get_self_study(db: &Db, actor: &Actor, id: i64) -> ServiceResult<SelfStudyRow> {
    match store::get(db, id).await? {
        Some(row) if actor.can_see_village(row.village_id) => Ok(row),
        _ => Err(ServiceError::NotFound),
    }
}

/// The record about to be deleted, when the actor may delete it (for the confirmation).
pub async fn self_study_to_delete(db: &Db, actor: &Actor, id: i64) -> ServiceResult<SelfStudyRow> {
    let row = get_self_study(db, actor, id).await?;
    actor.require(can_edit_for(actor, row.village_id))?;
    Ok(row)
}

/// Deletes the record (the page asked first); returns what was deleted.
pub async fn delete_self_study(db: &Db, actor: &Actor, id: i64) -> ServiceResult<SelfStudyRow> {
    let row = self_study_to_delete(db, actor, id).await?;
    let mut tx = db.begin().await?;
    store::delete(&mut tx, id).await?;
    let entry = AuditEntry::new(actor.user_id, "delete", "self_study", id).before(&row);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}
