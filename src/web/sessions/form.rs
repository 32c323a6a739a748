//! The session form: scheduling a session or a series, and editing one occurrence or it
//! and the following ones. Conflicts are shown and may be overridden.

use chrono::{Datelike, NaiveDate};
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::views::{ConflictView, SessionView};
use crate::domain::labels::CodeLabel;
use crate::domain::person::FieldErrors;
use crate::domain::schedule::{RecurrenceInput, SessionInput, WEEKDAY_LABELS};
use crate::domain::session::SessionKind;
use crate::services::sessions::{self, Conflict, Saved, Scope, Session};
use crate::services::villages::Village;
use crate::services::Db;
use crate::services::{Actor, ServiceError};
use crate::web::choices::{default_village, selectable_villages};
use crate::web::csrf::CsrfForm;
use crate::web::error::{AppError, AppResult};
use crate::web::forms::{parse_village_id, SessionForm};
use crate::web::guards::EditorUser;
use crate::web::period::today;
use crate::web::render::Chrome;

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

/// What the form's fields hold: a stored session's values, the defaults for a new one,
/// or what was posted.
#[derive(Serialize, Default)]
struct SessionFormValues {
    kind: String,
    topic: String,
    date: String,
    start_time: String,
    end_time: String,
    venue: String,
    speaker: String,
    organizer: String,
    village_id: String,
    hours_credited: String,
    notes: String,
    repeat: Option<String>,
    weekdays: Vec<String>,
    month_day: Option<String>,
    nth: Option<String>,
    nth_weekday: Option<String>,
    end: Option<String>,
    until: Option<String>,
    count: Option<String>,
    scope: Option<String>,
}

impl SessionFormValues {
    /// A new session on `date`: an hour from nine, organized by the user, not repeated.
    fn defaults(date: NaiveDate, organizer: &str, actor: &Actor) -> Self {
        let text = |s: &str| Some(s.to_string());
        SessionFormValues {
            kind: SessionKind::PreMeeting.code().into(),
            date: date.to_string(),
            start_time: "09:00".into(),
            end_time: "10:00".into(),
            organizer: organizer.into(),
            village_id: default_village(actor),
            repeat: text(""),
            month_day: Some(date.day().to_string()),
            nth: text("1"),
            nth_weekday: text("1"),
            end: text("until"),
            until: Some(
                NaiveDate::from_ymd_opt(date.year(), 12, 31)
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
            count: text("12"),
            ..SessionFormValues::default()
        }
    }

    /// A stored session, for editing this occurrence.
    fn stored(s: &Session) -> Self {
        SessionFormValues {
            kind: s.kind.code().into(),
            topic: s.topic.clone(),
            date: s.starts_at.date().to_string(),
            start_time: s.starts_at.format("%H:%M").to_string(),
            end_time: s.ends_at.format("%H:%M").to_string(),
            venue: s.venue.clone(),
            speaker: s.speaker.clone(),
            organizer: s.organizer.clone(),
            village_id: s.village_id.map(|v| v.to_string()).unwrap_or_default(),
            hours_credited: s.hours_credited.to_string(),
            notes: s.notes.clone(),
            scope: Some("this".into()),
            ..SessionFormValues::default()
        }
    }

    /// What was posted, shown again with the errors or conflicts.
    fn posted(form: &SessionForm) -> Self {
        SessionFormValues {
            kind: form.kind.clone(),
            topic: form.topic.clone(),
            date: form.date.clone(),
            start_time: form.start_time.clone(),
            end_time: form.end_time.clone(),
            venue: form.venue.clone(),
            speaker: form.speaker.clone(),
            organizer: form.organizer.clone(),
            village_id: form.village_id.clone(),
            hours_credited: form.hours_credited.clone(),
            notes: form.notes.clone(),
            repeat: form.repeat.clone(),
            weekdays: form.weekdays.clone(),
            month_day: form.month_day.clone(),
            nth: form.nth.clone(),
            nth_weekday: form.nth_weekday.clone(),
            end: form.end.clone(),
            until: form.until.clone(),
            count: form.count.clone(),
            scope: form.scope.clone(),
        }
    }
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

#[derive(Serialize)]
struct SessionFormPage {
    session: Option<SessionView>,
    values: SessionFormValues,
    errors: FieldErrors,
    conflicts: Vec<ConflictView>,
    villages: Vec<Village>,
    township_allowed: bool,
    kinds: Vec<CodeLabel>,
    weekdays: [&'static str; 7],
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    session: Option<&Session>,
    values: SessionFormValues,
    errors: FieldErrors,
    conflicts: &[Conflict],
) -> AppResult<Template> {
    let view = SessionFormPage {
        session: session.map(|s| SessionView::of(s, actor)),
        values,
        errors,
        conflicts: conflicts.iter().map(ConflictView::on_form).collect(),
        villages: selectable_villages(db, actor).await?,
        township_allowed: actor.role.sees_all_villages(),
        kinds: SessionKind::options(),
        weekdays: WEEKDAY_LABELS,
    };
    Ok(chrome.render("sessions/form", view))
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
    let values = SessionFormValues::defaults(date, &editor.0.user.display_name, actor);
    form_page(db, actor, &chrome, None, values, FieldErrors::new(), &[]).await
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
    let values = SessionFormValues::posted(&form);
    let page = form_page(db, actor, &chrome, None, values, errors, &conflicts).await?;
    Ok(Either::Left(page))
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let s = sessions::editable_session(db, actor, id).await?;
    let values = SessionFormValues::stored(&s);
    form_page(
        db,
        actor,
        &chrome,
        Some(&s),
        values,
        FieldErrors::new(),
        &[],
    )
    .await
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
    let values = SessionFormValues::posted(&form);
    let page = form_page(db, actor, &chrome, Some(&s), values, errors, &conflicts).await?;
    Ok(Either::Left(page))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![new_form, create, edit_form, update]
}
