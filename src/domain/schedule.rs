//! A session as entered on the form, and recurring series: weekly on chosen weekdays,
//! monthly on a day of the month or on the Nth weekday, until a date or N times.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use serde::{Deserialize, Serialize};

use super::fields::FieldErrors;
use super::fields::Fields;
use super::material::{NOTES_MAX_CHARS, SHORT_TEXT_MAX_CHARS};
use super::person::NAME_MAX_CHARS;
use super::session::SessionKind;
use super::text::non_empty;

pub const TOPIC_MAX_CHARS: usize = 200;
/// A series never makes more than this many sessions (two years of weekly meetings).
pub const MAX_OCCURRENCES: usize = 110;

#[derive(Debug, Clone, Default)]
pub struct SessionInput {
    pub kind: String,
    pub topic: String,
    pub date: String,
    pub start_time: String,
    pub end_time: String,
    pub venue: String,
    pub speaker: String,
    pub organizer: String,
    pub village_id: Option<i64>,
    /// Empty: the duration, rounded to half hours.
    pub hours_credited: String,
    pub notes: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionDraft {
    pub kind: SessionKind,
    pub topic: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub venue: String,
    pub speaker: String,
    pub organizer: String,
    pub village_id: Option<i64>,
    pub hours_credited: f64,
    pub notes: String,
}

impl SessionDraft {
    /// The same session on another day, at the same times.
    pub fn on(&self, day: NaiveDate) -> SessionDraft {
        SessionDraft {
            starts_at: day.and_time(self.starts_at.time()),
            ends_at: day.and_time(self.ends_at.time()),
            ..self.clone()
        }
    }

    pub fn overlaps(&self, starts_at: NaiveDateTime, ends_at: NaiveDateTime) -> bool {
        self.starts_at < ends_at && starts_at < self.ends_at
    }
}

/// Hours credited by default: the duration rounded to the nearest half hour.
pub fn default_hours(starts_at: NaiveDateTime, ends_at: NaiveDateTime) -> f64 {
    let minutes = (ends_at - starts_at).num_minutes().max(0) as f64;
    (minutes / 30.0).round() / 2.0
}

fn parse_time(f: &mut Fields, field: &str, label: &str, value: &str) -> Option<NaiveTime> {
    let text = non_empty(value)?;
    let text = text.replace('：', ":");
    NaiveTime::parse_from_str(&text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(&text, "%H:%M:%S"))
        .map_err(|_| f.error(field, format!("{label}“{text}”不是有效时间，请写成 09:00")))
        .ok()
}

impl SessionInput {
    pub fn parse(&self) -> Result<SessionDraft, FieldErrors> {
        let mut f = Fields::new();
        let kind = f.coded(
            "kind",
            "学法类型",
            &self.kind,
            SessionKind::from_code,
            SessionKind::from_zh,
        );
        if kind.is_none() && !f.errors.contains_key("kind") {
            f.error("kind", "请选择学法类型");
        }
        let topic = f.text("topic", "学习内容", &self.topic, true, TOPIC_MAX_CHARS);
        let date = f.date("date", "日期", &self.date);
        let start = parse_time(&mut f, "start_time", "开始时间", &self.start_time);
        let end = parse_time(&mut f, "end_time", "结束时间", &self.end_time);
        if start.is_none() && !f.errors.contains_key("start_time") {
            f.error("start_time", "请填写开始时间");
        }
        if end.is_none() && !f.errors.contains_key("end_time") {
            f.error("end_time", "请填写结束时间");
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e <= s {
                f.error("end_time", "结束时间应晚于开始时间");
            }
        }
        let venue = f.text("venue", "地点", &self.venue, false, SHORT_TEXT_MAX_CHARS);
        let speaker = f.text("speaker", "主讲人", &self.speaker, false, NAME_MAX_CHARS);
        let organizer = f.text(
            "organizer",
            "组织者",
            &self.organizer,
            false,
            NAME_MAX_CHARS,
        );
        let notes = f.text("notes", "备注", &self.notes, false, NOTES_MAX_CHARS);
        let hours = non_empty(&self.hours_credited).map(|h| f.hours("hours_credited", "学时", &h));
        let (Some(kind), Some(date), Some(start), Some(end)) = (kind, date, start, end) else {
            return Err(f.errors);
        };
        let starts_at = date.and_time(start);
        let ends_at = date.and_time(end);
        f.finish(SessionDraft {
            kind,
            topic,
            starts_at,
            ends_at,
            venue,
            speaker,
            organizer,
            village_id: self.village_id,
            hours_credited: hours.unwrap_or_else(|| default_hours(starts_at, ends_at)),
            notes,
        })
    }
}

/// How a series repeats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "repeat", rename_all = "snake_case")]
pub enum Recurrence {
    /// Every week on these weekdays (Monday = 1 … Sunday = 7).
    Weekly { weekdays: Vec<u32> },
    /// Every month on this day; months without it (31st) are skipped.
    MonthlyDay { day: u32 },
    /// Every month on the Nth (1–5) weekday; months without a 5th are skipped.
    MonthlyNthWeekday { nth: u32, weekday: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeriesEnd {
    Until(NaiveDate),
    Count(usize),
}

fn weekday_of(n: u32) -> Option<Weekday> {
    match n {
        1 => Some(Weekday::Mon),
        2 => Some(Weekday::Tue),
        3 => Some(Weekday::Wed),
        4 => Some(Weekday::Thu),
        5 => Some(Weekday::Fri),
        6 => Some(Weekday::Sat),
        7 => Some(Weekday::Sun),
        _ => None,
    }
}

pub const WEEKDAY_LABELS: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];

/// The Nth given weekday of a month, if the month has one.
pub fn nth_weekday(year: i32, month: u32, nth: u32, weekday: Weekday) -> Option<NaiveDate> {
    let date = NaiveDate::from_weekday_of_month_opt(year, month, weekday, nth as u8)?;
    (date.month() == month).then_some(date)
}

fn next_month(year: i32, month: u32) -> (i32, u32) {
    if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    }
}

impl Recurrence {
    /// The dates of the series from `first` (included when it matches the rule).
    pub fn dates(&self, first: NaiveDate, end: SeriesEnd) -> Vec<NaiveDate> {
        let (until, count) = match end {
            SeriesEnd::Until(d) => (d, MAX_OCCURRENCES),
            SeriesEnd::Count(n) => (first + Duration::days(366 * 3), n.min(MAX_OCCURRENCES)),
        };
        let mut dates = Vec::new();
        let mut push = |d: NaiveDate| -> bool {
            if d > until || dates.len() >= count {
                return false;
            }
            if d >= first {
                dates.push(d);
            }
            true
        };
        match self {
            Recurrence::Weekly { weekdays } => {
                let days: Vec<Weekday> = weekdays.iter().filter_map(|n| weekday_of(*n)).collect();
                if days.is_empty() {
                    return Vec::new();
                }
                let mut day = first;
                while day <= until {
                    if days.contains(&day.weekday()) && !push(day) {
                        break;
                    }
                    day += Duration::days(1);
                }
            }
            Recurrence::MonthlyDay { day } => {
                let (mut year, mut month) = (first.year(), first.month());
                while NaiveDate::from_ymd_opt(year, month, 1).is_some_and(|d| d <= until) {
                    if let Some(d) = NaiveDate::from_ymd_opt(year, month, *day) {
                        if !push(d) {
                            break;
                        }
                    }
                    (year, month) = next_month(year, month);
                }
            }
            Recurrence::MonthlyNthWeekday { nth, weekday } => {
                let Some(weekday) = weekday_of(*weekday) else {
                    return Vec::new();
                };
                let (mut year, mut month) = (first.year(), first.month());
                while NaiveDate::from_ymd_opt(year, month, 1).is_some_and(|d| d <= until) {
                    if let Some(d) = nth_weekday(year, month, *nth, weekday) {
                        if !push(d) {
                            break;
                        }
                    }
                    (year, month) = next_month(year, month);
                }
            }
        }
        dates
    }

    /// How the rule reads in Chinese, e.g. 每月第一个周一.
    pub fn describe(&self) -> String {
        let weekday = |n: u32| WEEKDAY_LABELS.get(n as usize - 1).copied().unwrap_or("?");
        match self {
            Recurrence::Weekly { weekdays } => format!(
                "每周{}",
                weekdays
                    .iter()
                    .map(|d| weekday(*d).trim_start_matches('周'))
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            Recurrence::MonthlyDay { day } => format!("每月{day}日"),
            Recurrence::MonthlyNthWeekday { nth, weekday: w } => {
                let ordinal = ["一", "二", "三", "四", "五"]
                    .get(*nth as usize - 1)
                    .copied()
                    .unwrap_or("?");
                format!("每月第{ordinal}个{}", weekday(*w))
            }
        }
    }
}

/// The repeat part of the session form.
#[derive(Debug, Clone, Default)]
pub struct RecurrenceInput {
    /// "" (once), "weekly", "monthly_day", "monthly_nth".
    pub repeat: String,
    pub weekdays: Vec<String>,
    pub month_day: String,
    pub nth: String,
    pub nth_weekday: String,
    /// "until" or "count".
    pub end: String,
    pub until: String,
    pub count: String,
}

impl RecurrenceInput {
    /// `None` for a single session.
    pub fn parse(&self) -> Result<Option<(Recurrence, SeriesEnd)>, FieldErrors> {
        let mut f = Fields::new();
        let number = |f: &mut Fields, field: &str, label: &str, value: &str, max: u32| -> u32 {
            let n = f.whole_number(field, label, value, 1);
            if n > max as i64 {
                f.error(field, format!("{label}不能大于{max}"));
            }
            n as u32
        };
        let rule = match self.repeat.trim() {
            "" | "once" => return Ok(None),
            "weekly" => {
                let weekdays: Vec<u32> = self
                    .weekdays
                    .iter()
                    .filter_map(|d| d.trim().parse().ok())
                    .filter(|d| (1..=7).contains(d))
                    .collect();
                if weekdays.is_empty() {
                    f.error("weekdays", "请选择每周的哪几天");
                }
                Recurrence::Weekly { weekdays }
            }
            "monthly_day" => Recurrence::MonthlyDay {
                day: number(&mut f, "month_day", "每月几号", &self.month_day, 31),
            },
            "monthly_nth" => Recurrence::MonthlyNthWeekday {
                nth: number(&mut f, "nth", "第几个", &self.nth, 5),
                weekday: number(&mut f, "nth_weekday", "星期几", &self.nth_weekday, 7),
            },
            _ => {
                f.error("repeat", "请选择重复方式");
                return Err(f.errors);
            }
        };
        let end = if self.end.trim() == "count" {
            let n = f.whole_number("count", "次数", &self.count, 1);
            if n as usize > MAX_OCCURRENCES {
                f.error("count", format!("一个系列最多{MAX_OCCURRENCES}次"));
            }
            SeriesEnd::Count(n as usize)
        } else {
            match f.date("until", "截止日期", &self.until) {
                Some(d) => SeriesEnd::Until(d),
                None => return Err(f.errors),
            }
        };
        f.finish(Some((rule, end)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekly_on_two_weekdays_across_a_month_boundary() {
        // Tuesdays and Thursdays from Tue 2021-03-23 until Fri 2021-04-09.
        let rule = Recurrence::Weekly {
            weekdays: vec![2, 4],
        };
        let dates = rule.dates(d(2021, 3, 23), SeriesEnd::Until(d(2021, 4, 9)));
        assert_eq!(
            dates,
            vec![
                d(2021, 3, 23),
                d(2021, 3, 25),
                d(2021, 3, 30),
                d(2021, 4, 1),
                d(2021, 4, 6),
                d(2021, 4, 8)
            ]
        );
        // Starting on a day that is not in the rule does not include that day.
        let dates = rule.dates(d(2021, 3, 24), SeriesEnd::Count(3));
        assert_eq!(dates, vec![d(2021, 3, 25), d(2021, 3, 30), d(2021, 4, 1)]);
    }

    #[test]
    fn monthly_first_monday_for_a_year() {
        let rule = Recurrence::MonthlyNthWeekday { nth: 1, weekday: 1 };
        let dates = rule.dates(d(2021, 1, 1), SeriesEnd::Until(d(2021, 12, 31)));
        assert_eq!(dates.len(), 12);
        assert_eq!(dates[0], d(2021, 1, 4));
        assert_eq!(dates[11], d(2021, 12, 6));
        assert!(dates
            .iter()
            .all(|x| x.weekday() == Weekday::Mon && x.day() <= 7));
        assert_eq!(rule.describe(), "每月第一个周一");
    }

    #[test]
    fn a_month_without_a_fifth_monday_is_skipped() {
        // 2021: fifth Mondays only in March (29th), May (31st), August (30th), November (29th).
        let rule = Recurrence::MonthlyNthWeekday { nth: 5, weekday: 1 };
        let dates = rule.dates(d(2021, 1, 1), SeriesEnd::Until(d(2021, 12, 31)));
        assert_eq!(
            dates,
            vec![
                d(2021, 3, 29),
                d(2021, 5, 31),
                d(2021, 8, 30),
                d(2021, 11, 29)
            ]
        );
        let four = rule.dates(d(2021, 1, 1), SeriesEnd::Count(4));
        assert_eq!(four.len(), 4);
    }

    #[test]
    fn monthly_day_skips_short_months_and_counts() {
        let rule = Recurrence::MonthlyDay { day: 31 };
        let dates = rule.dates(d(2021, 1, 1), SeriesEnd::Count(3));
        assert_eq!(dates, vec![d(2021, 1, 31), d(2021, 3, 31), d(2021, 5, 31)]);
    }

    #[test]
    fn a_series_is_capped() {
        let rule = Recurrence::Weekly {
            weekdays: vec![1, 2, 3, 4, 5, 6, 7],
        };
        let dates = rule.dates(d(2021, 1, 1), SeriesEnd::Until(d(2030, 1, 1)));
        assert_eq!(dates.len(), MAX_OCCURRENCES);
    }

    #[test]
    fn a_session_needs_an_end_after_its_start_and_defaults_its_hours() {
        let input = SessionInput {
            kind: "pre_meeting".into(),
            topic: "学习《中华人民共和国宪法》".into(),
            date: "2021-03-01".into(),
            start_time: "09:00".into(),
            end_time: "10:40".into(),
            ..SessionInput::default()
        };
        let draft = input.parse().unwrap();
        assert_eq!(draft.hours_credited, 1.5);
        let wrong = SessionInput {
            end_time: "08:00".into(),
            ..input.clone()
        };
        assert_eq!(
            wrong.parse().unwrap_err()["end_time"],
            "结束时间应晚于开始时间"
        );
        let explicit = SessionInput {
            hours_credited: "2".into(),
            ..input
        };
        assert_eq!(explicit.parse().unwrap().hours_credited, 2.0);
    }

    #[test]
    fn sessions_that_only_touch_do_not_overlap() {
        let input = SessionInput {
            kind: "lecture".into(),
            topic: "讲座".into(),
            date: "2021-03-01".into(),
            start_time: "09:00".into(),
            end_time: "10:00".into(),
            ..SessionInput::default()
        };
        let a = input.parse().unwrap();
        let at = |h: u32, m: u32| d(2021, 3, 1).and_hms_opt(h, m, 0).unwrap();
        assert!(!a.overlaps(at(10, 0), at(11, 0)));
        assert!(!a.overlaps(at(8, 0), at(9, 0)));
        assert!(a.overlaps(at(9, 59), at(11, 0)));
        assert!(a.overlaps(at(8, 0), at(12, 0)));
    }
}
