//! /sessions: scheduling law-study sessions — list, calendar month view, single sessions
//! and series, edits of one occurrence or of it and the following ones, cancellation.

mod form;
mod views;

use chrono::{Datelike, Duration};
use rocket::response::{Flash, Redirect};
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::checkin::{qr_svg, BaseUrl};
use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::error::AppResult;
use super::forms::ScopeForm;
use super::guards::{CurrentUser, EditorUser};
use super::history::{history_views, HistoryLine};
use super::period::{chosen_month, chosen_year, period_of, query_string, today, year_choices};
use super::render::Chrome;
use crate::domain::labels::CodeLabel;
use crate::domain::schedule::WEEKDAY_LABELS;
use crate::domain::session::{AttendanceStatus, SessionKind, SessionStatus};
use crate::domain::VillageScope;
use crate::services::attendance::{checkin_window, Window};
use crate::services::sessions::{self, Scope, SessionFilter};
use crate::services::signing::TokenKey;
use crate::services::villages::Village;
use crate::services::Db;
use crate::services::ServiceError;

use views::{CalendarDay, GridLine};
pub use views::{ConflictView, PersonChoice, SessionView};

#[derive(rocket::FromForm, Default)]
struct ListQuery<'r> {
    year: Option<i32>,
    month: Option<u32>,
    village: Option<&'r str>,
    kind: Option<&'r str>,
    status: Option<&'r str>,
    page: Option<i64>,
}

/// The list's filter as the page echoes it (and as the pager's query string).
#[derive(Serialize)]
struct ListEcho {
    year: i32,
    month: Option<u32>,
    village: Option<i64>,
    kind: &'static str,
    status: &'static str,
}

impl ListQuery<'_> {
    fn filter(&self) -> SessionFilter {
        SessionFilter {
            period: period_of(chosen_year(self.year), chosen_month(self.month)),
            village: VillageScope::of(self.village.and_then(|v| v.parse().ok())),
            include_township: false,
            kind: self.kind.and_then(SessionKind::from_code),
            status: self.status.and_then(SessionStatus::from_code),
        }
    }

    fn echo(&self) -> ListEcho {
        let f = self.filter();
        ListEcho {
            year: chosen_year(self.year),
            month: chosen_month(self.month),
            village: f.village.village(),
            kind: f.kind.map(SessionKind::code).unwrap_or_default(),
            status: f.status.map(SessionStatus::code).unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
struct SessionListPage {
    rows: Vec<SessionView>,
    total: i64,
    page: i64,
    pages: i64,
    filter: ListEcho,
    qs: String,
    years: Vec<i32>,
    villages: Vec<Village>,
    kinds: Vec<CodeLabel>,
    statuses: Vec<CodeLabel>,
    confined: bool,
    can_edit: bool,
    /// Whether the user made a feed address (shown only when made).
    has_feed_token: bool,
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
    let has_feed_token = sessions::has_feed_token(db, actor).await?;
    let filter = query.echo();
    let view = SessionListPage {
        rows: page
            .rows
            .iter()
            .map(|s| SessionView::of(s, actor))
            .collect(),
        total: page.total,
        page: page.page,
        pages: page.pages,
        qs: query_string(&filter),
        filter,
        years: year_choices(),
        villages: selectable_villages(db, actor).await?,
        kinds: SessionKind::options(),
        statuses: SessionStatus::options(),
        confined: !actor.role.sees_all_villages(),
        can_edit: actor.role.can_edit_records(),
        has_feed_token,
    };
    Ok(chrome.render("sessions/list", view))
}

#[derive(Serialize)]
struct YearMonth {
    year: i32,
    month: u32,
}

#[derive(Serialize)]
struct CalendarPage {
    year: i32,
    month: u32,
    weeks: Vec<Vec<CalendarDay>>,
    weekdays: [&'static str; 7],
    prev: YearMonth,
    next: YearMonth,
    can_edit: bool,
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
        village: VillageScope::Any,
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
            week.push(CalendarDay::of(day, month, &rows));
            day += Duration::days(1);
        }
        weeks.push(week);
    }
    let prev = if month == 1 {
        YearMonth {
            year: year - 1,
            month: 12,
        }
    } else {
        YearMonth {
            year,
            month: month - 1,
        }
    };
    let next = if month == 12 {
        YearMonth {
            year: year + 1,
            month: 1,
        }
    } else {
        YearMonth {
            year,
            month: month + 1,
        }
    };
    let view = CalendarPage {
        year,
        month,
        weeks,
        weekdays: WEEKDAY_LABELS,
        prev,
        next,
        can_edit: me.actor.role.can_edit_records(),
    };
    Ok(chrome.render("sessions/calendar", view))
}

#[derive(Serialize)]
struct CancelPage {
    session: SessionView,
}

#[rocket::get("/<id>/cancel")]
async fn cancel_confirm(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let s = sessions::editable_session(db, actor, id).await?;
    let view = CancelPage {
        session: SessionView::of(&s, actor),
    };
    Ok(chrome.render("sessions/cancel", view))
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

#[derive(Serialize)]
pub struct SessionDetailPage {
    session: SessionView,
    series: Option<String>,
    rows: Vec<GridLine>,
    attended: usize,
    statuses: Vec<CodeLabel>,
    history: Vec<HistoryLine>,
    checkin_url: String,
    /// The QR code's address works on the server only: say so, and how to fix it.
    checkin_url_local: bool,
    checkin_open: bool,
    /// Self check-in paused after too many wrong answers, until reopened.
    checkin_paused: bool,
    qr_svg: String,
    /// Why a posted grid was not saved (it is shown again as posted).
    grid_error: Option<String>,
    registry: Vec<PersonChoice>,
}

/// The session page: facts, QR check-in, invitees and the attendance grid, history.
#[rocket::get("/<id>")]
async fn detail(
    me: CurrentUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
    base: BaseUrl,
    key: &State<TokenKey>,
) -> AppResult<Template> {
    let view = detail_page(db, &me.actor, id, &base, key, None).await?;
    Ok(chrome.render("sessions/detail", view))
}

/// A grid the organizer posted and the service refused: each line's posted values, and
/// the messages by line index.
pub struct PostedGrid<'a> {
    pub lines: &'a [crate::services::attendance::MarkInput],
    pub errors: &'a crate::domain::fields::FieldErrors,
}

/// The session page's view; with `posted`, the grid shows what was posted and why not.
pub async fn detail_page(
    db: &Db,
    actor: &crate::services::Actor,
    id: i64,
    base: &BaseUrl,
    key: &TokenKey,
    posted: Option<PostedGrid<'_>>,
) -> AppResult<SessionDetailPage> {
    let o = sessions::overview(db, actor, id).await?;
    let s = &o.session;
    let attended = o
        .grid
        .iter()
        .filter(|r| matches!(r.status.as_deref(), Some("present") | Some("late")))
        .count();
    let names: std::collections::HashMap<i64, String> = o
        .grid
        .iter()
        .map(|r| (r.person_id, r.name.clone()))
        .collect();
    let checkin_url = format!(
        "{}/checkin/{}",
        base.0,
        crate::services::attendance::checkin_link_token(key, s)
    );
    let window = checkin_window(s, chrono::Local::now().naive_local());
    let view = SessionDetailPage {
        session: SessionView::of(s, actor),
        series: o.series.clone(),
        rows: o
            .grid
            .iter()
            .map(|r| {
                let line = GridLine::of(r);
                let Some(posted) = &posted else {
                    return line;
                };
                // Lines are matched by person, as the form posts them.
                match posted
                    .lines
                    .iter()
                    .position(|m| m.person_id.trim() == r.person_id.to_string())
                {
                    Some(i) => line.with_posted(
                        &posted.lines[i].status,
                        &posted.lines[i].hours,
                        posted.errors.get(&format!("rows.{i}")).cloned(),
                    ),
                    None => line,
                }
            })
            .collect(),
        attended,
        statuses: AttendanceStatus::options(),
        history: history_views(&o.history, &names),
        qr_svg: qr_svg(&checkin_url),
        checkin_url,
        checkin_url_local: base.is_local(),
        checkin_open: window == Window::Open,
        checkin_paused: crate::services::attendance::checkin_paused(db, s.id).await?,
        grid_error: posted
            .as_ref()
            .map(|_| "考勤未保存：请按标出的行修改后再保存，其他行已按您填写的保留。".to_string()),
        registry: o
            .walk_in_choices
            .iter()
            .map(|r| PersonChoice::of(&r.person))
            .collect(),
    };
    Ok(view)
}

pub fn routes() -> Vec<Route> {
    let mut routes = rocket::routes![list, calendar, cancel_confirm, cancel, detail];
    routes.extend(form::routes());
    routes
}
