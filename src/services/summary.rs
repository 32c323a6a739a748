//! The annual summary: every figure of “The year, in figures” (DESIGN.md), computed in one
//! place. The dashboard, the year-end workbook and the report paragraph all read it.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::cache::by_data_version;
pub use super::report::report_paragraph;
use super::{Actor, ServiceError, ServiceResult};
use crate::domain::activity::{AudienceGroup, Place};
use crate::domain::category::LEGAL_LITERATE_TARGET;
use crate::domain::dates::Period;
use crate::domain::session::SessionKind;
use crate::domain::VillageScope;
use crate::store::activities::{self, ActivityDimension, ActivityFilter};
use crate::store::distributions::{self, DistributionDimension, DistributionFilter};
use crate::store::self_study::{self, SelfStudyFilter};
use crate::store::{attendance, summary, villages, Db};

/// One village's line of the year (各村汇总, coverage grid).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VillageLine {
    pub name: String,
    pub sessions_held: i64,
    pub activities: i64,
    pub audience: i64,
    pub materials: i64,
    pub legal_literates: i64,
    pub legal_literates_new: i64,
    /// Attended person-times and their hours of the village's people (at any session).
    pub attendance_person_times: i64,
    pub study_hours: f64,
    /// Self-study hours of the village's people.
    pub self_study_hours: f64,
    /// Per month "01".."12": sessions held + activities.
    pub months: BTreeMap<String, i64>,
}

/// A held 党委会专题学法 meeting (the report's first part names them).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CommitteeMeeting {
    pub date: NaiveDate,
    pub topic: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AnnualSummary {
    pub year: i32,
    pub village: Option<String>,
    pub villages: i64,
    pub sessions_held: i64,
    pub sessions_planned: i64,
    pub sessions_cancelled: i64,
    pub sessions_by_kind: BTreeMap<String, i64>,
    pub sessions_by_month: BTreeMap<String, i64>,
    pub attendance_by_month: BTreeMap<String, i64>,
    pub attendance_person_times: i64,
    /// Attendance rows recorded (marks of any status); none means no rate to show.
    pub attendance_recorded: i64,
    pub attendance_rate: f64,
    pub study_hours_total: f64,
    /// Self-study (自学) of the year: records, hours, and how many people studied.
    pub self_study_records: i64,
    pub self_study_hours: f64,
    pub self_study_people: i64,
    pub committee_meetings: Vec<CommitteeMeeting>,
    pub people_below_requirement: i64,
    pub legal_literates_on_roster: i64,
    pub legal_literates_new: i64,
    pub villages_below_literate_target: Vec<String>,
    pub materials_distributed: i64,
    pub materials_by_village: BTreeMap<String, i64>,
    pub materials_by_month: BTreeMap<String, i64>,
    pub activities_held: i64,
    pub activity_audience_total: i64,
    pub activities_by_place: BTreeMap<String, i64>,
    pub audience_by_group: BTreeMap<String, i64>,
    pub villages_without_activity_by_quarter: BTreeMap<String, Vec<String>>,
    pub village_lines: Vec<VillageLine>,
    /// The township organ's own line (镇级 sessions, activities and handouts; township
    /// cadres' attendance, self-study and 法律明白人); none for one village's summary.
    /// With it, the village lines add up to the year's figures.
    pub township_line: Option<VillageLine>,
}

fn months() -> BTreeMap<String, i64> {
    (1..=12).map(|m| (format!("{m:02}"), 0)).collect()
}

/// The summary of a year for the township, or one village. A clerk always gets their own.
/// Kept under the data version (`services::cache`): a request finds the figures with one
/// one-row query instead of passes over the year's attendance.
pub async fn annual_summary(
    db: &Db,
    actor: &Actor,
    year: i32,
    village_id: Option<i64>,
    today: NaiveDate,
) -> ServiceResult<AnnualSummary> {
    let village_id = actor.confined_village().or(village_id);
    let period = Period::of(year, None).ok_or(ServiceError::NotFound)?;
    let as_of = period.as_of(today);
    let key = format!("summary:{year}:{village_id:?}:{as_of}");
    by_data_version(db, key, || compute_summary(db, year, village_id, today)).await
}

/// The summary computed from the data, without the cache (`village_id` already confined).
pub async fn compute_summary(
    db: &Db,
    year: i32,
    village_id: Option<i64>,
    today: NaiveDate,
) -> ServiceResult<AnnualSummary> {
    let scope = VillageScope::of(village_id);
    let period = Period::of(year, None).ok_or(ServiceError::NotFound)?;
    let as_of = period.as_of(today);
    let all_villages = villages::list(db).await?;
    let chosen: Vec<_> = all_villages
        .iter()
        .filter(|v| village_id.is_none_or(|id| v.id == id))
        .collect();
    if village_id.is_some() && chosen.is_empty() {
        return Err(ServiceError::NotFound);
    }
    let village_name = village_id
        .and_then(|id| chosen.iter().find(|v| v.id == id))
        .map(|v| v.name.clone());

    let mut sessions_by_kind: BTreeMap<String, i64> = SessionKind::ALL
        .iter()
        .map(|k| (k.code().to_string(), 0))
        .collect();
    let (mut held, mut planned, mut cancelled) = (0, 0, 0);
    for (kind, status, n) in summary::sessions_by_kind_and_status(db, period, scope).await? {
        match status.as_str() {
            "held" => {
                held += n;
                *sessions_by_kind.entry(kind).or_default() += n;
            }
            "planned" => planned += n,
            _ => cancelled += n,
        }
    }
    let (mut sessions_by_month, mut attendance_by_month) = (months(), months());
    let (mut recorded, mut attended, mut hours) = (0, 0, 0.0);
    for (month, sessions, people, rows, month_hours) in
        summary::sessions_by_month(db, period, scope).await?
    {
        sessions_by_month.insert(month.clone(), sessions);
        attendance_by_month.insert(month, people);
        (recorded, attended, hours) = (recorded + rows, attended + people, hours + month_hours);
    }
    // For one village, attendance is its people's wherever they attended (township
    // sessions too), in the monthly chart as in the totals: one definition for the view.
    if village_id.is_some() {
        attendance_by_month = months();
        (recorded, attended, hours) = (0, 0, 0.0);
        for (month, rows, people, month_hours) in
            summary::attendance_by_attendee_month(db, period, scope).await?
        {
            attendance_by_month.insert(month, people);
            (recorded, attended, hours) = (recorded + rows, attended + people, hours + month_hours);
        }
    }
    let attendance_rate = if recorded > 0 {
        (attended as f64 * 1000.0 / recorded as f64).round() / 10.0
    } else {
        0.0
    };
    let mut below: Vec<i64> = attendance::shortfalls(db, period, as_of, scope)
        .await?
        .into_iter()
        .map(|s| s.person_id)
        .collect();
    below.sort_unstable();
    below.dedup();

    let literates = summary::legal_literates_by_village(db, period, as_of, scope).await?;
    let (township_on, township_new) = if village_id.is_none() {
        summary::township_legal_literates(db, period, as_of).await?
    } else {
        (0, 0)
    };
    let villages_below: Vec<String> = literates
        .iter()
        .filter(|l| l.2 < LEGAL_LITERATE_TARGET)
        .map(|l| l.1.clone())
        .collect();

    let dist_filter = DistributionFilter {
        period,
        village: VillageScope::of(village_id),
        material_kind: None,
        material_id: None,
    };
    let materials_total = distributions::totals(db, &dist_filter).await?.quantity;
    let mut materials_by_village = BTreeMap::new();
    for s in distributions::subtotals(db, &dist_filter, DistributionDimension::Village).await? {
        materials_by_village.insert(s.key.unwrap_or_else(|| "镇级".into()), s.quantity);
    }
    let mut materials_by_month = months();
    for s in distributions::subtotals(db, &dist_filter, DistributionDimension::Month).await? {
        if let Some(key) = s.key {
            materials_by_month.insert(key, s.quantity);
        }
    }
    let act_filter = ActivityFilter {
        period,
        village: VillageScope::of(village_id),
        form: None,
        place: None,
        group: None,
    };
    let act_totals = activities::totals(db, &act_filter).await?;
    let mut activities_by_place: BTreeMap<String, i64> = Place::ALL
        .iter()
        .map(|p| (p.code().to_string(), 0))
        .collect();
    for s in activities::subtotals(db, &act_filter, ActivityDimension::Place).await? {
        if let Some(key) = s.key {
            activities_by_place.insert(key, s.rows);
        }
    }
    let mut audience_by_group: BTreeMap<String, i64> = AudienceGroup::ALL
        .iter()
        .map(|g| (g.code().to_string(), 0))
        .collect();
    for s in activities::subtotals(db, &act_filter, ActivityDimension::AudienceGroup).await? {
        if let Some(key) = s.key {
            audience_by_group.insert(key, s.quantity);
        }
    }

    // Per village: the coverage grid and the 各村汇总 line.
    let coverage = summary::coverage(db, period, scope).await?;
    let activities_by_village =
        activities::subtotals(db, &act_filter, ActivityDimension::Village).await?;
    let attendance_by_village = summary::attendance_by_village(db, period).await?;
    let self_study_by_village = self_study::by_village(db, period).await?;
    let attendance_of = |village: Option<i64>| {
        attendance_by_village
            .iter()
            .find(|a| a.0 == village)
            .map_or((0, 0.0), |a| (a.1, a.2))
    };
    let self_study_of = |village: Option<i64>| {
        self_study_by_village
            .iter()
            .find(|a| a.0 == village)
            .map_or(0.0, |a| a.1)
    };
    let mut lines = Vec::new();
    for v in &chosen {
        let mut line_months = months();
        let (mut sessions, mut acts, mut quantity) = (0, 0, 0);
        for (_, month, s, a, q) in coverage.iter().filter(|c| c.0 == v.id) {
            *line_months.entry(month.clone()).or_default() += s + a;
            sessions += s;
            acts += a;
            quantity += q;
        }
        let literate = literates.iter().find(|l| l.0 == v.id);
        let (person_times, study_hours) = attendance_of(Some(v.id));
        lines.push(VillageLine {
            name: v.name.clone(),
            sessions_held: sessions,
            activities: acts,
            audience: activities_by_village
                .iter()
                .find(|s| s.key.as_deref() == Some(v.name.as_str()))
                .map_or(0, |s| s.quantity),
            materials: quantity,
            legal_literates: literate.map_or(0, |l| l.2),
            legal_literates_new: literate.map_or(0, |l| l.3),
            attendance_person_times: person_times,
            study_hours,
            self_study_hours: self_study_of(Some(v.id)),
            months: line_months,
        });
    }
    let mut quarters = BTreeMap::new();
    for q in 1..=4u32 {
        let quarter_months: Vec<String> = ((q - 1) * 3 + 1..=q * 3)
            .map(|m| format!("{m:02}"))
            .collect();
        let quiet: Vec<String> = lines
            .iter()
            .filter(|l| {
                quarter_months
                    .iter()
                    .all(|m| l.months.get(m).copied().unwrap_or(0) == 0)
            })
            .map(|l| l.name.clone())
            .collect();
        quarters.insert(format!("Q{q}"), quiet);
    }
    let township_line = if village_id.is_none() {
        let township = VillageScope::Township;
        let sessions_held = summary::sessions_by_kind_and_status(db, period, township)
            .await?
            .iter()
            .filter(|(_, status, _)| status == "held")
            .map(|(_, _, n)| n)
            .sum();
        let township_activities = activities_by_village.iter().find(|s| s.key.is_none());
        let (person_times, study_hours) = attendance_of(None);
        Some(VillageLine {
            name: "镇机关（镇级）".into(),
            sessions_held,
            activities: township_activities.map_or(0, |s| s.rows),
            audience: township_activities.map_or(0, |s| s.quantity),
            materials: materials_by_village.get("镇级").copied().unwrap_or(0),
            legal_literates: township_on,
            legal_literates_new: township_new,
            attendance_person_times: person_times,
            study_hours,
            self_study_hours: self_study_of(None),
            months: months(),
        })
    } else {
        None
    };
    let self_study_filter = SelfStudyFilter {
        period,
        village: scope,
        person_id: None,
    };
    let (self_study_records, self_study_hours, self_study_people) =
        self_study::totals(db, &self_study_filter).await?;
    let committee_meetings = summary::committee_meetings(db, period, scope)
        .await?
        .into_iter()
        .map(|(at, topic)| CommitteeMeeting {
            date: at.date(),
            topic,
        })
        .collect();
    Ok(AnnualSummary {
        year,
        village: village_name,
        villages: chosen.len() as i64,
        sessions_held: held,
        sessions_planned: planned,
        sessions_cancelled: cancelled,
        sessions_by_kind,
        sessions_by_month,
        attendance_by_month,
        attendance_person_times: attended,
        attendance_recorded: recorded,
        attendance_rate,
        study_hours_total: hours,
        self_study_records,
        self_study_hours,
        self_study_people,
        committee_meetings,
        people_below_requirement: below.len() as i64,
        legal_literates_on_roster: literates.iter().map(|l| l.2).sum::<i64>() + township_on,
        legal_literates_new: literates.iter().map(|l| l.3).sum::<i64>() + township_new,
        villages_below_literate_target: villages_below,
        materials_distributed: materials_total,
        materials_by_village,
        materials_by_month,
        activities_held: act_totals.rows,
        activity_audience_total: act_totals.quantity,
        activities_by_place,
        audience_by_group,
        villages_without_activity_by_quarter: quarters,
        village_lines: lines,
        township_line,
    })
}
