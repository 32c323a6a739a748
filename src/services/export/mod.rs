//! The year-end workbook: the annual summary and the lists behind it, in one .xlsx.

use chrono::NaiveDate;

mod passes;

use passes::{background, Sheets};

use super::summary::{annual_summary, report_paragraph, AnnualSummary};
use super::{ledgers, Actor, ServiceError, ServiceResult};
use crate::domain::activity::{AudienceGroup, Place};
use crate::domain::dates::Period;
use crate::domain::id_number::mask;
use crate::domain::session::{SessionKind, SessionStatus};
use crate::domain::VillageScope;
use crate::sheets::table::{Cell, Table};
use crate::sheets::yearbook::{yearbook_workbook, Yearbook};
use crate::store::activities::{self, ActivityFilter};
use crate::store::distributions::{self, DistributionFilter};
use crate::store::self_study::{self, SelfStudyFilter};
use crate::store::{summary, Db};

fn figures(s: &AnnualSummary) -> Vec<(String, Cell)> {
    let mut figures = vec![
        ("村(社区)数".to_string(), Cell::Int(s.villages)),
        ("学法活动（已举行，场）".into(), Cell::Int(s.sessions_held)),
    ];
    for kind in SessionKind::ALL {
        figures.push((
            format!("　其中：{}", kind.label_zh()),
            Cell::Int(s.sessions_by_kind.get(kind.code()).copied().unwrap_or(0)),
        ));
    }
    figures.extend([
        ("参学人次".to_string(), Cell::Int(s.attendance_person_times)),
        ("出勤率（%）".into(), Cell::Number(s.attendance_rate)),
        ("累计学时".into(), Cell::Number(s.study_hours_total)),
        ("自学学时".into(), Cell::Number(s.self_study_hours)),
        ("参加自学人数".into(), Cell::Int(s.self_study_people)),
        (
            "学时未达标人数".into(),
            Cell::Int(s.people_below_requirement),
        ),
        (
            "法律明白人（在册）".into(),
            Cell::Int(s.legal_literates_on_roster),
        ),
        (
            "法律明白人（本年新培养）".into(),
            Cell::Int(s.legal_literates_new),
        ),
        (
            "法律明白人未达标的村(社区)".into(),
            Cell::Text(s.villages_below_literate_target.join("、")),
        ),
        (
            "发放普法资料（份）".into(),
            Cell::Int(s.materials_distributed),
        ),
        ("普法活动（场）".into(), Cell::Int(s.activities_held)),
        (
            "普法活动受众（人次）".into(),
            Cell::Int(s.activity_audience_total),
        ),
    ]);
    for place in Place::ALL {
        figures.push((
            format!("法律七进：进{}（场）", place.label_zh()),
            Cell::Int(
                s.activities_by_place
                    .get(place.code())
                    .copied()
                    .unwrap_or(0),
            ),
        ));
    }
    for group in AudienceGroup::ALL {
        figures.push((
            format!("受众：{}（人次）", group.label_zh()),
            Cell::Int(s.audience_by_group.get(group.code()).copied().unwrap_or(0)),
        ));
    }
    figures
}

/// The workbook bytes and its file name.
pub async fn year_workbook(
    db: &Db,
    actor: &Actor,
    year: i32,
    village_id: Option<i64>,
    today: NaiveDate,
) -> ServiceResult<(String, Vec<u8>)> {
    let confined = actor.confined_village().or(village_id);
    let scope = VillageScope::of(confined);
    let period = Period::of(year, None).ok_or(ServiceError::NotFound)?;
    let as_of = period.as_of(today);
    // The three long passes (a million attendance rows by person, the distributions and
    // the activities) start at once, each on a connection of its own, before the figures:
    // when those are not cached, they are computed beside the passes. The passes are read
    // while the shorter lists are written, and stopped if the workbook fails on the way.
    let hours_pass = background(db, move |db| async move {
        summary::person_hours(&db, period, scope).await
    });
    let dist_filter = DistributionFilter {
        period,
        village: scope,
        material_kind: None,
        material_id: None,
    };
    let distributions_pass = background(db, move |db| async move {
        distributions::list_all(&db, &dist_filter).await
    });
    let act_filter = ActivityFilter {
        period,
        village: scope,
        form: None,
        place: None,
        group: None,
    };
    let activities_pass = background(db, move |db| async move {
        activities::list_all(&db, &act_filter).await
    });
    let s = annual_summary(db, actor, year, village_id, today).await?;
    let subject = s.village.clone().unwrap_or_else(|| "全镇".into());

    let sum_int = |rows: &[Vec<Cell>], col: usize| {
        Cell::Int(
            rows.iter()
                .map(|r| {
                    if let Some(Cell::Int(n)) = r.get(col) {
                        *n
                    } else {
                        0
                    }
                })
                .sum(),
        )
    };
    let sum_num = |rows: &[Vec<Cell>], col: usize| {
        Cell::Number(
            rows.iter()
                .map(|r| match r.get(col) {
                    Some(Cell::Number(n)) => *n,
                    _ => 0.0,
                })
                .sum(),
        )
    };
    // The village lines, then the township's own (镇级, 镇机关): together they add up to
    // the year's figures.
    let village_rows: Vec<Vec<Cell>> = s
        .village_lines
        .iter()
        .chain(s.township_line.iter())
        .map(|l| {
            vec![
                Cell::Text(l.name.clone()),
                Cell::Int(l.sessions_held),
                Cell::Int(l.activities),
                Cell::Int(l.audience),
                Cell::Int(l.materials),
                Cell::Int(l.legal_literates),
                Cell::Int(l.legal_literates_new),
                Cell::Int(l.attendance_person_times),
                Cell::Number(l.study_hours),
                Cell::Number(l.self_study_hours),
            ]
        })
        .collect();
    let book = Yearbook {
        title: format!("{subject}{year}年普法工作汇总"),
        figures: figures(&s),
        paragraph: report_paragraph(&s),
        months: s
            .sessions_by_month
            .iter()
            .map(|(m, n)| {
                (
                    format!("{}月", m.trim_start_matches('0')),
                    *n,
                    s.attendance_by_month.get(m).copied().unwrap_or(0),
                )
            })
            .collect(),
        village_headers: vec![
            "村(社区)",
            "学法活动(场)",
            "普法活动(场)",
            "受众(人次)",
            "资料发放(份)",
            "法律明白人(人)",
            "本年新培养(人)",
            "参学人次",
            "学时",
            "自学学时",
        ],
        village_rows,
    };
    let mut sheets = Sheets::start(yearbook_workbook(&book)?);
    drop(book);
    // Each list is written on a blocking thread while the next is read, and let go once
    // written.
    let sessions: Vec<Vec<Cell>> = summary::session_lines(db, period, scope)
        .await?
        .into_iter()
        .map(|l| {
            vec![
                Cell::Date(l.starts_at.date()),
                l.starts_at.format("%H:%M").to_string().into(),
                SessionKind::from_code(&l.kind)
                    .map_or("其他", SessionKind::label_zh)
                    .into(),
                l.topic.into(),
                l.village_name.unwrap_or_else(|| "镇级".into()).into(),
                l.venue.into(),
                l.speaker.into(),
                Cell::Number(l.hours_credited),
                SessionStatus::from_code(&l.status)
                    .map_or("", SessionStatus::label_zh)
                    .into(),
                Cell::Int(l.attended),
            ]
        })
        .collect();
    sheets
        .add(Table {
            sheet_name: "学法活动".into(),
            headers: vec![
                "日期",
                "时间",
                "类型",
                "学习内容",
                "村(社区)",
                "地点",
                "主讲人",
                "学时",
                "状态",
                "参学人次",
            ],
            totals: Some(vec![
                "合计".into(),
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                Cell::Empty,
                sum_int(&sessions, 9),
            ]),
            rows: sessions,
        })
        .await?;
    let hours: Vec<Vec<Cell>> = hours_pass
        .read()
        .await?
        .into_iter()
        .map(|p| {
            vec![
                p.name.into(),
                p.village_name.unwrap_or_else(|| "镇机关".into()).into(),
                p.post.into(),
                Cell::Int(p.sessions),
                Cell::Number(p.hours),
            ]
        })
        .collect();
    sheets
        .add(Table {
            sheet_name: "人员学时".into(),
            headers: vec!["姓名", "村(社区)", "职务", "参学次数", "学时"],
            totals: Some(vec![
                "合计".into(),
                Cell::Empty,
                Cell::Empty,
                sum_int(&hours, 3),
                sum_num(&hours, 4),
            ]),
            rows: hours,
        })
        .await?;
    let self_study_filter = SelfStudyFilter {
        period,
        village: scope,
        person_id: None,
    };
    let self_study: Vec<Vec<Cell>> = self_study::list(db, &self_study_filter, i64::MAX, 0)
        .await?
        .into_iter()
        .rev()
        .map(|r| {
            vec![
                Cell::Date(r.studied_on),
                r.person_name.into(),
                r.village_name.unwrap_or_else(|| "镇机关".into()).into(),
                r.content.into(),
                r.form.label_zh().into(),
                Cell::Number(r.hours),
                r.notes.into(),
            ]
        })
        .collect();
    sheets
        .add(Table {
            sheet_name: "自学".into(),
            headers: vec![
                "日期",
                "姓名",
                "村(社区)",
                "学习内容",
                "学习形式",
                "学时",
                "备注",
            ],
            totals: Some(vec![
                "合计".into(),
                format!("{}人", s.self_study_people).into(),
                Cell::Empty,
                format!("{}条", self_study.len()).into(),
                Cell::Empty,
                sum_num(&self_study, 5),
            ]),
            rows: self_study,
        })
        .await?;
    let literates: Vec<Vec<Cell>> = summary::literate_lines(db, as_of, scope)
        .await?
        .into_iter()
        .map(|l| {
            vec![
                l.name.into(),
                l.village_name.unwrap_or_else(|| "镇机关".into()).into(),
                l.since.map_or(Cell::Empty, Cell::Date),
                l.phone.unwrap_or_default().into(),
                l.id_number.as_deref().map(mask).unwrap_or_default().into(),
            ]
        })
        .collect();
    sheets
        .add(Table {
            sheet_name: "法律明白人".into(),
            headers: vec!["姓名", "村(社区)", "认定日期", "联系电话", "身份证号"],
            totals: Some(vec!["合计".into(), format!("{}人", literates.len()).into()]),
            rows: literates,
        })
        .await?;
    let distributions = distributions_pass.read().await?;
    sheets
        .add(ledgers::distributions_table(&distributions))
        .await?;
    drop(distributions);
    let acts = activities_pass.read().await?;
    sheets.add(ledgers::activities_table(&acts)).await?;
    drop(acts);
    let coverage: Vec<Vec<Cell>> = s
        .village_lines
        .iter()
        .map(|l| {
            let mut row = vec![Cell::Text(l.name.clone())];
            row.extend(l.months.values().map(|n| {
                if *n > 0 {
                    Cell::Int(*n)
                } else {
                    Cell::Text("无".into())
                }
            }));
            row
        })
        .collect();
    sheets
        .add(Table {
            sheet_name: "覆盖情况".into(),
            headers: vec![
                "村(社区)",
                "1月",
                "2月",
                "3月",
                "4月",
                "5月",
                "6月",
                "7月",
                "8月",
                "9月",
                "10月",
                "11月",
                "12月",
            ],
            totals: None,
            rows: coverage,
        })
        .await?;
    let bytes = sheets.finish().await?;
    Ok((format!("{subject}{year}年普法工作汇总.xlsx"), bytes))
}
