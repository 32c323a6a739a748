//! Turns the rows of a table into planned writes: which rows create, update or leave
//! unchanged which records, and which rows are rejected and why. This module holds the loop
//! over rows and the cell readers every kind shares; each kind of ledger has its own module
//! with the lookups it needs, loaded before its first row.

mod activities;
mod attendance;
mod materials;
mod people;
mod roster;
mod self_study;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::cells;
use super::RejectedRow;
use crate::domain::import::{column_letter, Field, ImportKind};
use crate::domain::text::{half_width, to_half_width};
use crate::services::{Actor, ServiceError};
use crate::sheets::read::{CellValue, SheetTable, SourceRow};
use crate::store::imports::Op;
use crate::store::villages::Village;
use crate::store::Db;

/// One error or warning, naming the cell the way the clerk sees it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Issue {
    pub sheet: String,
    pub row: usize,
    pub column: String,
    pub header: String,
    pub value: String,
    pub message: String,
}

impl Issue {
    /// `Sheet1 第12行 C列「发放日期」：“2021.13.5” 不是有效日期`
    pub fn describe(&self) -> String {
        if self.column.is_empty() {
            format!("{} 第{}行：{}", self.sheet, self.row, self.message)
        } else {
            format!(
                "{} 第{}行 {}列「{}」：{}",
                self.sheet, self.row, self.column, self.header, self.message
            )
        }
    }
}

/// Where a row's problems are collected until the row is accepted or rejected.
struct RowIssues<'r> {
    row: &'r SourceRow,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
}

impl<'r> RowIssues<'r> {
    fn new(row: &'r SourceRow) -> Self {
        RowIssues {
            row,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn issue(&self, field: Option<Field>, message: String) -> Issue {
        let cell = field.and_then(|f| self.row.cell(f));
        Issue {
            sheet: self.row.sheet.to_string(),
            row: self.row.row,
            column: cell.map(|c| column_letter(c.col)).unwrap_or_default(),
            header: cell.map(|c| c.header.to_string()).unwrap_or_default(),
            value: cell.map(|c| c.value.display()).unwrap_or_default(),
            message,
        }
    }

    fn error(&mut self, field: Option<Field>, message: impl Into<String>) {
        let issue = self.issue(field, message.into());
        self.errors.push(issue);
    }

    fn warn(&mut self, field: Option<Field>, message: impl Into<String>) {
        let issue = self.issue(field, message.into());
        self.warnings.push(issue);
    }

    fn value(&self, field: Field) -> &'r CellValue {
        static EMPTY: CellValue = CellValue::Empty;
        self.row.cell(field).map_or(&EMPTY, |c| c.value)
    }

    fn text(&self, field: Field) -> String {
        self.row.shown(field).trim().to_string()
    }

    /// Optional text, refused (as on the form) when longer than `max` characters.
    fn bounded_text(&mut self, field: Field, label: &str, max: usize) -> String {
        let text = self.text(field);
        if text.chars().count() > max {
            self.error(Some(field), format!("{label}不能超过{max}个字"));
        }
        text
    }

    /// Required text of at most `max` characters.
    fn required_text(&mut self, field: Field, label: &str, max: usize) -> Option<String> {
        let text = self.text(field);
        if text.is_empty() {
            self.error(Some(field), format!("缺少{label}"));
            None
        } else if text.chars().count() > max {
            self.error(Some(field), format!("{label}不能超过{max}个字"));
            None
        } else {
            Some(text)
        }
    }

    /// A whole number cell; `None` (with the error) when it is not one.
    fn whole_number(&mut self, field: Field) -> Option<i64> {
        match cells::whole_number(self.value(field)) {
            Ok(n) => Some(n),
            Err(message) => {
                self.error(Some(field), message);
                None
            }
        }
    }
}

enum Outcome {
    Created,
    Updated,
    Unchanged,
}

pub struct PlanResult {
    pub ops: Vec<Op>,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<Issue>,
    pub warnings: Vec<Issue>,
    pub rejected: Vec<RejectedRow>,
}

/// What a 村(社区) cell says for the township organ (镇机关) itself.
const TOWNSHIP_WORDS: [&str; 5] = ["镇机关", "镇政府", "镇级", "乡镇", "镇"];

fn key_hash(parts: &[&str]) -> String {
    super::sha256_hex(parts.join("\u{1f}").as_bytes())[..32].to_string()
}

/// What the rows of every kind share: the upload's context and the writes planned so far.
struct Common<'a> {
    db: &'a Db,
    actor: &'a Actor,
    villages: Vec<Village>,
    /// Index into `villages` by name, as written and in half-width forms (the first village
    /// wins): a row's village is looked up, not searched for among hundreds.
    village_index: HashMap<String, usize>,
    default_village: Option<i64>,
    upload_year: i32,
    /// The day of the upload: the 认定日期 of a 法律明白人 whose row has none.
    upload_day: chrono::NaiveDate,
    ops: Vec<Op>,
    /// The village of each accepted row (what the batch's village is decided from).
    seen_villages: Vec<Option<i64>>,
    /// The village of the row being planned, kept if the row is accepted.
    row_village: Option<Option<i64>>,
    key_counts: HashMap<String, usize>,
}

impl Common<'_> {
    fn push(&mut self, op: Op) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }

    /// The file's village: the clerk's own, the one chosen on upload, or the one named in
    /// the sheet's title rows.
    fn file_village(&self, sheet: &SheetTable) -> Option<i64> {
        self.default_village.or_else(|| {
            sheet
                .title_village
                .as_ref()
                .and_then(|name| self.villages.iter().find(|v| &v.name == name))
                .map(|v| v.id)
        })
    }

    /// The row's village: its own column, else the clerk's, the chosen one, or the title's.
    /// `Some(None)` is township level (镇机关); `None` means the row has an error.
    fn village(
        &mut self,
        issues: &mut RowIssues,
        sheet: &SheetTable,
        required: bool,
    ) -> Option<Option<i64>> {
        let text = issues.text(Field::Village);
        let village = if text.is_empty() {
            match self.file_village(sheet) {
                Some(v) => Some(v),
                None if required => {
                    issues.error(Some(Field::Village), "请填写村(社区)");
                    return None;
                }
                None => None,
            }
        } else if TOWNSHIP_WORDS.contains(&text.as_str()) {
            None
        } else {
            match self.village_named(&text) {
                Some(v) => Some(v.id),
                None => {
                    issues.error(Some(Field::Village), format!("“{text}” 不是本镇的村(社区)"));
                    return None;
                }
            }
        };
        if let Some(own) = self.actor.confined_village() {
            if village != Some(own) {
                let name = village
                    .and_then(|id| self.villages.iter().find(|v| v.id == id))
                    .map(|v| v.name.clone())
                    .unwrap_or_else(|| "镇机关".into());
                issues.error(
                    Some(Field::Village),
                    format!("只能导入本村(社区)的数据，这一行属于“{name}”"),
                );
                return None;
            }
        }
        self.row_village = Some(village);
        Some(village)
    }

    /// A village by its name, full-width or not, or by the only name it starts.
    fn village_named(&self, text: &str) -> Option<&Village> {
        let half = half_width(text);
        self.village_index
            .get(half.as_ref())
            .map(|&i| &self.villages[i])
            .or_else(|| {
                let candidates: Vec<&Village> = self
                    .villages
                    .iter()
                    .filter(|v| v.name.starts_with(half.as_ref()))
                    .collect();
                (candidates.len() == 1).then(|| candidates[0])
            })
    }

    /// The row's date in `field`: the date of an event (in `EVENT_YEARS`), except a
    /// 法律明白人's 认定日期, which may be any date, as on the person form.
    fn date(&self, issues: &mut RowIssues, sheet: &SheetTable, field: Field) -> Option<NaiveDate> {
        let year = sheet.title_year.unwrap_or(self.upload_year);
        let read = match field {
            Field::CertifiedOn => cells::any_date,
            _ => cells::date,
        };
        match read(issues.value(field), year) {
            Ok((date, guessed)) => {
                if guessed {
                    issues.warn(Some(field), format!("日期没有写年份，按 {year} 年处理"));
                }
                Some(date)
            }
            Err(message) => {
                issues.error(Some(field), message);
                None
            }
        }
    }

    /// A key for the n-th row with these parts, so that a corrected file finds its rows
    /// again and two equal rows stay two records.
    fn occurrence_key(&mut self, parts: &[&str]) -> String {
        let base = key_hash(parts);
        let n = self.key_counts.entry(base.clone()).or_insert(0);
        *n += 1;
        key_hash(&[&base, &n.to_string()])
    }
}

/// The lookups of the ledger kind being imported.
enum KindPlanner {
    Roster(roster::Roster),
    Attendance(Box<attendance::Attendance>),
    Materials(materials::Materials),
    Activities(activities::Activities),
    SelfStudy(self_study::SelfStudy),
}

/// Row counts and the issues of rejected rows.
#[derive(Default)]
struct Tally {
    created: usize,
    updated: usize,
    unchanged: usize,
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    rejected: Vec<RejectedRow>,
}

impl Tally {
    /// Counts the row; returns whether it was accepted.
    fn record(&mut self, issues: RowIssues, outcome: Option<Outcome>) -> bool {
        self.warnings.extend(issues.warnings);
        match outcome {
            Some(o) if issues.errors.is_empty() => {
                match o {
                    Outcome::Created => self.created += 1,
                    Outcome::Updated => self.updated += 1,
                    Outcome::Unchanged => self.unchanged += 1,
                }
                true
            }
            _ => {
                let message = issues
                    .errors
                    .iter()
                    .map(|i| {
                        if i.header.is_empty() {
                            i.message.clone()
                        } else {
                            format!("「{}」{}", i.header, i.message)
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("；");
                self.rejected.push(RejectedRow {
                    row: issues.row.clone(),
                    message,
                });
                self.errors.extend(issues.errors);
                false
            }
        }
    }
}

pub struct Planner<'a> {
    common: Common<'a>,
    kind: KindPlanner,
    tally: Tally,
}

impl<'a> Planner<'a> {
    /// Loads what rows of this kind are matched against (the registry, the catalogue, the
    /// keys of earlier imports): once per upload, not once per row.
    pub async fn new(
        db: &'a Db,
        actor: &'a Actor,
        kind: ImportKind,
        villages: Vec<Village>,
        default_village: Option<i64>,
        today: NaiveDate,
    ) -> Result<Planner<'a>, ServiceError> {
        let kind = match kind {
            ImportKind::Roster => KindPlanner::Roster(roster::Roster::load(db).await?),
            ImportKind::Attendance => {
                KindPlanner::Attendance(Box::new(attendance::Attendance::load(db).await?))
            }
            ImportKind::Materials => KindPlanner::Materials(materials::Materials::load(db).await?),
            ImportKind::Activities => {
                KindPlanner::Activities(activities::Activities::load(db).await?)
            }
            ImportKind::SelfStudy => KindPlanner::SelfStudy(self_study::SelfStudy::load(db).await?),
        };
        let mut village_index = HashMap::new();
        for (i, village) in villages.iter().enumerate() {
            village_index.entry(village.name.clone()).or_insert(i);
            village_index
                .entry(to_half_width(&village.name))
                .or_insert(i);
        }
        Ok(Planner {
            common: Common {
                db,
                actor,
                villages,
                village_index,
                default_village,
                upload_year: today.year(),
                upload_day: today,
                ops: Vec::new(),
                seen_villages: Vec::new(),
                row_village: None,
                key_counts: HashMap::new(),
            },
            kind,
            tally: Tally::default(),
        })
    }

    /// The one village every accepted row belongs to, if they share one.
    pub fn single_village(&self) -> Option<i64> {
        let seen = &self.common.seen_villages;
        let first = *seen.first()?;
        seen.iter().all(|v| *v == first).then_some(first).flatten()
    }

    pub fn finish(self) -> PlanResult {
        PlanResult {
            ops: self.common.ops,
            created: self.tally.created,
            updated: self.tally.updated,
            unchanged: self.tally.unchanged,
            errors: self.tally.errors,
            warnings: self.tally.warnings,
            rejected: self.tally.rejected,
        }
    }

    pub async fn plan_sheet(&mut self, sheet: &SheetTable) -> Result<(), ServiceError> {
        let common = &mut self.common;
        if let KindPlanner::Attendance(attendance) = &mut self.kind {
            attendance.prepare_sheet(common, sheet).await?;
        }
        for row in &sheet.rows {
            common.row_village = None;
            let mut issues = RowIssues::new(row);
            let outcome = match &mut self.kind {
                KindPlanner::Roster(r) => r.plan_row(common, &mut issues, sheet),
                KindPlanner::Attendance(a) => a.plan_row(common, &mut issues, sheet),
                KindPlanner::Materials(m) => m.plan_row(common, &mut issues, sheet),
                KindPlanner::Activities(a) => a.plan_row(common, &mut issues, sheet),
                KindPlanner::SelfStudy(s) => s.plan_row(common, &mut issues, sheet),
            };
            if self.tally.record(issues, outcome) {
                if let Some(village) = common.row_village {
                    common.seen_villages.push(village);
                }
            }
        }
        Ok(())
    }
}
