//! The dashboard: the year's figures for every role (a clerk sees their village), charts
//! drawn as inline SVG, the coverage grid, shortfalls and a draft report paragraph.

use rocket::{Route, State};
use rocket_dyn_templates::{Metadata, Template};
use serde::Serialize;
use std::sync::Arc;

use super::charts::{escape, horizontal_bars, monthly_bars};
use super::error::AppResult;
use super::guards::CurrentUser;
use super::period::{chosen_year, today, year_choices};
use super::render::{page_key, render_html, Chrome};
use crate::domain::activity::{AudienceGroup, Place};
use crate::domain::category::LEGAL_LITERATE_TARGET;
use crate::domain::session::SessionKind;
use crate::services::cache::by_data_version;
use crate::services::choices::selectable_villages;
use crate::services::summary::{annual_summary, report_paragraph, AnnualSummary, VillageLine};
use crate::services::villages::Village;
use crate::services::{Db, ServiceResult};

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

/// What the dashboard draws from the figures: four charts (SVG) and the coverage grid's
/// rows (HTML), one row per village: activity per month, 法律明白人 against the target.
struct Drawing {
    materials: String,
    sessions: String,
    attendance: String,
    places: String,
    grid_rows: String,
}

impl Drawing {
    fn of(s: &AnnualSummary) -> Drawing {
        let mut by_village: Vec<(String, i64)> = s
            .materials_by_village
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        by_village.sort_by_key(|item| std::cmp::Reverse(item.1));
        let monthly = |map: &std::collections::BTreeMap<String, i64>| -> Vec<(String, i64)> {
            map.iter().map(|(k, v)| (k.clone(), *v)).collect()
        };
        let places = labelled(
            &s.activities_by_place,
            Place::ALL,
            Place::code,
            Place::label_zh,
        );
        Drawing {
            materials: horizontal_bars("资料发放（按村）", &by_village, "份"),
            sessions: monthly_bars("学法活动（按月，场）", &monthly(&s.sessions_by_month), "场"),
            attendance: monthly_bars("参学人次（按月）", &monthly(&s.attendance_by_month), "人次"),
            places: horizontal_bars("法律七进（活动场次）", &places, "场"),
            grid_rows: s.village_lines.iter().map(coverage_row).collect(),
        }
    }
}

/// `<tr>` of one village: a cell per month (· where nothing happened), then its 法律明白人.
fn coverage_row(line: &VillageLine) -> String {
    let mut row = format!("<tr><td>{}</td>", escape(&line.name));
    for n in line.months.values() {
        if *n > 0 {
            row.push_str(&format!("<td class=\"hit\">{n}</td>"));
        } else {
            row.push_str("<td class=\"gap\">·</td>");
        }
    }
    let ok = line.legal_literates >= LEGAL_LITERATE_TARGET;
    row.push_str(&format!(
        "<td class=\"{}\">{}{}</td></tr>",
        if ok { "hit" } else { "gap" },
        line.legal_literates,
        if ok { "" } else { " 未达标" }
    ));
    row
}

/// The dashboard's context for its heading and body (`home_head`, `home_body`). Nothing
/// in it depends on the hour or on who is asking beyond their role and village, so both
/// are drawn once per data version.
#[derive(Serialize)]
struct HomeView {
    s: AnnualSummary,
    year: i32,
    years: Vec<i32>,
    village: Option<i64>,
    villages: Vec<Village>,
    confined: bool,
    /// The role's links on an empty dashboard.
    me: RoleView,
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
    /// The coverage grid's rows, drawn as HTML.
    grid_rows: String,
    months: Vec<u32>,
    /// What 参学人次 counts in this view (the figure's tooltip and note).
    person_times_rule: &'static str,
    /// Legal literate persons a village should have (the grid's legend).
    literate_target: i64,
}

#[derive(Serialize)]
struct RoleView {
    is_admin: bool,
    can_edit: bool,
}

/// The dashboard's heading and body as HTML.
struct Drawn {
    head: String,
    body: String,
}

/// The page around the drawn parts: the chrome, and what changes with the clock.
#[derive(Serialize)]
struct HomePage<'a> {
    year: i32,
    head: &'a str,
    body: &'a str,
    /// Sessions over without attendance, for those who take it.
    overdue: i64,
}

async fn draw(
    db: &Db,
    me: &CurrentUser,
    year: i32,
    village: Option<i64>,
    templates: &Metadata<'_>,
) -> ServiceResult<Drawn> {
    let mut s = annual_summary(db, &me.actor, year, village, today()).await?;
    let drawing = Drawing::of(&s);
    // The per-village figures are in the drawing; the context does not carry them again.
    s.village_lines = Vec::new();
    s.township_line = None;
    s.materials_by_village = Default::default();
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
    let role = me.actor.role;
    let view = HomeView {
        year,
        years: year_choices(),
        village,
        villages: selectable_villages(db, &me.actor).await?,
        confined: !role.sees_all_villages(),
        me: RoleView {
            is_admin: role.can_administer(),
            can_edit: role.can_edit_records(),
        },
        paragraph: report_paragraph(&s),
        total_hours: crate::domain::report::format_hours(s.study_hours_total + s.self_study_hours),
        kinds,
        groups,
        chart_materials: drawing.materials,
        chart_sessions: drawing.sessions,
        chart_attendance: drawing.attendance,
        chart_places: drawing.places,
        grid_rows: drawing.grid_rows,
        months: (1..=12).collect(),
        literate_target: LEGAL_LITERATE_TARGET,
        person_times_rule: if s.village.is_some() {
            "本村(社区)人员参加各级学法活动（含镇级活动）的出勤人次，按月图表同此口径"
        } else {
            "全镇各场学法活动的出勤人次"
        },
        s,
    };
    Ok(Drawn {
        head: render_html(templates, "home_head", &view)?,
        body: render_html(templates, "home_body", &view)?,
    })
}

#[rocket::get("/?<year>&<village>")]
async fn home(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
    chrome: Chrome,
    templates: Metadata<'_>,
) -> AppResult<Template> {
    let year = chosen_year(year);
    // The page is drawn once per data version and view: at county scale (300 villages'
    // grid rows, chart bars and choices, 200 KB) drawing it was most of a request's time.
    let key = page_key(
        &me.actor,
        format!("home-page:{year}:{village:?}:{}", today()),
    );
    let drawn = by_data_version(db, key, || async {
        draw(db, &me, year, village, &templates).await.map(Arc::new)
    })
    .await?;
    let overdue =
        crate::services::sessions::overdue_count(db, &me.actor, chrono::Local::now().naive_local())
            .await?;
    let page = HomePage {
        year,
        head: &drawn.head,
        body: &drawn.body,
        overdue,
    };
    Ok(chrome.render("home", page))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![home]
}
