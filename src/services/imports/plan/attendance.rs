//! Sign-in sheets (签到表): each row is one person's mark at a session found (or created) by
//! date, topic and village; pufa's own numbered sheet names its session.

use std::collections::{HashMap, HashSet};

use chrono::{NaiveDate, NaiveTime};

use super::people::{KnownPerson, PeopleIndex};
use super::{cells, Common, Outcome, RowIssues, TOWNSHIP_WORDS};
use crate::domain::import::Field;
use crate::domain::person::NAME_MAX_CHARS;
use crate::domain::schedule::{SessionDraft, TOPIC_MAX_CHARS};
use crate::domain::session::{AttendanceStatus, SessionKind};
use crate::services::ServiceError;
use crate::sheets::read::SheetTable;
use crate::store::attendance::AttendanceRow;
use crate::store::imports::{self as store, Op, Ref, StoredMark};
use crate::store::people::PersonRecord;
use crate::store::sessions::Session;
use crate::store::Db;

pub(super) struct Attendance {
    people: PeopleIndex,
    /// Each topic of the sheets and stored sessions, numbered: the maps below are keyed by
    /// its number, so that a row looks its session up without copying or rehashing it.
    topics: HashMap<String, u32>,
    /// (date, topic, village) → session and the hours it credits, stored or planned.
    sessions: HashMap<(NaiveDate, u32, Option<i64>), (Ref, f64)>,
    /// Stored session → its marks by person.
    marks: HashMap<i64, HashMap<i64, StoredMark>>,
    /// (session, person) pairs already in the file.
    seen: HashSet<(Ref, Ref)>,
    /// The session of the sheet being planned, when it is pufa's numbered sign-in sheet:
    /// `Some(None)` when the number names no session the uploader may see.
    signed: Option<Option<Session>>,
    /// (date, topic) → the village of the session the sheet's rows of that group attend
    /// (`None`: township level).
    group_village: HashMap<(NaiveDate, u32), Option<i64>>,
}

/// The number of a topic in `topics`, given one when it has none yet.
fn topic_number(topics: &mut HashMap<String, u32>, topic: &str) -> u32 {
    if let Some(number) = topics.get(topic) {
        return *number;
    }
    let number = topics.len() as u32;
    topics.insert(topic.to_string(), number);
    number
}

/// The session a row marks, the attendee's village and the hours the session credits.
struct RowSession {
    session: Ref,
    village: Option<i64>,
    hours: f64,
    /// A township-level session: a clerk adds their people to it but changes no mark.
    township: bool,
}

impl Attendance {
    pub async fn load(db: &Db) -> Result<Self, ServiceError> {
        let mut people = PeopleIndex::default();
        for key in store::people_index(db).await? {
            people.add(KnownPerson::from(key));
        }
        Ok(Attendance {
            people,
            topics: HashMap::new(),
            sessions: HashMap::new(),
            marks: HashMap::new(),
            seen: HashSet::new(),
            signed: None,
            group_village: HashMap::new(),
        })
    }

    /// Existing sessions of the sheet's dates and their marks, loaded once per sheet; the
    /// session of a numbered sign-in sheet.
    pub async fn prepare_sheet(
        &mut self,
        common: &Common<'_>,
        sheet: &SheetTable,
    ) -> Result<(), ServiceError> {
        let year = sheet.title_year.unwrap_or(common.upload_year);
        let dates: Vec<NaiveDate> = sheet
            .rows
            .iter()
            .filter_map(|r| {
                r.cell(Field::Date)
                    .and_then(|c| cells::date(c.value, year).ok())
                    .map(|(d, _)| d)
            })
            .collect();
        if let (Some(from), Some(to)) = (dates.iter().min(), dates.iter().max()) {
            let to = to.succ_opt().unwrap_or(*to);
            let from = from.and_time(NaiveTime::MIN);
            for session in
                store::sessions_index(common.db, from, to.and_time(NaiveTime::MIN)).await?
            {
                let topic = topic_number(&mut self.topics, &session.topic);
                self.sessions
                    .entry((session.starts_at.date(), topic, session.village_id))
                    .or_insert((Ref::Existing(session.id), session.hours_credited));
                self.load_marks(common.db, session.id).await?;
            }
        }
        self.group_village = group_villages(common, sheet, year, &mut self.topics);
        self.signed = match sheet.session_number {
            Some(number) => {
                let session = crate::store::sessions::get(common.db, number).await?;
                let visible = session.filter(|s| {
                    s.village_id.is_none() || common.actor.can_see_village(s.village_id)
                });
                if let Some(s) = &visible {
                    self.load_marks(common.db, s.id).await?;
                }
                Some(visible)
            }
            None => None,
        };
        Ok(())
    }

    async fn load_marks(&mut self, db: &Db, session_id: i64) -> Result<(), ServiceError> {
        if self.marks.contains_key(&session_id) {
            return Ok(());
        }
        let rows = store::attendance_of(db, session_id).await?;
        let by_person = rows.into_iter().map(|m| (m.person_id, m)).collect();
        self.marks.insert(session_id, by_person);
        Ok(())
    }

    pub fn plan_row(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues,
        sheet: &SheetTable,
    ) -> Option<Outcome> {
        let name = issues.required_text(Field::Name, "姓名", NAME_MAX_CHARS);
        let status = read_status(issues);
        let hours = match issues.value(Field::Hours) {
            v if v.is_empty() => None,
            v => match cells::hours(v) {
                Ok(h) => Some(h),
                Err(message) => {
                    issues.error(Some(Field::Hours), message);
                    None
                }
            },
        };
        let target = self.row_session(common, issues, sheet, hours)?;
        let (name, status) = (name?, status?);
        if !issues.errors.is_empty() {
            return None;
        }
        let hours = if status.attended() {
            hours.unwrap_or(target.hours)
        } else {
            0.0
        };
        let person = self.person(common, issues, target.village, name)?;
        if !self.seen.insert((target.session, person)) {
            issues.error(Some(Field::Name), "同一学法活动中重复登记了这个人");
            return None;
        }
        let row = AttendanceRow {
            status: status.code().into(),
            hours_credited: hours,
        };
        let existing = match (target.session, person) {
            (Ref::Existing(s), Ref::Existing(p)) => self.marks.get(&s).and_then(|m| m.get(&p)),
            _ => None,
        };
        match existing {
            Some(m)
                if m.status == row.status
                    && (m.hours_credited - row.hours_credited).abs() < 1e-9 =>
            {
                Some(Outcome::Unchanged)
            }
            Some(_) if target.township && common.actor.confined_village().is_some() => {
                issues.error(
                    Some(Field::Name),
                    "这是镇级学法活动，已登记的考勤只能由组织者在考勤表中修改",
                );
                None
            }
            Some(m) => {
                let op = Op::UpdateAttendance {
                    id: m.id,
                    before: AttendanceRow {
                        status: m.status.clone(),
                        hours_credited: m.hours_credited,
                    },
                    after: row,
                };
                common.push(op);
                Some(Outcome::Updated)
            }
            None => {
                common.push(Op::CreateAttendance {
                    session: target.session,
                    person,
                    row,
                });
                Some(Outcome::Created)
            }
        }
    }

    /// The row's session and the attendee's village: the numbered sheet's session, or the
    /// one of the row's date, topic and village (planned when there is none).
    fn row_session(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues,
        sheet: &SheetTable,
        hours: Option<f64>,
    ) -> Option<RowSession> {
        match &self.signed {
            Some(None) => {
                issues.error(None, "签到表的活动编号在系统中不存在（或不属于本村），请从该学法活动页面重新下载签到表");
                None
            }
            Some(Some(s)) => {
                // The person's village: the column, else the session's, else the clerk's.
                let village = if issues.text(Field::Village).is_empty() {
                    common.actor.confined_village().or(s.village_id)
                } else {
                    common.village(issues, sheet, false)?
                };
                Some(RowSession {
                    session: Ref::Existing(s.id),
                    village,
                    hours: s.hours_credited,
                    township: s.village_id.is_none(),
                })
            }
            None => {
                let village = common.village(issues, sheet, false);
                let date = common.date(issues, sheet, Field::Date);
                let topic = issues.required_text(Field::Topic, "学习内容", TOPIC_MAX_CHARS);
                let word = issues.text(Field::SessionKind);
                let Some(kind) = SessionKind::from_word(&word) else {
                    issues.error(
                        Some(Field::SessionKind),
                        format!("“{word}” 不是可选的学习形式"),
                    );
                    return None;
                };
                let speaker = issues.bounded_text(Field::Speaker, "主讲人", NAME_MAX_CHARS);
                let (village, date, topic) = (village?, date?, topic?);
                // A rejected row plans nothing, not even its session.
                if !issues.errors.is_empty() {
                    return None;
                }
                let topic_key = topic_number(&mut self.topics, &topic);
                let session_village = self
                    .group_village
                    .get(&(date, topic_key))
                    .copied()
                    .unwrap_or(village);
                let found = match self.find_session(date, topic_key, session_village) {
                    Some((Ref::Existing(_), None, _))
                        if common.actor.confined_village().is_some() =>
                    {
                        issues.error(
                            Some(Field::Topic),
                            format!("“{topic}”是镇级学法活动，请从该活动页面下载签到表（带活动编号），签好后导入"),
                        );
                        return None;
                    }
                    Some(found) => found,
                    None => {
                        let start = date
                            .and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or(NaiveTime::MIN));
                        let draft = SessionDraft {
                            kind,
                            topic: topic.clone(),
                            starts_at: start,
                            ends_at: start + chrono::Duration::hours(1),
                            venue: String::new(),
                            speaker,
                            organizer: String::new(),
                            village_id: session_village,
                            hours_credited: hours.unwrap_or(1.0),
                            notes: "由签到表导入".into(),
                        };
                        let created = Ref::New(common.push(Op::CreateSession(Box::new(draft))));
                        let session_hours = hours.unwrap_or(1.0);
                        self.sessions
                            .insert((date, topic_key, session_village), (created, session_hours));
                        (created, session_village, session_hours)
                    }
                };
                let (session, found_village, session_hours) = found;
                Some(RowSession {
                    session,
                    village,
                    hours: session_hours,
                    township: found_village.is_none(),
                })
            }
        }
    }

    /// A stored or planned session of this date and topic: the one of this village, else
    /// the township's. Returns it with its village and the hours it credits.
    fn find_session(
        &self,
        date: NaiveDate,
        topic: u32,
        village: Option<i64>,
    ) -> Option<(Ref, Option<i64>, f64)> {
        let key = |v| (date, topic, v);
        self.sessions
            .get(&key(village))
            .map(|(r, h)| (*r, village, *h))
            .or_else(|| self.sessions.get(&key(None)).map(|(r, h)| (*r, None, *h)))
    }

    /// The attendee, by name in the village; a name nobody has is registered, with a warning.
    fn person(
        &mut self,
        common: &mut Common<'_>,
        issues: &mut RowIssues,
        village: Option<i64>,
        name: String,
    ) -> Option<Ref> {
        let mut matches = self.people.named(village, &name).map(|p| p.person);
        let (first, second, more) = (matches.next(), matches.next(), matches.count());
        match (first, second) {
            (Some(one), None) => Some(one),
            (None, _) => {
                issues.warn(
                    Some(Field::Name),
                    format!("名册中没有“{name}”，导入时新建该人员"),
                );
                let created = Ref::New(common.push(Op::CreatePerson(Box::new(PersonRecord {
                    name: name.clone(),
                    gender: None,
                    village_id: village,
                    post: String::new(),
                    phone: None,
                    id_number: None,
                    notes: String::new(),
                    categories: Vec::new(),
                }))));
                self.people.add(KnownPerson {
                    person: created,
                    village_id: village,
                    name,
                    phone: None,
                    id_number: None,
                });
                Some(created)
            }
            (Some(_), Some(_)) => {
                let count = 2 + more;
                issues.error(
                    Some(Field::Name),
                    format!("本村(社区)有 {count} 名同名人员“{name}”，请在名册中区分后再导入"),
                );
                None
            }
        }
    }
}

/// The 签到情况 column, or on a printed sheet the signature (and 请假/迟到 in 备注).
fn read_status(issues: &mut RowIssues) -> Option<AttendanceStatus> {
    if issues.row.cell(Field::AttendanceStatus).is_some() {
        let word = issues.text(Field::AttendanceStatus);
        let status = AttendanceStatus::from_word(&word);
        if status.is_none() {
            issues.error(
                Some(Field::AttendanceStatus),
                format!("“{word}” 不是有效的签到情况（出勤/迟到/请假/缺席）"),
            );
        }
        status
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
    }
}

/// The session village of each (date, topic) group of the sheet: the file's village when it
/// has one; else the one village all the group's attendees belong to; else township level.
fn group_villages(
    common: &Common<'_>,
    sheet: &SheetTable,
    year: i32,
    topics: &mut HashMap<String, u32>,
) -> HashMap<(NaiveDate, u32), Option<i64>> {
    let file_village = common.file_village(sheet);
    let mut attendees: HashMap<(NaiveDate, u32), Vec<Option<i64>>> = HashMap::new();
    for row in &sheet.rows {
        let Some((date, _)) = row
            .cell(Field::Date)
            .and_then(|c| cells::date(c.value, year).ok())
        else {
            continue;
        };
        let topic = topic_number(topics, row.shown(Field::Topic).trim());
        let shown = row.shown(Field::Village);
        let text = shown.trim();
        let village = if text.is_empty() {
            file_village
        } else if TOWNSHIP_WORDS.contains(&text) {
            None
        } else {
            match common.village_named(text) {
                Some(v) => Some(v.id),
                None => continue,
            }
        };
        attendees.entry((date, topic)).or_default().push(village);
    }
    attendees
        .into_iter()
        .map(|((date, topic), villages)| {
            let shared = villages
                .first()
                .copied()
                .flatten()
                .filter(|first| villages.iter().all(|v| *v == Some(*first)));
            ((date, topic), file_village.or(shared))
        })
        .collect()
}
