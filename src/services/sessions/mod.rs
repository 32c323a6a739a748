//! Scheduling law-study sessions: single sessions and series, conflicts, invitees.
//! Clerks manage their own village's sessions; township-level ones they only read.

mod feed;
mod pages;

pub use feed::{feed_sessions, has_feed_token, hash_stored_feed_tokens, rotate_feed_token};
pub use pages::{invite_choices, overview, InviteChoices, SessionOverview, VillageChoice};

use crate::services::cache::by_data_version;
use chrono::NaiveDateTime;
use serde::Serialize;

use super::{invalid_if_any, Actor, ServiceError, ServiceResult};
use crate::domain::person::FieldErrors;
use crate::domain::schedule::{RecurrenceInput, SessionDraft, SessionInput};
use crate::domain::session::SessionStatus;
use crate::domain::Category;
use crate::domain::VillageScope;
use crate::store::sessions;
use crate::store::{villages, Db};

pub use crate::store::audit::AuditRecord;
/// The people the session pages offer (walk-ins, invitees).
pub use crate::store::people::Person;
pub use crate::store::sessions::{Session, SessionFilter};

pub const PAGE_SIZE: i64 = 100;

/// A clerk sees their village's sessions and the township-level ones.
pub fn can_see_session(actor: &Actor, village_id: Option<i64>) -> bool {
    village_id.is_none() || actor.can_see_village(village_id)
}

/// Scheduling, editing and taking attendance: township-level sessions are organizer and
/// admin work; a clerk manages their own village's.
pub fn can_manage_session(actor: &Actor, village_id: Option<i64>) -> bool {
    actor.role.can_edit_records() && actor.can_see_village(village_id)
}

pub fn scoped_sessions(actor: &Actor, mut filter: SessionFilter) -> SessionFilter {
    if let Some(own) = actor.confined_village() {
        filter.village = VillageScope::Village(own);
        filter.include_township = true;
    }
    filter
}

#[derive(Debug, Clone)]
pub struct SessionPage {
    pub rows: Vec<Session>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

pub async fn list_sessions(
    db: &Db,
    actor: &Actor,
    filter: SessionFilter,
    page: i64,
) -> ServiceResult<SessionPage> {
    let filter = scoped_sessions(actor, filter);
    let key = format!("sessions:{filter:?}:{page}");
    by_data_version(db, key, || session_page(db, filter, page)).await
}

async fn session_page(db: &Db, filter: SessionFilter, page: i64) -> ServiceResult<SessionPage> {
    let total = sessions::count(db, &filter).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let rows = sessions::list(db, &filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    Ok(SessionPage {
        rows,
        total,
        page,
        pages,
    })
}

pub async fn get_session(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Session> {
    let session = sessions::get(db, id).await?.ok_or(ServiceError::NotFound)?;
    if !can_see_session(actor, session.village_id) {
        return Err(ServiceError::NotFound);
    }
    Ok(session)
}

/// A session the actor may change (edit, cancel, invite to): visible and manageable.
pub async fn editable_session(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Session> {
    let session = get_session(db, actor, id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    Ok(session)
}

/// Another session that clashes with the one being saved, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Conflict {
    /// The other session, when the actor may see it (another village's is not named).
    pub session_id: Option<i64>,
    pub topic: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub reasons: Vec<String>,
}

/// Sessions at the same time with the same venue, the same speaker, or shared invitees.
pub async fn conflicts_for(
    db: &Db,
    actor: &Actor,
    draft: &SessionDraft,
    except: &[i64],
    invitee_ids: &[i64],
) -> ServiceResult<Vec<Conflict>> {
    let mut found = Vec::new();
    for other in sessions::overlapping(db, draft.starts_at, draft.ends_at, except).await? {
        let mut reasons = Vec::new();
        if !draft.venue.is_empty() && other.venue == draft.venue {
            reasons.push(format!("同一地点（{}）", draft.venue));
        }
        if !draft.speaker.is_empty() && other.speaker == draft.speaker {
            reasons.push(format!("同一主讲人（{}）", draft.speaker));
        }
        if !invitee_ids.is_empty() {
            let shared = sessions::shared_invitees(db, &[other.id], invitee_ids).await?;
            if !shared.is_empty() {
                let names: Vec<String> = shared.into_iter().map(|(_, name)| name).take(5).collect();
                reasons.push(format!("参学人员重叠（{}等）", names.join("、")));
            }
        }
        if !reasons.is_empty() {
            // A clerk is told that another village has something then, not what.
            let visible = can_see_session(actor, other.village_id);
            found.push(Conflict {
                session_id: visible.then_some(other.id),
                topic: if visible {
                    other.topic
                } else {
                    "其他村(社区)的一场学法活动".into()
                },
                starts_at: other.starts_at,
                ends_at: other.ends_at,
                reasons,
            });
        }
    }
    Ok(found)
}

/// What saving did: saved (the ids), or stopped to show conflicts the user may override.
pub enum Saved {
    Done(Vec<i64>),
    Conflicts(Vec<Conflict>),
}

async fn validate(db: &Db, actor: &Actor, input: &SessionInput) -> ServiceResult<SessionDraft> {
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
    invalid_if_any(errors)?;
    Ok(draft)
}

/// Schedules one session, or a series when `repeat` says so.
pub async fn schedule(
    db: &Db,
    actor: &Actor,
    input: &SessionInput,
    repeat: &RecurrenceInput,
    save_despite_conflicts: bool,
) -> ServiceResult<Saved> {
    let draft = validate(db, actor, input).await?;
    let recurrence = repeat.parse().map_err(ServiceError::Invalid)?;
    let dates = match &recurrence {
        None => vec![draft.starts_at.date()],
        Some((rule, end)) => {
            let dates = rule.dates(draft.starts_at.date(), *end);
            if dates.is_empty() {
                let mut errors = FieldErrors::new();
                errors.insert(
                    "repeat".into(),
                    "按此规则在截止日期前没有任何一次活动".into(),
                );
                return Err(ServiceError::Invalid(errors));
            }
            dates
        }
    };
    if !save_despite_conflicts {
        let mut all = Vec::new();
        for day in &dates {
            all.extend(conflicts_for(db, actor, &draft.on(*day), &[], &[]).await?);
        }
        if !all.is_empty() {
            return Ok(Saved::Conflicts(all));
        }
    }
    let ids = match &recurrence {
        None => vec![sessions::create(db, &draft, actor.user_id).await?],
        Some((rule, _)) => sessions::create_series(db, &draft, rule, &dates, actor.user_id).await?,
    };
    Ok(Saved::Done(ids))
}

/// Which occurrences an edit, a cancellation or an invitation applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    #[default]
    This,
    ThisAndFollowing,
    /// Every planned meeting of the series, earlier ones too (and this one).
    WholeSeries,
}

impl Scope {
    /// The edit and cancel forms' choice: this one, or this and the following.
    pub fn from_form(value: &str) -> Scope {
        if value == "following" {
            Scope::ThisAndFollowing
        } else {
            Scope::This
        }
    }

    /// The invite form's choice, which can also be the whole series.
    pub fn from_invite_form(value: &str) -> Scope {
        match value {
            "series" => Scope::WholeSeries,
            other => Scope::from_form(other),
        }
    }
}

/// The sessions a scoped change applies to: this one, or it and the later ones of its
/// series that have not been held.
async fn in_scope(
    db: &Db,
    actor: &Actor,
    session: &Session,
    scope: Scope,
) -> ServiceResult<Vec<Session>> {
    let targets = occurrences(db, session, scope).await?;
    // An occurrence moved to another village is not the actor's to change.
    for target in &targets {
        actor.require(can_manage_session(actor, target.village_id))?;
    }
    Ok(targets)
}

async fn occurrences(db: &Db, session: &Session, scope: Scope) -> ServiceResult<Vec<Session>> {
    let from = match (scope, session.series_id) {
        (Scope::ThisAndFollowing, Some(_)) => session.starts_at,
        // From its first meeting (a date every backend stores; no series starts earlier).
        (Scope::WholeSeries, Some(_)) => chrono::NaiveDateTime::default(),
        _ => return Ok(vec![session.clone()]),
    };
    let series_id = session.series_id.unwrap_or_default();
    Ok(sessions::series_from(db, series_id, from)
        .await?
        .into_iter()
        .filter(|s| s.id == session.id || s.status == SessionStatus::Planned)
        .collect())
}

pub async fn update_session(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &SessionInput,
    scope: Scope,
    save_despite_conflicts: bool,
) -> ServiceResult<Saved> {
    let session = get_session(db, actor, id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    let draft = validate(db, actor, input).await?;
    let targets = in_scope(db, actor, &session, scope).await?;
    let day_shift = draft.starts_at.date() - session.starts_at.date();
    let changes: Vec<(Session, SessionDraft)> = targets
        .into_iter()
        .map(|s| {
            // Later occurrences keep their own day (moved by the same number of days).
            let day = s.starts_at.date() + day_shift;
            let new = if s.id == session.id {
                draft.clone()
            } else {
                draft.on(day)
            };
            (s, new)
        })
        .collect();
    if !save_despite_conflicts {
        let except: Vec<i64> = changes.iter().map(|(s, _)| s.id).collect();
        let mut all = Vec::new();
        for (s, new) in &changes {
            let invitees: Vec<i64> = sessions::invitees(db, s.id)
                .await?
                .iter()
                .map(|i| i.person_id)
                .collect();
            all.extend(conflicts_for(db, actor, new, &except, &invitees).await?);
        }
        if !all.is_empty() {
            return Ok(Saved::Conflicts(all));
        }
    }
    sessions::update_many(db, &changes, actor.user_id).await?;
    Ok(Saved::Done(changes.iter().map(|(s, _)| s.id).collect()))
}

/// Cancels the session (or it and the later planned ones of its series); held sessions
/// are never touched. Returns how many were cancelled.
pub async fn cancel_session(db: &Db, actor: &Actor, id: i64, scope: Scope) -> ServiceResult<usize> {
    let session = get_session(db, actor, id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    if session.status == SessionStatus::Held {
        return Err(ServiceError::Refused(
            "该学法活动已举行并有考勤记录，不能取消。".into(),
        ));
    }
    let targets: Vec<Session> = in_scope(db, actor, &session, scope)
        .await?
        .into_iter()
        .filter(|s| s.status == SessionStatus::Planned)
        .collect();
    sessions::set_status(db, &targets, SessionStatus::Cancelled, actor.user_id).await?;
    Ok(targets.len())
}

/// Who to invite: by village and category, or one by one.
#[derive(Debug, Clone, Default)]
pub struct InviteSelection {
    pub village_ids: Vec<i64>,
    pub category: Option<Category>,
    pub person_ids: Vec<i64>,
    /// Whether the village/category selection is used (otherwise only `person_ids`).
    pub by_group: bool,
    /// For a meeting of a series: this one, this and the following, or all planned ones.
    pub scope: Scope,
}

pub enum Invited {
    /// People newly on a list (counted once per meeting), and how many meetings.
    Added {
        people: usize,
        sessions: usize,
    },
    Conflicts(Vec<Conflict>),
}

pub async fn invite(
    db: &Db,
    actor: &Actor,
    id: i64,
    selection: &InviteSelection,
    save_despite_conflicts: bool,
) -> ServiceResult<Invited> {
    let session = get_session(db, actor, id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    let mut village_ids = selection.village_ids.clone();
    if let Some(own) = actor.confined_village() {
        if village_ids.iter().any(|v| *v != own) {
            return Err(ServiceError::Forbidden);
        }
        village_ids = vec![own];
    }
    let mut person_ids = Vec::new();
    // A ticked village or a chosen category is the condition; the box is only needed to
    // invite everyone in the registry.
    let by_group =
        selection.by_group || !selection.village_ids.is_empty() || selection.category.is_some();
    if by_group {
        person_ids.extend(sessions::people_matching(db, &village_ids, selection.category).await?);
    }
    for person_id in &selection.person_ids {
        let person = crate::store::people::get(db, *person_id)
            .await?
            .ok_or(ServiceError::NotFound)?;
        if !actor.can_see_village(person.village_id) {
            return Err(ServiceError::NotFound);
        }
        person_ids.push(*person_id);
    }
    person_ids.sort_unstable();
    person_ids.dedup();
    if person_ids.is_empty() {
        return Err(ServiceError::Refused("没有符合所选条件的在册人员。".into()));
    }
    let targets = in_scope(db, actor, &session, selection.scope).await?;
    if !save_despite_conflicts {
        let mut invitee_conflicts: Vec<Conflict> = Vec::new();
        for target in &targets {
            let conflicts =
                conflicts_for(db, actor, &target.draft(), &[target.id], &person_ids).await?;
            invitee_conflicts.extend(
                conflicts
                    .into_iter()
                    .filter(|c| c.reasons.iter().any(|r| r.starts_with("参学人员重叠"))),
            );
        }
        if !invitee_conflicts.is_empty() {
            return Ok(Invited::Conflicts(invitee_conflicts));
        }
    }
    let session_ids: Vec<i64> = targets.iter().map(|t| t.id).collect();
    Ok(Invited::Added {
        people: sessions::add_invitees(db, &session_ids, &person_ids, actor.user_id).await?,
        sessions: session_ids.len(),
    })
}

pub async fn uninvite(db: &Db, actor: &Actor, id: i64, person_id: i64) -> ServiceResult<()> {
    let session = get_session(db, actor, id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    Ok(sessions::remove_invitee(db, id, person_id, actor.user_id).await?)
}

/// How many of the actor's sessions ended without attendance being taken (for the
/// organizer's reminder); none for those who cannot take attendance.
pub async fn overdue_count(
    db: &Db,
    actor: &Actor,
    now: chrono::NaiveDateTime,
) -> ServiceResult<i64> {
    if !actor.role.can_edit_records() {
        return Ok(0);
    }
    Ok(crate::store::sessions::overdue(db, actor.scope, now).await?)
}
