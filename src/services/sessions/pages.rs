//! What the session pages show beyond the session itself, with the role and village
//! decisions made here: the overview (grid, history, walk-in choices) and the invite list.

use super::{can_manage_session, editable_session, get_session, AuditRecord, Session};
use crate::domain::VillageScope;
use crate::services::attendance::grid;
use crate::services::people::list_people;
use crate::services::{Actor, ServiceResult};
use crate::store::attendance::GridRow;
use crate::store::people::{self, PersonFilter, PersonListRow};
use crate::store::{audit, sessions, Db};

/// The session page: the facts, the series it belongs to, the attendance grid and, for
/// whoever manages it, the change history and registry people who could walk in.
pub struct SessionOverview {
    pub session: Session,
    /// The series rule in words, when the session is one of a series.
    pub series: Option<String>,
    pub grid: Vec<GridRow>,
    pub can_manage: bool,
    pub history: Vec<AuditRecord>,
    pub walk_in_choices: Vec<PersonListRow>,
}

pub async fn overview(db: &Db, actor: &Actor, id: i64) -> ServiceResult<SessionOverview> {
    let session = get_session(db, actor, id).await?;
    let grid = grid(db, actor, &session).await?;
    let can_manage = can_manage_session(actor, session.village_id);
    let (history, walk_in_choices) = if can_manage {
        (
            audit::for_entity(db, "session", id).await?,
            walk_in_choices(db, actor, &session, &grid).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let series = match session.series_id {
        Some(series_id) => sessions::series_rule(db, series_id)
            .await?
            .map(|r| r.describe()),
        None => None,
    };
    Ok(SessionOverview {
        session,
        series,
        grid,
        can_manage,
        history,
        walk_in_choices,
    })
}

/// Registry people who could be added as walk-ins: the session's village (or, for a
/// township session, everyone the actor sees), not yet on the grid.
async fn walk_in_choices(
    db: &Db,
    actor: &Actor,
    session: &Session,
    grid: &[GridRow],
) -> ServiceResult<Vec<PersonListRow>> {
    let filter = PersonFilter {
        village: VillageScope::of(actor.confined_village().or(session.village_id)),
        active: Some(true),
        ..Default::default()
    };
    Ok(people::list(db, &filter, 1000, 0)
        .await?
        .into_iter()
        .filter(|r| !grid.iter().any(|g| g.person_id == r.person.id))
        .collect())
}

/// The invite page: people of one village (a clerk's own; else the chosen one, else the
/// session's) or of all, whose name contains the searched text, each marked if already
/// invited.
pub struct InviteChoices {
    pub session: Session,
    /// Whose people are listed: a village, the township's own staff (镇机关), or everyone.
    pub scope: VillageScope,
    pub people: Vec<(PersonListRow, bool)>,
    /// More people match than the page lists.
    pub more_people: bool,
}

/// Which village's people the invite page lists.
#[derive(Debug, Clone, Copy)]
pub enum VillageChoice {
    /// The session's village (everyone for a township session).
    SessionDefault,
    All,
    /// People of no village: the township's own staff (镇机关).
    Township,
    One(i64),
}

pub async fn invite_choices(
    db: &Db,
    actor: &Actor,
    id: i64,
    village: VillageChoice,
    name: &str,
) -> ServiceResult<InviteChoices> {
    let session = editable_session(db, actor, id).await?;
    let scope = match (actor.confined_village(), village) {
        (Some(own), _) => VillageScope::Village(own),
        (None, VillageChoice::SessionDefault) => VillageScope::of(session.village_id),
        (None, VillageChoice::All) => VillageScope::Any,
        (None, VillageChoice::Township) => VillageScope::Township,
        (None, VillageChoice::One(v)) => VillageScope::Village(v),
    };
    let filter = PersonFilter {
        village: scope,
        active: Some(true),
        name_contains: (!name.is_empty()).then(|| name.to_string()),
        ..PersonFilter::default()
    };
    let page = list_people(db, actor, filter, 1).await?;
    // On the list already: invited, or with a mark at the session (an import or a walk-in).
    let mut invited: Vec<i64> = sessions::invitees(db, id)
        .await?
        .iter()
        .map(|i| i.person_id)
        .collect();
    invited.extend(
        crate::store::imports::attendance_of(db, id)
            .await?
            .iter()
            .map(|m| m.person_id),
    );
    let more_people = page.total > page.rows.len() as i64;
    let people = page
        .rows
        .into_iter()
        .map(|r| {
            let on_list = invited.contains(&r.person.id);
            (r, on_list)
        })
        .collect();
    Ok(InviteChoices {
        session,
        scope,
        people,
        more_people,
    })
}
