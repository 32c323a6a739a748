//! Taking attendance: the grid, “all present”, walk-ins, the sign-in sheet, QR self
//! check-in (in `checkin`), and what it adds up to per person and against the yearly
//! requirements.

mod checkin;

pub use checkin::{
    checkin_link_token, checkin_paused, checkin_session, checkin_window,
    hash_stored_checkin_tokens, self_checkin, CheckinOutcome, Window, CHECKIN_OPENS_BEFORE_MINUTES,
    SESSION_FAILURE_CAP,
};

use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::Serialize;

use super::sessions::{can_manage_session, get_session};
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::dates::Period;
use crate::domain::numbers::parse_hours;
use crate::domain::person::{FieldErrors, PersonInput};
use crate::domain::self_study::SELF_STUDY_REQUIREMENT;
use crate::domain::session::{AttendanceSource, AttendanceStatus, SessionKind, SessionStatus};
use crate::domain::text::non_empty;
use crate::domain::Category;
use crate::domain::VillageScope;
use crate::sheets::signin::SigninSheet;
use crate::store::attendance::{self, Mark};
use crate::store::sessions::Session;
use crate::store::{people, sessions, Db};

pub use crate::store::attendance::{GridRow, Requirement, Shortfall, StudyLine};

/// The grid an actor sees: a clerk at a township session sees only their village's people.
pub async fn grid(db: &Db, actor: &Actor, session: &Session) -> ServiceResult<Vec<GridRow>> {
    let scope = if session.village_id.is_none() {
        actor.scope
    } else {
        VillageScope::Any
    };
    Ok(attendance::grid(db, session.id, scope).await?)
}

/// One submitted grid line, as text.
#[derive(Debug, Clone, Default)]
pub struct MarkInput {
    pub person_id: String,
    pub status: String,
    pub hours: String,
}

/// Saves the grid in one transaction; one invalid line and nothing is saved.
pub async fn save_grid(
    db: &Db,
    actor: &Actor,
    session_id: i64,
    lines: &[MarkInput],
) -> ServiceResult<usize> {
    let session = get_session(db, actor, session_id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    if session.status == SessionStatus::Cancelled {
        return Err(ServiceError::Refused(
            "该学法活动已取消，不能登记考勤。".into(),
        ));
    }
    let allowed: Vec<i64> = attendance::grid(db, session_id, VillageScope::Any)
        .await?
        .iter()
        .map(|r| r.person_id)
        .collect();
    let mut errors = FieldErrors::new();
    let mut marks = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let Ok(person_id) = line.person_id.trim().parse::<i64>() else {
            errors.insert(format!("rows.{index}"), "人员不存在".into());
            continue;
        };
        if !allowed.contains(&person_id) {
            errors.insert(
                format!("rows.{index}"),
                "该人员不在本次学法活动的名单中".into(),
            );
            continue;
        }
        if line.status.trim().is_empty() {
            continue; // not marked yet
        }
        let Some(status) = AttendanceStatus::from_code(line.status.trim()) else {
            errors.insert(
                format!("rows.{index}"),
                format!("“{}”不是有效的考勤状态", line.status.trim()),
            );
            continue;
        };
        let hours = match non_empty(&line.hours) {
            None if status.attended() => session.hours_credited,
            None => 0.0,
            Some(text) => match parse_hours(&text) {
                Ok(h) if h <= session.hours_credited + 1e-9 || session.hours_credited == 0.0 => h,
                Ok(_) => {
                    errors.insert(
                        format!("rows.{index}"),
                        format!("学时不能超过本次的 {} 学时", session.hours_credited),
                    );
                    continue;
                }
                Err(e) => {
                    errors.insert(format!("rows.{index}"), format!("学时：{e}"));
                    continue;
                }
            },
        };
        let hours = if status.attended() { hours } else { 0.0 };
        marks.push(Mark {
            person_id,
            status,
            hours_credited: hours,
        });
    }
    super::invalid_if_any(errors)?;
    Ok(attendance::save_marks(
        db,
        session_id,
        &marks,
        AttendanceSource::Manual,
        actor.user_id,
    )
    .await?)
}

/// Marks every invitee without a mark as present with the session's hours.
pub async fn all_present(db: &Db, actor: &Actor, session_id: i64) -> ServiceResult<usize> {
    let session = get_session(db, actor, session_id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    let marks: Vec<Mark> = attendance::grid(db, session_id, VillageScope::Any)
        .await?
        .into_iter()
        .filter(|r| r.status.is_none())
        .map(|r| Mark {
            person_id: r.person_id,
            status: AttendanceStatus::Present,
            hours_credited: session.hours_credited,
        })
        .collect();
    Ok(attendance::save_marks(
        db,
        session_id,
        &marks,
        AttendanceSource::Manual,
        actor.user_id,
    )
    .await?)
}

/// A walk-in: someone from the registry, or a new person registered on the spot (in the
/// session's village, or a clerk's own for a township session).
pub async fn walk_in(
    db: &Db,
    actor: &Actor,
    session_id: i64,
    person_id: Option<i64>,
    new_person: Option<PersonInput>,
) -> ServiceResult<i64> {
    let session = get_session(db, actor, session_id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    let person_id = match (person_id, new_person) {
        (Some(id), _) => {
            let person = people::get(db, id).await?.ok_or(ServiceError::NotFound)?;
            if !actor.can_see_village(person.village_id) {
                return Err(ServiceError::NotFound);
            }
            id
        }
        (None, Some(input)) => {
            let input = PersonInput {
                village_id: actor.confined_village().or(session.village_id),
                ..input
            };
            match registered_walk_in(db, &input).await? {
                Some(id) => id,
                None => super::people::create_person(db, actor, &input).await?,
            }
        }
        (None, None) => {
            let mut errors = FieldErrors::new();
            errors.insert(
                "name".into(),
                "请从名册中选择人员，或填写新人员的姓名".into(),
            );
            return Err(ServiceError::Invalid(errors));
        }
    };
    let mark = Mark {
        person_id,
        status: AttendanceStatus::Present,
        hours_credited: session.hours_credited,
    };
    attendance::save_marks(
        db,
        session_id,
        &[mark],
        AttendanceSource::Manual,
        actor.user_id,
    )
    .await?;
    Ok(person_id)
}

/// The registered person a walk-in's name (and phone, when given) names in the village:
/// registering the same walk-in twice must not make two people.
async fn registered_walk_in(db: &Db, input: &PersonInput) -> ServiceResult<Option<i64>> {
    let name = input.name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    let same_name = people::named_in_village(db, input.village_id, name).await?;
    let phone = crate::domain::Phone::parse(input.phone.trim()).ok();
    let matching: Vec<i64> = same_name
        .iter()
        .filter(|p| match &phone {
            Some(phone) => p.phone.as_deref() == Some(phone.as_str()),
            None => true,
        })
        .map(|p| p.id)
        .collect();
    // Without a phone only an unambiguous name is the same person.
    Ok(match matching.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

pub async fn reopen_checkin(
    db: &Db,
    actor: &Actor,
    session_id: i64,
    now_local: NaiveDateTime,
) -> ServiceResult<NaiveDateTime> {
    let session = get_session(db, actor, session_id).await?;
    actor.require(can_manage_session(actor, session.village_id))?;
    let until = now_local + Duration::minutes(30);
    sessions::reopen_checkin(db, session_id, until, actor.user_id).await?;
    // A check-in paused after too many wrong answers starts afresh.
    crate::store::rate_limits::clear(db, &checkin::session_failures_key(session_id)).await?;
    Ok(until)
}

/// A person's year of study: every session, the hours, the attendance rate.
#[derive(Debug, Clone, Serialize)]
pub struct StudyYear {
    pub lines: Vec<StudyLine>,
    pub attended: i64,
    pub expected: i64,
    pub hours: f64,
    /// Attended ÷ expected, as a percentage; `None` when nothing was expected.
    pub rate_percent: Option<f64>,
    /// Self-study of the year (自学), newest first, and its hours.
    pub self_study: Vec<crate::store::self_study::SelfStudyRow>,
    pub self_study_hours: f64,
    /// Session hours and self-study hours together.
    pub total_hours: f64,
}

pub async fn study_year(db: &Db, person_id: i64, year: i32) -> ServiceResult<StudyYear> {
    let period = Period::of(year, None).ok_or(ServiceError::NotFound)?;
    let lines = attendance::study_record(db, person_id, period).await?;
    let attended_line = |l: &&StudyLine| {
        l.status
            .as_deref()
            .and_then(AttendanceStatus::from_code)
            .is_some_and(AttendanceStatus::attended)
    };
    let attended = lines.iter().filter(attended_line).count() as i64;
    let hours = lines
        .iter()
        .filter(attended_line)
        .filter_map(|l| l.hours_credited)
        // Not `sum()`: an empty f64 sum is -0.0, shown as “-0”.
        .fold(0.0, |total, h| total + h);
    let expected = lines.len() as i64;
    let rate_percent =
        (expected > 0).then(|| (attended as f64 * 1000.0 / expected as f64).round() / 10.0);
    let self_study = super::self_study::of_person(db, person_id, period).await?;
    let self_study_hours = self_study.iter().fold(0.0, |total, r| total + r.hours);
    Ok(StudyYear {
        lines,
        attended,
        expected,
        hours,
        rate_percent,
        self_study,
        self_study_hours,
        total_hours: hours + self_study_hours,
    })
}

pub async fn requirements(db: &Db) -> ServiceResult<Vec<Requirement>> {
    Ok(attendance::requirements(db).await?)
}

#[derive(Debug, Clone, Default)]
pub struct RequirementInput {
    pub category: String,
    pub session_kind: String,
    pub min_sessions: String,
    pub min_hours: String,
}

pub async fn save_requirement(
    db: &Db,
    actor: &Actor,
    input: &RequirementInput,
) -> ServiceResult<()> {
    actor.require(actor.role.can_administer())?;
    let mut f = crate::domain::fields::Fields::new();
    let category = f.coded(
        "category",
        "身份类别",
        &input.category,
        Category::from_code,
        Category::from_zh,
    );
    if category.is_none() && !f.errors.contains_key("category") {
        f.error("category", "请选择身份类别");
    }
    let kind = if input.session_kind.trim() == SELF_STUDY_REQUIREMENT {
        SELF_STUDY_REQUIREMENT
    } else {
        f.coded(
            "session_kind",
            "学法类型",
            &input.session_kind,
            SessionKind::from_code,
            SessionKind::from_zh,
        )
        .map(SessionKind::code)
        .unwrap_or("")
    };
    let min_sessions = if non_empty(&input.min_sessions).is_some() {
        f.whole_number("min_sessions", "最少次数", &input.min_sessions, 0)
    } else {
        0
    };
    let min_hours = match non_empty(&input.min_hours) {
        None => 0.0,
        Some(text) => match text.trim().parse::<f64>() {
            Ok(h) if (0.0..=1000.0).contains(&h) => h,
            _ => {
                f.error("min_hours", format!("“{text}”不是有效的学时"));
                0.0
            }
        },
    };
    let Some(category) = category else {
        return Err(ServiceError::Invalid(f.errors));
    };
    f.finish(()).map_err(ServiceError::Invalid)?;
    Ok(
        attendance::save_requirement(db, category, kind, min_sessions, min_hours, actor.user_id)
            .await?,
    )
}

pub async fn delete_requirement(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.require(actor.role.can_administer())?;
    Ok(attendance::delete_requirement(db, id, actor.user_id).await?)
}

/// The requirement page: who is below a requirement, and the requirements themselves.
pub async fn shortfall_report(
    db: &Db,
    actor: &Actor,
    year: i32,
    today: NaiveDate,
    village_id: Option<i64>,
) -> ServiceResult<(Vec<Shortfall>, Vec<Requirement>)> {
    let rows = shortfalls(db, actor, year, today, village_id).await?;
    Ok((rows, requirements(db).await?))
}

/// The printable sign-in sheet: the invitees (a clerk at a township session: their
/// village's only), with the session's facts.
pub async fn signin_sheet(
    db: &Db,
    actor: &Actor,
    id: i64,
) -> ServiceResult<(Session, SigninSheet)> {
    let s = get_session(db, actor, id).await?;
    let only = if s.village_id.is_none() {
        actor.confined_village()
    } else {
        None
    };
    let rows = sessions::invitees(db, id)
        .await?
        .into_iter()
        .filter(|i| only.is_none() || i.village_id == only)
        .map(|i| {
            (
                i.name,
                i.village_name.unwrap_or_else(|| "镇机关".into()),
                i.post,
            )
        })
        .collect();
    let sheet = SigninSheet {
        number: s.number(),
        topic: s.topic.clone(),
        kind: s.kind.label_zh().into(),
        time: format!(
            "{} {}—{}",
            s.starts_at.format("%Y-%m-%d"),
            s.starts_at.format("%H:%M"),
            s.ends_at.format("%H:%M")
        ),
        venue: s.venue.clone(),
        speaker: s.speaker.clone(),
        rows,
    };
    Ok((s, sheet))
}

/// Who is below a requirement for the year so far (a clerk: their village only).
pub async fn shortfalls(
    db: &Db,
    actor: &Actor,
    year: i32,
    today: NaiveDate,
    village_id: Option<i64>,
) -> ServiceResult<Vec<Shortfall>> {
    let period = Period::of(year, None).ok_or(ServiceError::NotFound)?;
    let village = actor.confined_village().or(village_id);
    let as_of = period.last_day().min(today);
    Ok(attendance::shortfalls(db, period, as_of, VillageScope::of(village)).await?)
}
