//! The people registry. A clerk lists, views and edits only people of their own village;
//! anything else looks to them as if it did not exist.

use super::attendance::{study_year, StudyYear};
use super::cache::by_data_version;
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::person::{FieldErrors, PersonDraft, PersonInput};
use crate::domain::VillageScope;
use crate::store::people;
use crate::store::{villages, Db};

pub use crate::store::people::{HeldCategory, Person, PersonFilter, PersonListRow, PersonSnapshot};

pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, Clone)]
pub struct PersonPage {
    pub rows: Vec<PersonListRow>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

pub async fn list_people(
    db: &Db,
    actor: &Actor,
    mut filter: PersonFilter,
    page: i64,
) -> ServiceResult<PersonPage> {
    if let Some(own) = actor.confined_village() {
        filter.village = VillageScope::Village(own);
    }
    let key = format!("people:{filter:?}:{page}");
    by_data_version(db, key, || person_page(db, filter, page)).await
}

async fn person_page(db: &Db, filter: PersonFilter, page: i64) -> ServiceResult<PersonPage> {
    let total = people::count(db, &filter).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = people::list(db, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    Ok(PersonPage {
        rows,
        total,
        page,
        pages,
    })
}

/// A person the actor may see; `NotFound` for anyone else, so that a clerk learns nothing
/// about other villages' people.
pub async fn get_person(db: &Db, actor: &Actor, id: i64) -> ServiceResult<PersonSnapshot> {
    let snapshot = people::snapshot(db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !actor.can_see_village(snapshot.person.village_id) {
        return Err(ServiceError::NotFound);
    }
    Ok(snapshot)
}

/// A person the actor may see, with their study record of `year` (the person page).
pub async fn get_person_with_study(
    db: &Db,
    actor: &Actor,
    id: i64,
    year: i32,
) -> ServiceResult<(PersonSnapshot, StudyYear)> {
    let snapshot = get_person(db, actor, id).await?;
    let study = study_year(db, id, year).await?;
    Ok((snapshot, study))
}

/// Whether the actor may edit this person (and so see the full ID number on the form).
pub fn can_edit_person(actor: &Actor, village_id: Option<i64>) -> bool {
    actor.role.can_edit_records() && actor.can_see_village(village_id)
}

async fn validate(
    db: &Db,
    actor: &Actor,
    input: &PersonInput,
    editing: Option<i64>,
) -> ServiceResult<PersonDraft> {
    actor.require(actor.role.can_edit_records())?;
    // A clerk's form cannot move anybody into, or out of, another village.
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
    if let Some(id_number) = &draft.id_number {
        if let Some(holder) = people::find_by_id_number(db, id_number.as_str()).await? {
            if Some(holder) != editing {
                errors.insert("id_number".into(), "该身份证号已登记在另一人员名下".into());
            }
        }
    }
    super::invalid_if_any(errors)?;
    Ok(draft)
}

pub async fn create_person(db: &Db, actor: &Actor, input: &PersonInput) -> ServiceResult<i64> {
    let draft = validate(db, actor, input, None).await?;
    people::create(db, &draft, actor.user_id)
        .await
        .map_err(id_number_taken)
}

pub async fn update_person(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &PersonInput,
) -> ServiceResult<()> {
    let before = get_person(db, actor, id).await?;
    let draft = validate(db, actor, input, Some(id)).await?;
    people::update(db, &before, &draft, actor.user_id)
        .await
        .map_err(id_number_taken)
}

pub async fn set_person_active(db: &Db, actor: &Actor, id: i64, active: bool) -> ServiceResult<()> {
    let person = get_person(db, actor, id).await?;
    actor.require(can_edit_person(actor, person.person.village_id))?;
    Ok(people::set_active(db, id, active, actor.user_id).await?)
}

/// Two people saved at once with the same ID number: the database's unique index wins.
fn id_number_taken(e: crate::store::StoreError) -> ServiceError {
    if e.is_unique_violation() {
        let mut errors = FieldErrors::new();
        errors.insert("id_number".into(), "该身份证号已登记在另一人员名下".into());
        ServiceError::Invalid(errors)
    } else {
        e.into()
    }
}
