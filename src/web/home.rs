//! The dashboard: the year's figures for every role (a clerk sees their village), charts
//! drawn as inline SVG, the coverage grid, shortfalls and a draft report paragraph.

use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::charts::{horizontal_bars, monthly_bars};
use super::choices::selectable_villages;
use super::error::AppResult;
use super::guards::CurrentUser;
use super::period::{chosen_year, today, year_choices};
use super::render::Chrome;
use crate::domain::activity::{AudienceGroup, Place};
use crate::domain::category::LEGAL_LITERATE_TARGET;
use crate::domain::session::SessionKind;
use crate::services::summary::{annual_summary, report_paragraph, AnnualSummary, VillageLine};
use crate::services::villages::Village;
use crate::services::Db;

fn labelled<T: Copy>(
    map: &std::collections::BTreeMap<String, i64>,
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
) -> Vec<(String, i64)> {
    all.iter()
        .map(|k| {
            (
                label(*k).to_string(),
                map.get(code(*k)).copied().unwrap_or(0),
            )
        })
        .collect()
}

/// One village's row of the coverage grid: activity per month, 法律明白人 against the
/// target.
#[derive(Serialize)]
struct CoverageLine {
    name: String,
    months: Vec<i64>,
    literates: i64,
    ok: bool,
}

impl CoverageLine {
    fn of(l: &VillageLine) -> CoverageLine {
        CoverageLine {
            name: l.name.clone(),
            months: l.months.values().copied().collect(),
            literates: l.legal_literates,
            ok: l.legal_literates >= LEGAL_LITERATE_TARGET,
        }
    }
}

#[derive(Serialize)]
struct HomePage {
    s: AnnualSummary,
    year: i32,
    years: Vec<i32>,
    village: Option<i64>,
    villages: Vec<Village>,
    confined: bool,
    paragraph: String,
    /// Session and self-study hours together, as the report writes them.
    total_hours: String,
    /// (label, count) pairs.
    kinds: Vec<(String, i64)>,
    groups: Vec<(String, i64)>,
    chart_materials: String,
    chart_sessions: String,
    chart_attendance: String,
    chart_places: String,
    grid: Vec<CoverageLine>,
    months: Vec<u32>,
    /// Sessions over without attendance, for those who take it.
    overdue: i64,
}

#[rocket::get("/?<year>&<village>")]
async fn home(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let s = annual_summary(db, &me.actor, year, village, today()).await?;
    let mut by_village: Vec<(String, i64)> = s
        .materials_by_village
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    by_village.sort_by_key(|item| std::cmp::Reverse(item.1));
    let sessions_month: Vec<(String, i64)> = s
        .sessions_by_month
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let attendance_month: Vec<(String, i64)> = s
        .attendance_by_month
        .iter()
        .map(|(k, v)| (k.clone(), *v))
        .collect();
    let places = labelled(
        &s.activities_by_place,
        Place::ALL,
        Place::code,
        Place::label_zh,
    );
    let groups = labelled(
        &s.audience_by_group,
        AudienceGroup::ALL,
        AudienceGroup::code,
        AudienceGroup::label_zh,
    );
    let kinds = labelled(
        &s.sessions_by_kind,
        SessionKind::ALL,
        SessionKind::code,
        SessionKind::label_zh,
    );
    let view = HomePage {
        year,
        years: year_choices(),
        village,
        villages: selectable_villages(db, &me.actor).await?,
        confined: !me.actor.role.sees_all_villages(),
        paragraph: report_paragraph(&s),
        total_hours: crate::domain::report::format_hours(s.study_hours_total + s.self_study_hours),
        kinds,
        groups,
        chart_materials: horizontal_bars("资料发放（按村）", &by_village, "份"),
        chart_sessions: monthly_bars("学法活动（按月，场）", &sessions_month, "场"),
        chart_attendance: monthly_bars("参学人次（按月）", &attendance_month, "人次"),
        chart_places: horizontal_bars("法律七进（活动场次）", &places, "场"),
        grid: s.village_lines.iter().map(CoverageLine::of).collect(),
        months: (1..=12).collect(),
        overdue: crate::services::sessions::overdue_count(
            db,
            &me.actor,
            chrono::Local::now().naive_local(),
        )
        .await?,
        s,
    };
    Ok(chrome.render("home", view))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![home]
}
