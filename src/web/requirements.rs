//! /sessions/requirements: who is below the yearly study requirement, as a page and as a
//! workbook.

use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::choices::selectable_villages;
use super::download::XlsxDownload;
use super::error::AppResult;
use super::guards::CurrentUser;
use super::period::{chosen_year, today, year_choices};
use super::render::Chrome;
use crate::domain::self_study::requirement_kind_label;
use crate::services::attendance::{self, Requirement, Shortfall};
use crate::services::villages::Village;
use crate::services::Db;
use crate::sheets::table::{table_workbook, Cell, Table};

fn kind_label(code: &str) -> &'static str {
    requirement_kind_label(code)
}

/// One person below a requirement.
#[derive(Serialize)]
struct ShortfallLine {
    person_id: i64,
    name: String,
    village_name: String,
    category: &'static str,
    kind: &'static str,
    min_sessions: i64,
    min_hours: f64,
    sessions: i64,
    hours: f64,
    missing_sessions: i64,
    missing_hours: f64,
}

impl ShortfallLine {
    fn of(r: &Shortfall) -> ShortfallLine {
        ShortfallLine {
            person_id: r.person_id,
            name: r.name.clone(),
            village_name: r.village_name.as_deref().unwrap_or("镇机关").to_string(),
            category: r.category.label_zh(),
            kind: kind_label(&r.session_kind),
            min_sessions: r.min_sessions,
            min_hours: r.min_hours,
            sessions: r.sessions_attended,
            hours: r.hours,
            missing_sessions: (r.min_sessions - r.sessions_attended).max(0),
            missing_hours: (r.min_hours - r.hours).max(0.0),
        }
    }
}

/// A yearly study requirement in words.
#[derive(Serialize)]
struct RequirementLine {
    category: &'static str,
    kind: &'static str,
    min_sessions: i64,
    min_hours: f64,
}

impl RequirementLine {
    fn of(r: &Requirement) -> RequirementLine {
        RequirementLine {
            category: r.category.label_zh(),
            kind: kind_label(&r.session_kind),
            min_sessions: r.min_sessions,
            min_hours: r.min_hours,
        }
    }
}

#[derive(Serialize)]
struct RequirementsPage {
    rows: Vec<ShortfallLine>,
    year: i32,
    years: Vec<i32>,
    village: Option<i64>,
    villages: Vec<Village>,
    confined: bool,
    requirements: Vec<RequirementLine>,
    is_admin: bool,
    /// Which days the figures cover: to today in the running year, else the whole year.
    counted_to: &'static str,
}

fn counted_to(year: i32, today: chrono::NaiveDate) -> &'static str {
    use chrono::Datelike;
    match year.cmp(&today.year()) {
        std::cmp::Ordering::Equal => "统计截至今日。",
        std::cmp::Ordering::Less => "按全年统计。",
        std::cmp::Ordering::Greater => "该年度尚未开始，以上为全年应达到的要求。",
    }
}

#[rocket::get("/requirements?<year>&<village>")]
async fn requirements(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let (rows, requirements) =
        attendance::shortfall_report(db, &me.actor, year, today(), village).await?;
    let view = RequirementsPage {
        rows: rows.iter().map(ShortfallLine::of).collect(),
        year,
        years: year_choices(),
        village,
        villages: selectable_villages(db, &me.actor).await?,
        confined: !me.actor.role.sees_all_villages(),
        requirements: requirements.iter().map(RequirementLine::of).collect(),
        is_admin: me.actor.role.can_administer(),
        counted_to: counted_to(year, today()),
    };
    Ok(chrome.render("sessions/requirements", view))
}

#[rocket::get("/requirements.xlsx?<year>&<village>")]
async fn requirements_xlsx(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
) -> AppResult<XlsxDownload> {
    let year = chosen_year(year);
    let rows = attendance::shortfalls(db, &me.actor, year, today(), village).await?;
    let table = Table {
        sheet_name: format!("{year}年学法未达标人员"),
        headers: vec![
            "姓名",
            "村(社区)",
            "身份类别",
            "要求类型",
            "要求次数",
            "已学次数",
            "差几次",
            "要求学时",
            "已学学时",
            "差几学时",
        ],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    r.name.as_str().into(),
                    r.village_name
                        .clone()
                        .unwrap_or_else(|| "镇机关".into())
                        .into(),
                    r.category.label_zh().into(),
                    kind_label(&r.session_kind).into(),
                    r.min_sessions.into(),
                    r.sessions_attended.into(),
                    (r.min_sessions - r.sessions_attended).max(0).into(),
                    Cell::Number(r.min_hours),
                    Cell::Number(r.hours),
                    Cell::Number((r.min_hours - r.hours).max(0.0)),
                ]
            })
            .collect(),
        totals: Some(vec!["合计".into(), format!("{}人次", rows.len()).into()]),
    };
    Ok(XlsxDownload {
        file_name: format!("学法未达标人员_{year}.xlsx"),
        bytes: table_workbook(&table)?,
    })
}

pub fn routes() -> Vec<Route> {
    rocket::routes![requirements, requirements_xlsx]
}
