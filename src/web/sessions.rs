//! /sessions: scheduling law-study sessions — list, calendar month view, single sessions
//! and series, edits of one occurrence or of it and the following ones, cancellation.

use chrono::{Datelike, Duration, NaiveDate};
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::choices::{default_village, selectable_villages};
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ScopeForm, SessionForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_month, chosen_year, period_of, query_string, today, year_choices};
use super::render::Chrome;
use crate::domain::person::FieldErrors;
use crate::domain::schedule::{RecurrenceInput, SessionInput, WEEKDAY_LABELS};
use crate::domain::session::{SessionKind, SessionStatus};
use crate::services::sessions::{self, can_manage_session, Conflict, Saved, Scope};
use crate::services::{Actor, ServiceError};
use crate::store::sessions::{Session, SessionFilter};
use crate::store::{audit, Db};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

pub fn session_view(s: &Session, actor: &Actor) -> Value {
    json!({
        "id": s.id,
        "number": s.number(),
        "series_id": s.series_id,
        "kind": s.kind.label_zh(),
        "kind_code": s.kind.code(),
        "topic": s.topic,
        "date": s.starts_at.date().to_string(),
        "start": s.starts_at.format("%H:%M").to_string(),
        "end": s.ends_at.format("%H:%M").to_string(),
        "venue": s.venue,
        "speaker": s.speaker,
        "organizer": s.organizer,
        "village_id": s.village_id,
        "village_name": s.village_name.as_deref().unwrap_or("镇级"),
        "hours": s.hours_credited,
        "status": s.status.label_zh(),
        "status_code": s.status.code(),
        "notes": s.notes,
        "can_manage": can_manage_session(actor, s.village_id),
    })
}

#[derive(rocket::FromForm, Default)]
struct ListQuery<'r> {
    year: Option<i32>,
    month: Option<u32>,
    village: Option<&'r str>,
    kind: Option<&'r str>,
    status: Option<&'r str>,
    page: Option<i64>,
}

impl ListQuery<'_> {
    fn filter(&self) -> SessionFilter {
        SessionFilter {
            period: period_of(chosen_year(self.year), chosen_month(self.month)),
            village_id: self.village.and_then(|v| v.parse().ok()),
            include_township: false,
            kind: self.kind.and_then(SessionKind::from_code),
            status: self.status.and_then(SessionStatus::from_code),
        }
    }

    fn echo(&self) -> Value {
        let f = self.filter();
        json!({
            "year": chosen_year(self.year),
            "month": chosen_month(self.month),
            "village": f.village_id,
            "kind": f.kind.map(SessionKind::code).unwrap_or_default(),
            "status": f.status.map(SessionStatus::code).unwrap_or_default(),
        })
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
    let page = sessions::list_sessions(db, actor, query.filter(), query.page.unwrap_or(1)).await?;
    let feed_token = crate::store::users::calendar_token(db, me.user.id).await?;
    Ok(chrome.render(
        "sessions/list",
        json!({
            "rows": page.rows.iter().map(|s| session_view(s, actor)).collect::<Vec<_>>(),
            "total": page.total,
            "page": page.page,
            "pages": page.pages,
            "filter": query.echo(),
            "qs": query_string(&query.echo()),
            "years": year_choices(),
            "villages": selectable_villages(db, actor).await?,
            "kinds": SessionKind::options(),
            "statuses": SessionStatus::options(),
            "confined": !actor.role.sees_all_villages(),
            "can_edit": actor.role.can_edit_records(),
            "feed_token": feed_token,
        }),
    ))
}

/// The month as weeks (Monday first) of days with their sessions.
#[rocket::get("/calendar?<year>&<month>")]
async fn calendar(
    me: CurrentUser,
    year: Option<i32>,
    month: Option<u32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let month = chosen_month(month).unwrap_or_else(|| today().month());
    let filter = SessionFilter {
        period: period_of(year, Some(month)),
        village_id: None,
        include_township: false,
        kind: None,
        status: None,
    };
    let rows = sessions::list_sessions(db, &me.actor, filter.clone(), 1)
        .await?
        .rows;
    let first = filter.period.from;
    let start = first - Duration::days(first.weekday().num_days_from_monday() as i64);
    let mut weeks = Vec::new();
    let mut day = start;
    while day < filter.period.to || day.weekday().num_days_from_monday() != 0 {
        let mut week = Vec::new();
        for _ in 0..7 {
            let on_day: Vec<Value> = rows
                .iter()
                .filter(|s| s.starts_at.date() == day)
                .map(|s| {
                    json!({ "id": s.id, "time": s.starts_at.format("%H:%M").to_string(),
                    "topic": s.topic, "kind": s.kind.label_zh(), "status": s.status.code() })
                })
                .collect();
            week.push(json!({ "day": day.day(), "in_month": day.month() == month,
                "today": day == today(), "sessions": on_day }));
            day += Duration::days(1);
        }
        weeks.push(week);
    }
    let (prev_year, prev_month) = if month == 1 {
        (year - 1, 12)
    } else {
        (year, month - 1)
    };
    let (next_year, next_month) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    Ok(chrome.render(
        "sessions/calendar",
        json!({
            "year": year, "month": month, "weeks": weeks, "weekdays": WEEKDAY_LABELS,
            "prev": { "year": prev_year, "month": prev_month },
            "next": { "year": next_year, "month": next_month },
            "can_edit": me.actor.role.can_edit_records(),
        }),
    ))
}

fn input_of(form: &SessionForm) -> Result<SessionInput, AppError> {
    Ok(SessionInput {
        kind: form.kind.clone(),
        topic: form.topic.clone(),
        date: form.date.clone(),
        start_time: form.start_time.clone(),
        end_time: form.end_time.clone(),
        venue: form.venue.clone(),
        speaker: form.speaker.clone(),
        organizer: form.organizer.clone(),
        village_id: parse_village_id(&form.village_id)?,
        hours_credited: form.hours_credited.clone(),
        notes: form.notes.clone(),
    })
}

fn repeat_of(form: &SessionForm) -> RecurrenceInput {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    RecurrenceInput {
        repeat: text(&form.repeat),
        weekdays: form.weekdays.clone(),
        month_day: text(&form.month_day),
        nth: text(&form.nth),
        nth_weekday: text(&form.nth_weekday),
        end: text(&form.end),
        until: text(&form.until),
        count: text(&form.count),
    }
}

fn values_of(form: &SessionForm) -> Value {
    json!({
        "kind": form.kind, "topic": form.topic, "date": form.date, "start_time": form.start_time,
        "end_time": form.end_time, "venue": form.venue, "speaker": form.speaker, "organizer": form.organizer,
        "village_id": form.village_id, "hours_credited": form.hours_credited, "notes": form.notes,
        "repeat": form.repeat, "weekdays": form.weekdays, "month_day": form.month_day, "nth": form.nth,
        "nth_weekday": form.nth_weekday, "end": form.end, "until": form.until, "count": form.count,
        "scope": form.scope,
    })
}

fn conflict_views(conflicts: &[Conflict]) -> Vec<Value> {
    conflicts
        .iter()
        .map(|c| json!({
            "id": c.session_id, "topic": c.topic,
            "when": format!("{}—{}", c.starts_at.format("%Y-%m-%d %H:%M"), c.ends_at.format("%H:%M")),
            "reasons": c.reasons.join("，"),
        }))
        .collect()
}

struct FormPage<'a> {
    session: Option<&'a Session>,
    values: Value,
    errors: &'a FieldErrors,
    conflicts: &'a [Conflict],
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    page: FormPage<'_>,
) -> AppResult<Template> {
    Ok(chrome.render(
        "sessions/form",
        json!({
            "session": page.session.map(|s| session_view(s, actor)),
            "values": page.values,
            "errors": page.errors,
            "conflicts": conflict_views(page.conflicts),
            "villages": selectable_villages(db, actor).await?,
            "township_allowed": actor.role.sees_all_villages(),
            "kinds": SessionKind::options(),
            "weekdays": WEEKDAY_LABELS,
        }),
    ))
}

#[rocket::get("/new?<date>")]
async fn new_form(
    editor: EditorUser,
    date: Option<&str>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let date = date
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .unwrap_or_else(today);
    let values = json!({
        "kind": "pre_meeting", "topic": "", "date": date.to_string(), "start_time": "09:00", "end_time": "10:00",
        "venue": "", "speaker": "", "organizer": editor.0.user.display_name, "village_id": default_village(actor),
        "hours_credited": "", "notes": "", "repeat": "", "weekdays": [], "month_day": date.day().to_string(),
        "nth": "1", "nth_weekday": "1", "end": "until",
        "until": NaiveDate::from_ymd_opt(date.year(), 12, 31).map(|d| d.to_string()).unwrap_or_default(),
        "count": "12",
    });
    let page = FormPage {
        session: None,
        values,
        errors: &FieldErrors::new(),
        conflicts: &[],
    };
    form_page(db, actor, &chrome, page).await
}

#[rocket::post("/", data = "<form>")]
async fn create(
    editor: EditorUser,
    form: CsrfForm<SessionForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    let outcome = sessions::schedule(
        db,
        actor,
        &input_of(&form)?,
        &repeat_of(&form),
        form.confirm,
    )
    .await;
    let (errors, conflicts) = match outcome {
        Ok(Saved::Done(ids)) => {
            let first = ids.first().copied().unwrap_or_default();
            let message = if ids.len() > 1 {
                format!("已安排 {} 次学法活动。", ids.len())
            } else {
                "已安排学法活动。".to_string()
            };
            return Ok(Either::Right(Flash::success(
                Redirect::to(format!("/sessions/{first}")),
                message,
            )));
        }
        Ok(Saved::Conflicts(conflicts)) => (FieldErrors::new(), conflicts),
        Err(ServiceError::Invalid(errors)) => (errors, Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let page = FormPage {
        session: None,
        values: values_of(&form),
        errors: &errors,
        conflicts: &conflicts,
    };
    Ok(Either::Left(form_page(db, actor, &chrome, page).await?))
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let s = sessions::get_session(db, actor, id).await?;
    if !can_manage_session(actor, s.village_id) {
        return Err(AppError(ServiceError::Forbidden));
    }
    let values = json!({
        "kind": s.kind.code(), "topic": s.topic, "date": s.starts_at.date().to_string(),
        "start_time": s.starts_at.format("%H:%M").to_string(), "end_time": s.ends_at.format("%H:%M").to_string(),
        "venue": s.venue, "speaker": s.speaker, "organizer": s.organizer,
        "village_id": s.village_id.map(|v| v.to_string()).unwrap_or_default(),
        "hours_credited": s.hours_credited.to_string(), "notes": s.notes, "scope": "this",
    });
    let page = FormPage {
        session: Some(&s),
        values,
        errors: &FieldErrors::new(),
        conflicts: &[],
    };
    form_page(db, actor, &chrome, page).await
}

#[rocket::post("/<id>", data = "<form>")]
async fn update(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<SessionForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    let scope = Scope::from_form(form.scope.as_deref().unwrap_or("this"));
    let outcome =
        sessions::update_session(db, actor, id, &input_of(&form)?, scope, form.confirm).await;
    let (errors, conflicts) = match outcome {
        Ok(Saved::Done(ids)) => {
            let message = if ids.len() > 1 {
                format!("已修改本次及以后共 {} 次。", ids.len())
            } else {
                "已保存。".into()
            };
            return Ok(Either::Right(Flash::success(
                Redirect::to(format!("/sessions/{id}")),
                message,
            )));
        }
        Ok(Saved::Conflicts(conflicts)) => (FieldErrors::new(), conflicts),
        Err(ServiceError::Invalid(errors)) => (errors, Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let s = sessions::get_session(db, actor, id).await?;
    let page = FormPage {
        session: Some(&s),
        values: values_of(&form),
        errors: &errors,
        conflicts: &conflicts,
    };
    Ok(Either::Left(form_page(db, actor, &chrome, page).await?))
}

#[rocket::get("/<id>/cancel")]
async fn cancel_confirm(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let s = sessions::get_session(db, actor, id).await?;
    if !can_manage_session(actor, s.village_id) {
        return Err(AppError(ServiceError::Forbidden));
    }
    Ok(chrome.render(
        "sessions/cancel",
        json!({ "session": session_view(&s, actor) }),
    ))
}

#[rocket::post("/<id>/cancel", data = "<form>")]
async fn cancel(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<ScopeForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let scope = Scope::from_form(form.0.scope.as_deref().unwrap_or("this"));
    let to = Redirect::to(format!("/sessions/{id}"));
    match sessions::cancel_session(db, &editor.0.actor, id, scope).await {
        Ok(n) => Ok(Flash::success(
            to,
            format!("已取消 {n} 次学法活动（已举行的不受影响）。"),
        )),
        Err(ServiceError::Refused(message)) => Ok(Flash::error(to, message)),
        Err(e) => Err(e.into()),
    }
}

/// The session page: facts, QR check-in, invitees and the attendance grid, history.
#[rocket::get("/<id>")]
async fn detail(
    me: CurrentUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
    base: super::checkin::BaseUrl,
) -> AppResult<Template> {
    let actor = &me.actor;
    let s = sessions::get_session(db, actor, id).await?;
    let grid = crate::services::attendance::grid(db, actor, &s).await?;
    let rows: Vec<Value> = grid
        .iter()
        .map(|r| json!({
            "person_id": r.person_id, "name": r.name, "village_name": r.village_name.as_deref().unwrap_or("镇机关"),
            "post": r.post, "invited": r.invited, "status": r.status.clone().unwrap_or_default(),
            "hours": r.hours_credited.map(|h| h.to_string()).unwrap_or_default(),
            "self_checkin": r.source.as_deref() == Some("self_checkin"),
        }))
        .collect();
    let attended = grid
        .iter()
        .filter(|r| matches!(r.status.as_deref(), Some("present") | Some("late")))
        .count();
    let names: std::collections::HashMap<i64, String> =
        grid.iter().map(|r| (r.person_id, r.name.clone())).collect();
    let history = if can_manage_session(actor, s.village_id) {
        audit::for_entity(db, "session", id).await?
    } else {
        Vec::new()
    };
    let registry = if can_manage_session(actor, s.village_id) {
        walk_in_choices(db, actor, &s, &grid).await?
    } else {
        Vec::new()
    };
    let series = match s.series_id {
        Some(series_id) => crate::store::sessions::series_rule(db, series_id)
            .await?
            .map(|r| r.describe()),
        None => None,
    };
    let checkin_url = format!("{}/checkin/{}", base.0, s.checkin_token);
    let window =
        crate::services::attendance::checkin_window(&s, chrono::Local::now().naive_local());
    Ok(chrome.render(
        "sessions/detail",
        json!({
            "session": session_view(&s, actor),
            "series": series,
            "rows": rows,
            "attended": attended,
            "statuses": crate::domain::session::AttendanceStatus::options(),
            "history": super::history::history_views(&history, &names),
            "checkin_url": checkin_url,
            "checkin_open": window == crate::services::attendance::Window::Open,
            "qr_svg": super::checkin::qr_svg(&checkin_url),
            "registry": registry,
        }),
    ))
}

/// Registry people who could be added as walk-ins: the session's village (or, for a
/// township session, everyone the actor sees), not yet on the grid.
async fn walk_in_choices(
    db: &Db,
    actor: &Actor,
    s: &Session,
    grid: &[crate::store::attendance::GridRow],
) -> AppResult<Vec<Value>> {
    let filter = crate::store::people::PersonFilter {
        village_id: actor.confined_village().or(s.village_id),
        active: Some(true),
        ..Default::default()
    };
    let people = crate::store::people::list(db, &filter, 1000, 0).await?;
    Ok(people
        .iter()
        .filter(|r| !grid.iter().any(|g| g.person_id == r.person.id))
        .map(|r| {
            json!({ "id": r.person.id, "name": r.person.name, "post": r.person.post,
            "village_name": r.person.village_name.as_deref().unwrap_or("镇机关") })
        })
        .collect())
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        list,
        calendar,
        new_form,
        create,
        edit_form,
        update,
        cancel_confirm,
        cancel,
        detail
    ]
}
