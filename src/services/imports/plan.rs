//! Turns the rows of a table into planned writes: which rows create, update or leave
//! unchanged which records, and which rows are rejected and why. Lookups are loaded once
//! per upload, not once per row.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveTime};
use serde::Serialize;

use super::cells;
use super::RejectedRow;
use crate::domain::activity::{ActivityForm, AudienceGroup, Place};
use crate::domain::import::{column_letter, Field, ImportKind};
use crate::domain::material::MaterialKind;
use crate::domain::schedule::SessionDraft;
use crate::domain::session::{AttendanceStatus, SessionKind};
use crate::domain::text::to_half_width;
use crate::domain::{Category, IdNumber, Phone};
use crate::services::{Actor, ServiceError};
use crate::sheets::read::{CellValue, SheetTable, SourceRow};
use crate::store::imports::{
    self as store, ActivityRow, AttendanceRow, DistributionRow, Op, PersonRow, Ref,
};
use crate::store::villages::Village;
use crate::store::Db;

/// One error or warning, naming the cell the way the clerk sees it.
#[derive(Debug, Clone, Serialize, PartialEq)]
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
    fn issue(&self, field: Option<Field>, message: String) -> Issue {
        let cell = field.and_then(|f| self.row.cell(f));
        Issue {
            sheet: self.row.sheet.clone(),
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

    fn value(&self, field: Field) -> CellValue {
        self.row
            .cell(field)
            .map(|c| c.value.clone())
            .unwrap_or(CellValue::Empty)
    }

    fn text(&self, field: Field) -> String {
        self.row.text(field).trim().to_string()
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

type PersonEntry = (Ref, Option<i64>, String, Option<String>, Option<String>);

/// Everyone known (stored or planned), found by ID number or by village and name without
/// scanning the whole registry for each row.
#[derive(Default)]
struct PeopleIndex {
    entries: Vec<PersonEntry>,
    by_name: HashMap<(Option<i64>, String), Vec<usize>>,
    by_id_number: HashMap<String, usize>,
}

impl PeopleIndex {
    fn add(&mut self, entry: PersonEntry) {
        let index = self.entries.len();
        self.by_name
            .entry((entry.1, entry.2.clone()))
            .or_default()
            .push(index);
        if let Some(id) = &entry.4 {
            self.by_id_number.insert(id.clone(), index);
        }
        self.entries.push(entry);
    }

    fn with_id_number(&self, id: &str) -> Option<&PersonEntry> {
        self.by_id_number.get(id).map(|i| &self.entries[*i])
    }

    fn named(&self, village: Option<i64>, name: &str) -> Vec<&PersonEntry> {
        self.by_name
            .get(&(village, name.to_string()))
            .map(|indexes| indexes.iter().map(|i| &self.entries[*i]).collect())
            .unwrap_or_default()
    }
}

pub struct Planner<'a> {
    db: &'a Db,
    actor: &'a Actor,
    kind: ImportKind,
    villages: Vec<Village>,
    default_village: Option<i64>,
    upload_year: i32,
    ops: Vec<Op>,
    result_counts: (usize, usize, usize),
    errors: Vec<Issue>,
    warnings: Vec<Issue>,
    rejected: Vec<RejectedRow>,
    seen_villages: Vec<Option<i64>>,
    /// (ref, village, name, phone, id number) of everyone known, including planned people.
    people: PeopleIndex,
    /// (date, topic, village) → session
    sessions: HashMap<(NaiveDate, String, Option<i64>), Ref>,
    /// existing session → its attendance: person → (id, status, hours)
    attendance: HashMap<i64, HashMap<i64, (i64, String, f64)>>,
    attendance_seen: std::collections::HashSet<(Ref, Ref)>,
    materials: HashMap<String, Ref>,
    distribution_keys: HashMap<String, (i64, DistributionRow)>,
    activity_keys: HashMap<String, (i64, ActivityRow)>,
    key_counts: HashMap<String, usize>,
    people_seen: HashMap<Ref, usize>,
}

fn key_hash(parts: &[&str]) -> String {
    super::sha256_hex(parts.join("\u{1f}").as_bytes())[..32].to_string()
}

impl<'a> Planner<'a> {
    pub async fn new(
        db: &'a Db,
        actor: &'a Actor,
        kind: ImportKind,
        villages: Vec<Village>,
        default_village: Option<i64>,
    ) -> Result<Planner<'a>, ServiceError> {
        let mut people = PeopleIndex::default();
        if matches!(kind, ImportKind::Roster | ImportKind::Attendance) {
            for (id, v, name, phone, idn) in store::people_index(db).await? {
                people.add((Ref::Existing(id), v, name, phone, idn));
            }
        }
        let materials = match kind {
            ImportKind::Materials | ImportKind::Activities => crate::store::materials::choices(db)
                .await?
                .into_iter()
                .map(|(id, title, _)| (title, Ref::Existing(id)))
                .collect(),
            _ => HashMap::new(),
        };
        let distribution_keys = if kind == ImportKind::Materials {
            store::distribution_keys(db)
                .await?
                .into_iter()
                .map(
                    |(
                        key,
                        id,
                        material,
                        on,
                        village,
                        quantity,
                        recipients,
                        place,
                        handled_by,
                        notes,
                    )| {
                        let row = DistributionRow {
                            material: Ref::Existing(material),
                            distributed_on: on,
                            village_id: village,
                            quantity,
                            recipients,
                            place,
                            handled_by,
                            activity: None,
                            notes,
                            import_key: key.clone(),
                        };
                        (key, (id, row))
                    },
                )
                .collect()
        } else {
            HashMap::new()
        };
        let mut activity_keys = HashMap::new();
        if kind == ImportKind::Activities {
            let mut groups_of: HashMap<i64, Vec<String>> = HashMap::new();
            for (activity, group) in store::imported_audience_groups(db).await? {
                groups_of.entry(activity).or_default().push(group);
            }
            for (key, id, held_on, village, topic, form, place, count, speaker, venue, notes) in
                store::activity_keys(db).await?
            {
                let groups = groups_of.remove(&id).unwrap_or_default();
                let row = ActivityRow {
                    held_on,
                    village_id: village,
                    topic,
                    form,
                    place,
                    audience_groups: groups,
                    audience_count: count,
                    speaker,
                    venue,
                    notes,
                    import_key: key.clone(),
                };
                activity_keys.insert(key, (id, row));
            }
        }
        Ok(Planner {
            db,
            actor,
            kind,
            villages,
            default_village,
            upload_year: chrono::Local::now().year(),
            ops: Vec::new(),
            result_counts: (0, 0, 0),
            errors: Vec::new(),
            warnings: Vec::new(),
            rejected: Vec::new(),
            seen_villages: Vec::new(),
            people,
            sessions: HashMap::new(),
            attendance: HashMap::new(),
            attendance_seen: Default::default(),
            materials,
            distribution_keys,
            activity_keys,
            key_counts: HashMap::new(),
            people_seen: HashMap::new(),
        })
    }

    /// The one village every accepted row belongs to, if they share one.
    pub fn single_village(&self) -> Option<i64> {
        let first = *self.seen_villages.first()?;
        self.seen_villages
            .iter()
            .all(|v| *v == first)
            .then_some(first)
            .flatten()
    }

    pub fn finish(self) -> PlanResult {
        PlanResult {
            ops: self.ops,
            created: self.result_counts.0,
            updated: self.result_counts.1,
            unchanged: self.result_counts.2,
            errors: self.errors,
            warnings: self.warnings,
            rejected: self.rejected,
        }
    }

    fn push(&mut self, op: Op) -> usize {
        self.ops.push(op);
        self.ops.len() - 1
    }

    pub async fn plan_sheet(&mut self, sheet: &SheetTable) -> Result<(), ServiceError> {
        if self.kind == ImportKind::Attendance {
            self.load_sessions(sheet).await?;
        }
        let signed_session = match sheet.session_number {
            Some(number) => Some(self.signed_session(number).await?),
            None => None,
        };
        for row in &sheet.rows {
            let mut issues = RowIssues {
                row,
                errors: Vec::new(),
                warnings: Vec::new(),
            };
            let outcome = match self.kind {
                ImportKind::Roster => self.roster_row(&mut issues, sheet).await?,
                ImportKind::Attendance => {
                    self.attendance_row(&mut issues, sheet, signed_session.as_ref())
                }
                ImportKind::Materials => self.material_row(&mut issues, sheet),
                ImportKind::Activities => self.activity_row(&mut issues, sheet),
            };
            self.warnings.extend(issues.warnings);
            match outcome {
                Some(o) if issues.errors.is_empty() => match o {
                    Outcome::Created => self.result_counts.0 += 1,
                    Outcome::Updated => self.result_counts.1 += 1,
                    Outcome::Unchanged => self.result_counts.2 += 1,
                },
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
                        row: row.clone(),
                        message,
                    });
                    self.errors.extend(issues.errors);
                }
            }
        }
        Ok(())
    }

    /// The row's village: its own column, else the clerk's, the chosen one, or the title's.
    /// `Ok(None)` is township level (镇机关).
    fn village(
        &mut self,
        issues: &mut RowIssues,
        sheet: &SheetTable,
        required: bool,
    ) -> Option<Option<i64>> {
        let text = issues.text(Field::Village);
        let township = ["镇机关", "镇政府", "镇级", "乡镇", "镇"];
        let village = if text.is_empty() {
            let title = sheet
                .title_village
                .as_ref()
                .and_then(|name| self.villages.iter().find(|v| &v.name == name))
                .map(|v| v.id);
            match self.default_village.or(title) {
                Some(v) => Some(v),
                None if required => {
                    issues.error(Some(Field::Village), "请填写村(社区)");
                    return None;
                }
                None => None,
            }
        } else if township.contains(&text.as_str()) {
            None
        } else {
            let half = to_half_width(&text);
            let found = self
                .villages
                .iter()
                .find(|v| v.name == half || to_half_width(&v.name) == half)
                .or_else(|| {
                    let candidates: Vec<&Village> = self
                        .villages
                        .iter()
                        .filter(|v| v.name.starts_with(half.as_str()))
                        .collect();
                    (candidates.len() == 1).then(|| candidates[0])
                });
            match found {
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
        self.seen_villages.push(village);
        Some(village)
    }

    fn date(&self, issues: &mut RowIssues, sheet: &SheetTable, field: Field) -> Option<NaiveDate> {
        let year = sheet.title_year.unwrap_or(self.upload_year);
        match cells::date(&issues.value(field), year) {
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

    fn required_text(
        &self,
        issues: &mut RowIssues,
        field: Field,
        label: &str,
        max: usize,
    ) -> Option<String> {
        let text = issues.text(field);
        if text.is_empty() {
            issues.error(Some(field), format!("缺少{label}"));
            None
        } else if text.chars().count() > max {
            issues.error(Some(field), format!("{label}不能超过{max}个字"));
            None
        } else {
            Some(text)
        }
    }

    fn occurrence_key(&mut self, parts: &[&str]) -> String {
        let base = key_hash(parts);
        let n = self.key_counts.entry(base.clone()).or_insert(0);
        *n += 1;
        key_hash(&[&base, &n.to_string()])
    }

    async fn roster_row(
        &mut self,
        issues: &mut RowIssues<'_>,
        sheet: &SheetTable,
    ) -> Result<Option<Outcome>, ServiceError> {
        let required_village = self.actor.confined_village().is_none();
        let village = self.village(issues, sheet, required_village);
        let name = self.required_text(issues, Field::Name, "姓名", 50);
        let gender = match issues.text(Field::Gender).as_str() {
            "" => None,
            "男" | "male" => Some("male".to_string()),
            "女" | "female" => Some("female".to_string()),
            other => {
                issues.error(
                    Some(Field::Gender),
                    format!("“{other}” 不是有效的性别（男/女）"),
                );
                None
            }
        };
        let certified_on = match issues.value(Field::CertifiedOn) {
            v if v.is_empty() => None,
            _ => self.date(issues, sheet, Field::CertifiedOn),
        };
        let mut categories: Vec<(Category, Option<NaiveDate>, Option<NaiveDate>)> = Vec::new();
        let words = cells::words(&issues.text(Field::Categories));
        if words.is_empty() {
            issues.error(Some(Field::Categories), "缺少身份类别");
        }
        for word in words {
            match Category::from_zh(&word).or_else(|| Category::from_code(&word)) {
                Some(c) if !categories.iter().any(|(x, ..)| *x == c) => {
                    let since = (c == Category::LegalLiterate)
                        .then_some(certified_on)
                        .flatten();
                    categories.push((c, since, None));
                }
                Some(_) => {}
                None => issues.error(
                    Some(Field::Categories),
                    format!("“{word}” 不是可选的身份类别"),
                ),
            }
        }
        let phone = match issues.text(Field::Phone) {
            t if t.is_empty() => None,
            t => match Phone::parse(&t) {
                Ok(p) => Some(p.as_str().to_string()),
                Err(e) => {
                    issues.error(Some(Field::Phone), e.to_string());
                    None
                }
            },
        };
        let id_number = match issues.value(Field::IdNumber) {
            CellValue::Number(_) => {
                issues.error(
                    Some(Field::IdNumber),
                    "身份证号被 Excel 存成了数字，末尾几位可能已经丢失。请把该列设置为“文本”格式后重新填写",
                );
                None
            }
            v if v.is_empty() => None,
            v => match IdNumber::parse(&v.display()) {
                Ok(id) => Some(id.as_str().to_string()),
                Err(e) => {
                    issues.error(Some(Field::IdNumber), e.to_string());
                    None
                }
            },
        };
        let (Some(village), Some(name)) = (village, name) else {
            return Ok(None);
        };
        if !issues.errors.is_empty() {
            return Ok(None);
        }
        let sheet_row = PersonRow {
            name: name.clone(),
            gender,
            village_id: village,
            post: issues.text(Field::Post),
            phone: phone.clone(),
            id_number: id_number.clone(),
            notes: issues.text(Field::Notes),
            categories,
        };
        // Same person: ID number; else village + name + phone; else village + name.
        let matched = match &id_number {
            Some(id) => self.people.with_id_number(id),
            None => self
                .people
                .named(village, &name)
                .into_iter()
                .find(|(.., p, _)| phone.is_none() || *p == phone),
        };
        let Some((found, found_village, ..)) = matched.cloned() else {
            let index = self.push(Op::CreatePerson(sheet_row));
            self.people
                .add((Ref::New(index), village, name, phone, id_number));
            self.people_seen.insert(Ref::New(index), issues.row.row);
            return Ok(Some(Outcome::Created));
        };
        if let Some(first) = self.people_seen.get(&found) {
            issues.error(Some(Field::Name), format!("与第{first}行是同一人"));
            return Ok(None);
        }
        self.people_seen.insert(found, issues.row.row);
        let Ref::Existing(id) = found else {
            return Ok(None);
        };
        if let Some(own) = self.actor.confined_village() {
            if found_village != Some(own) {
                issues.error(
                    Some(Field::IdNumber),
                    "该身份证号已登记在其他村(社区)的人员名下",
                );
                return Ok(None);
            }
        }
        let Some(snapshot) = crate::store::people::snapshot(self.db, id).await? else {
            return Ok(None);
        };
        let before = PersonRow {
            name: snapshot.person.name.clone(),
            gender: snapshot.person.gender.clone(),
            village_id: snapshot.person.village_id,
            post: snapshot.person.post.clone(),
            phone: snapshot.person.phone.clone(),
            id_number: snapshot.person.id_number.clone(),
            notes: snapshot.person.notes.clone(),
            categories: snapshot
                .categories
                .iter()
                .map(|c| (c.category, c.since, c.until))
                .collect(),
        };
        let mut after = before.clone();
        after.name = sheet_row.name;
        after.village_id = sheet_row.village_id;
        if sheet_row.gender.is_some() {
            after.gender = sheet_row.gender;
        }
        if !sheet_row.post.is_empty() {
            after.post = sheet_row.post;
        }
        if sheet_row.phone.is_some() {
            after.phone = sheet_row.phone;
        }
        if sheet_row.id_number.is_some() {
            after.id_number = sheet_row.id_number;
        }
        if !sheet_row.notes.is_empty() {
            after.notes = sheet_row.notes;
        }
        for (category, since, until) in sheet_row.categories {
            match after.categories.iter_mut().find(|(c, ..)| *c == category) {
                Some(held) if since.is_some() => held.1 = since,
                Some(_) => {}
                None => after.categories.push((category, since, until)),
            }
        }
        if after == before {
            return Ok(Some(Outcome::Unchanged));
        }
        self.push(Op::UpdatePerson { id, before, after });
        Ok(Some(Outcome::Updated))
    }

    /// Existing sessions of the sheet's dates, and their attendance, loaded once.
    async fn load_sessions(&mut self, sheet: &SheetTable) -> Result<(), ServiceError> {
        let year = sheet.title_year.unwrap_or(self.upload_year);
        let dates: Vec<NaiveDate> = sheet
            .rows
            .iter()
            .filter_map(|r| {
                r.cell(Field::Date)
                    .and_then(|c| cells::date(&c.value, year).ok())
                    .map(|(d, _)| d)
            })
            .collect();
        let (Some(from), Some(to)) = (dates.iter().min(), dates.iter().max()) else {
            return Ok(());
        };
        let to = to.succ_opt().unwrap_or(*to);
        for (id, starts, topic, village) in store::sessions_index(
            self.db,
            from.and_time(NaiveTime::MIN),
            to.and_time(NaiveTime::MIN),
        )
        .await?
        {
            self.sessions
                .entry((starts.date(), topic, village))
                .or_insert(Ref::Existing(id));
            self.load_attendance(id).await?;
        }
        Ok(())
    }

    async fn load_attendance(&mut self, session_id: i64) -> Result<(), ServiceError> {
        if self.attendance.contains_key(&session_id) {
            return Ok(());
        }
        let rows = store::attendance_of(self.db, session_id).await?;
        self.attendance.insert(
            session_id,
            rows.into_iter()
                .map(|(id, p, s, h)| (p, (id, s, h)))
                .collect(),
        );
        Ok(())
    }

    /// The session a printed sign-in sheet belongs to.
    async fn signed_session(
        &mut self,
        number: i64,
    ) -> Result<Option<crate::store::sessions::Session>, ServiceError> {
        let session = crate::store::sessions::get(self.db, number).await?;
        let visible =
            session.filter(|s| s.village_id.is_none() || self.actor.can_see_village(s.village_id));
        if let Some(s) = &visible {
            self.load_attendance(s.id).await?;
        }
        Ok(visible)
    }

    fn attendance_row(
        &mut self,
        issues: &mut RowIssues,
        sheet: &SheetTable,
        signed: Option<&Option<crate::store::sessions::Session>>,
    ) -> Option<Outcome> {
        let name = self.required_text(issues, Field::Name, "姓名", 50);
        // Status: the 签到情况 column, or on a printed sheet the signature.
        let status = if issues.row.cell(Field::AttendanceStatus).is_some() {
            let word = issues.text(Field::AttendanceStatus);
            match AttendanceStatus::from_word(&word) {
                Some(s) => Some(s),
                None => {
                    issues.error(
                        Some(Field::AttendanceStatus),
                        format!("“{word}” 不是有效的签到情况（出勤/迟到/请假/缺席）"),
                    );
                    None
                }
            }
        } else if issues.row.cell(Field::Signature).is_some() {
            let notes = issues.text(Field::Notes);
            let signed_in = !issues.text(Field::Signature).is_empty();
            Some(match (signed_in, notes.as_str()) {
                (true, n) if n.contains("迟到") => AttendanceStatus::Late,
                (true, _) => AttendanceStatus::Present,
                (false, n) if n.contains("假") => AttendanceStatus::Excused,
                (false, _) => AttendanceStatus::Absent,
            })
        } else {
            Some(AttendanceStatus::Present)
        };
        let hours = match issues.value(Field::Hours) {
            v if v.is_empty() => None,
            v => match cells::hours(&v) {
                Ok(h) => Some(h),
                Err(message) => {
                    issues.error(Some(Field::Hours), message);
                    None
                }
            },
        };
        let (session, village, session_hours) = match signed {
            Some(None) => {
                issues.error(None, "签到表的活动编号在系统中不存在（或不属于本村），请从该学法活动页面重新下载签到表");
                return None;
            }
            Some(Some(s)) => {
                // The person's village: the column, else the session's, else the clerk's.
                let village = if issues.text(Field::Village).is_empty() {
                    self.actor.confined_village().or(s.village_id)
                } else {
                    self.village(issues, sheet, false)?
                };
                (Ref::Existing(s.id), village, s.hours_credited)
            }
            None => {
                let village = self.village(issues, sheet, false);
                let date = self.date(issues, sheet, Field::Date);
                let topic = self.required_text(issues, Field::Topic, "学习内容", 200);
                let kind_word = issues.text(Field::SessionKind);
                let kind = match kind_word.as_str() {
                    "" => SessionKind::Collective,
                    "党委会" | "党委会学法" => SessionKind::Committee,
                    "讲座" => SessionKind::Lecture,
                    "培训" => SessionKind::Training,
                    w => match SessionKind::from_zh(w) {
                        Some(k) => k,
                        None => {
                            issues.error(
                                Some(Field::SessionKind),
                                format!("“{w}” 不是可选的学习形式"),
                            );
                            return None;
                        }
                    },
                };
                let (village, date, topic) = (village?, date?, topic?);
                let key = (date, topic.clone(), village);
                let session = match self.sessions.get(&key) {
                    Some(r) => *r,
                    None => {
                        let start = date
                            .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN));
                        let draft = SessionDraft {
                            kind,
                            topic: topic.clone(),
                            starts_at: start,
                            ends_at: start + chrono::Duration::hours(1),
                            venue: String::new(),
                            speaker: issues.text(Field::Speaker),
                            organizer: String::new(),
                            village_id: village,
                            hours_credited: hours.unwrap_or(1.0),
                            notes: "由签到表导入".into(),
                        };
                        let index = self.push(Op::CreateSession(draft));
                        self.sessions.insert(key, Ref::New(index));
                        Ref::New(index)
                    }
                };
                (session, village, hours.unwrap_or(1.0))
            }
        };
        let (name, status) = (name?, status?);
        if !issues.errors.is_empty() {
            return None;
        }
        let hours = if status.attended() {
            hours.unwrap_or(session_hours)
        } else {
            0.0
        };
        // The person: by name in the village; a name nobody has is registered, with a warning.
        let matches: Vec<Ref> = self
            .people
            .named(village, &name)
            .into_iter()
            .map(|(r, ..)| *r)
            .collect();
        let person = match matches.as_slice() {
            [one] => *one,
            [] => {
                issues.warn(
                    Some(Field::Name),
                    format!("名册中没有“{name}”，导入时将新建该人员"),
                );
                let index = self.push(Op::CreatePerson(PersonRow {
                    name: name.clone(),
                    gender: None,
                    village_id: village,
                    post: String::new(),
                    phone: None,
                    id_number: None,
                    notes: String::new(),
                    categories: Vec::new(),
                }));
                self.people
                    .add((Ref::New(index), village, name, None, None));
                Ref::New(index)
            }
            _ => {
                issues.error(
                    Some(Field::Name),
                    format!(
                        "本村(社区)有 {} 名同名人员“{name}”，请在名册中区分后再导入",
                        matches.len()
                    ),
                );
                return None;
            }
        };
        if self.attendance_seen.contains(&(session, person)) {
            issues.error(Some(Field::Name), "同一学法活动中重复登记了这个人");
            return None;
        }
        self.attendance_seen.insert((session, person));
        let row = AttendanceRow {
            status: status.code().into(),
            hours_credited: hours,
        };
        let existing = match (session, person) {
            (Ref::Existing(s), Ref::Existing(p)) => {
                self.attendance.get(&s).and_then(|m| m.get(&p)).cloned()
            }
            _ => None,
        };
        match existing {
            Some((_, s, h)) if s == row.status && (h - row.hours_credited).abs() < 1e-9 => {
                Some(Outcome::Unchanged)
            }
            Some((id, s, h)) => {
                self.push(Op::UpdateAttendance {
                    id,
                    before: AttendanceRow {
                        status: s,
                        hours_credited: h,
                    },
                    after: row,
                });
                Some(Outcome::Updated)
            }
            None => {
                self.push(Op::CreateAttendance {
                    session,
                    person,
                    row,
                });
                Some(Outcome::Created)
            }
        }
    }

    fn material_ref(&mut self, title: &str, kind: MaterialKind, unit: &str) -> Ref {
        if let Some(r) = self.materials.get(title) {
            return *r;
        }
        let index = self.push(Op::CreateMaterial {
            title: title.to_string(),
            kind: kind.code().into(),
            unit: unit.to_string(),
        });
        self.materials.insert(title.to_string(), Ref::New(index));
        Ref::New(index)
    }

    fn material_row(&mut self, issues: &mut RowIssues, sheet: &SheetTable) -> Option<Outcome> {
        let village = self.village(issues, sheet, false);
        let date = self.date(issues, sheet, Field::Date);
        let title = self.required_text(issues, Field::MaterialTitle, "资料名称", 100);
        let kind_word = issues.text(Field::MaterialKind);
        let kind = match kind_word.as_str() {
            "" => MaterialKind::Other,
            w => MaterialKind::from_word(w).unwrap_or_else(|| {
                issues.warn(
                    Some(Field::MaterialKind),
                    format!("“{w}” 不是可选的资料类型，按“其他”登记"),
                );
                MaterialKind::Other
            }),
        };
        let quantity = match cells::whole_number(&issues.value(Field::Quantity)) {
            Ok(q) if q >= 1 => Some(q),
            Ok(_) => {
                issues.error(Some(Field::Quantity), "数量至少为1");
                None
            }
            Err(message) => {
                issues.error(Some(Field::Quantity), message);
                None
            }
        };
        let (village, date, title, quantity) = (village?, date?, title?, quantity?);
        if !issues.errors.is_empty() {
            return None;
        }
        let unit = match issues.text(Field::Unit) {
            u if u.is_empty() => "份".to_string(),
            u => u.chars().take(4).collect(),
        };
        let material = self.material_ref(&title, kind, &unit);
        let village_key = village.map(|v| v.to_string()).unwrap_or_default();
        let key = self.occurrence_key(&["materials", &village_key, &date.to_string(), &title]);
        let row = DistributionRow {
            material,
            distributed_on: date,
            village_id: village,
            quantity,
            recipients: issues.text(Field::Recipients),
            place: issues.text(Field::Place),
            handled_by: issues.text(Field::HandledBy),
            activity: None,
            notes: issues.text(Field::Notes),
            import_key: key.clone(),
        };
        match self.distribution_keys.get(&key).cloned() {
            Some((_, before)) if before == row => Some(Outcome::Unchanged),
            Some((id, before)) => {
                self.push(Op::UpdateDistribution {
                    id,
                    before,
                    after: row,
                });
                Some(Outcome::Updated)
            }
            None => {
                self.push(Op::CreateDistribution(row));
                Some(Outcome::Created)
            }
        }
    }

    fn activity_row(&mut self, issues: &mut RowIssues, sheet: &SheetTable) -> Option<Outcome> {
        let village = self.village(issues, sheet, false);
        let date = self.date(issues, sheet, Field::Date);
        let topic = self.required_text(issues, Field::Topic, "活动主题", 200);
        let form = match issues.text(Field::ActivityForm).as_str() {
            "" => ActivityForm::Other,
            "宣传" | "摆摊宣传" | "摊点" => ActivityForm::Stall,
            "咨询" => ActivityForm::Consultation,
            "文艺" | "演出" => ActivityForm::Performance,
            w => ActivityForm::from_zh(w).unwrap_or_else(|| {
                issues.warn(
                    Some(Field::ActivityForm),
                    format!("“{w}” 不是可选的活动形式，按“其他”登记"),
                );
                ActivityForm::Other
            }),
        };
        let place = match issues.text(Field::SevenPlaces).as_str() {
            "" => None,
            w => {
                match Place::from_word(w) {
                    Some(p) => Some(p),
                    None => {
                        issues.error(Some(Field::SevenPlaces), format!("“{w}” 不是法律七进的场所（机关、乡村、社区、学校、企业、单位、寺庙）"));
                        None
                    }
                }
            }
        };
        let mut groups: Vec<AudienceGroup> = Vec::new();
        for word in cells::words(&issues.text(Field::AudienceGroups)) {
            match AudienceGroup::from_word(&word) {
                Some(g) if !groups.contains(&g) => groups.push(g),
                Some(_) => {}
                None => issues.error(
                    Some(Field::AudienceGroups),
                    format!("“{word}” 不是可选的受众对象"),
                ),
            }
        }
        groups.sort_by_key(|g| g.code());
        let count = match cells::whole_number(&issues.value(Field::AudienceCount)) {
            Ok(n) => Some(n),
            Err(message) => {
                issues.error(Some(Field::AudienceCount), message);
                None
            }
        };
        let handed_out = match issues.value(Field::MaterialsHandedOut) {
            v if v.is_empty() => None,
            v => match cells::whole_number(&v) {
                Ok(n) => Some(n),
                Err(message) => {
                    issues.error(Some(Field::MaterialsHandedOut), message);
                    None
                }
            },
        };
        let (village, date, topic, count) = (village?, date?, topic?, count?);
        if !issues.errors.is_empty() {
            return None;
        }
        let village_key = village.map(|v| v.to_string()).unwrap_or_default();
        let key = self.occurrence_key(&["activities", &village_key, &date.to_string(), &topic]);
        let row = ActivityRow {
            held_on: date,
            village_id: village,
            topic: topic.clone(),
            form: form.code().into(),
            place: place.map(|p| p.code().to_string()),
            audience_groups: groups.iter().map(|g| g.code().to_string()).collect(),
            audience_count: count,
            speaker: issues.text(Field::Speaker),
            venue: issues.text(Field::Venue),
            notes: issues.text(Field::Notes),
            import_key: key.clone(),
        };
        match self.activity_keys.get(&key).cloned() {
            Some((_, before)) if before == row => Some(Outcome::Unchanged),
            Some((id, before)) => {
                self.push(Op::UpdateActivity {
                    id,
                    before,
                    after: row,
                });
                Some(Outcome::Updated)
            }
            None => {
                let index = self.push(Op::CreateActivity(row));
                if let Some(quantity) = handed_out.filter(|q| *q > 0) {
                    let material = self.material_ref(ACTIVITY_MATERIAL, MaterialKind::Other, "份");
                    let recipients = groups
                        .iter()
                        .map(|g| g.label_zh())
                        .collect::<Vec<_>>()
                        .join("、");
                    let distribution = DistributionRow {
                        material,
                        distributed_on: date,
                        village_id: village,
                        quantity,
                        recipients,
                        place: issues.text(Field::Venue),
                        handled_by: issues.text(Field::Speaker),
                        activity: Some(Ref::New(index)),
                        notes: format!("随普法活动“{topic}”发放（活动台账导入）"),
                        import_key: key_hash(&[&key, "materials"]),
                    };
                    self.push(Op::CreateDistribution(distribution));
                }
                Some(Outcome::Created)
            }
        }
    }
}

/// The catalogue entry for material counted in an activity ledger without a title.
pub const ACTIVITY_MATERIAL: &str = "普法宣传资料（活动台账登记）";
