//! Dates as clerks write them: 2021-03-05, 2021/3/5, 2021.3.5, 2021年3月5日, 2021年3月5号,
//! 20210305, in full-width digits too, possibly followed by a time.

use chrono::NaiveDate;

use super::text::half_width;

/// How a clerk is asked to write a date.
pub const DATE_HINT: &str = "请写成 2021-03-05 或 2021年3月5日 这样的年月日";

/// A text that is no date, and why: the month or day that does not exist, else the hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{input}” 不是有效日期：{reason}")]
pub struct DateError {
    pub input: String,
    pub reason: String,
}

pub fn parse_cn_date(input: &str) -> Result<NaiveDate, DateError> {
    let invalid = |reason: Option<String>| DateError {
        input: input.trim().to_string(),
        reason: reason.unwrap_or_else(|| DATE_HINT.to_string()),
    };
    let half = half_width(input);
    let text = half.trim();
    // A time after the date (“2021-03-05 14:30”, “2021年3月5日下午”) is dropped.
    let date_part = match text.find('日').or_else(|| text.find('号')) {
        Some(end) => &text[..end],
        None => text.split([' ', 'T']).next().unwrap_or(text),
    };
    if date_part.len() == 8 && date_part.bytes().all(|b| b.is_ascii_digit()) {
        let (y, m, d) = (&date_part[..4], &date_part[4..6], &date_part[6..]);
        return ymd(y, m, d).map_err(invalid);
    }
    let mut parts = date_part.split(['-', '/', '.', '年', '月']).map(str::trim);
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d), None) if y.len() == 4 => ymd(y, m, d).map_err(invalid),
        _ => Err(invalid(None)),
    }
}

/// The years a session, activity, distribution or study can fall in, and the years the
/// pages can show (a date outside them is a typo, not a record no page would ever count).
pub const EVENT_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// A date of something that happened or is planned: as [`parse_cn_date`], and refused when
/// its year is far off (“0021-03-05” for 2021 would vanish from every year's figures).
pub fn parse_event_date(input: &str) -> Result<NaiveDate, DateError> {
    let date = parse_cn_date(input)?;
    check_event_year(date, input)
}

/// `date` (written as `input`) if its year is one of [`EVENT_YEARS`].
pub fn check_event_year(date: NaiveDate, input: &str) -> Result<NaiveDate, DateError> {
    let year = chrono::Datelike::year(&date);
    if EVENT_YEARS.contains(&year) {
        return Ok(date);
    }
    Err(DateError {
        input: input.trim().to_string(),
        reason: format!(
            "年份应在 {} 到 {} 之间，“{year:04}年”可能写错了，请检查",
            EVENT_YEARS.start(),
            EVENT_YEARS.end()
        ),
    })
}

/// The date of three digit strings; the error names the month or day that does not exist
/// (`None`: not numbers at all).
fn ymd(year: &str, month: &str, day: &str) -> Result<NaiveDate, Option<String>> {
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let (Some(y), Some(m), Some(d)) = (number(year), number(month), number(day)) else {
        return Err(None);
    };
    if !(1..=12).contains(&m) {
        return Err(Some(format!("月份应为 1 到 12，没有“{m}月”")));
    }
    NaiveDate::from_ymd_opt(y as i32, m, d).ok_or_else(|| Some(format!("{y}年{m}月没有{d}日")))
}

/// The days of a year, or of one month of it, as a half-open range [from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    /// `None` for a year or month that does not exist.
    pub fn of(year: i32, month: Option<u32>) -> Option<Period> {
        match month {
            None => Some(Period {
                from: NaiveDate::from_ymd_opt(year, 1, 1)?,
                to: NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
            }),
            Some(m) => {
                let from = NaiveDate::from_ymd_opt(year, m, 1)?;
                let to = if m == 12 {
                    NaiveDate::from_ymd_opt(year + 1, 1, 1)?
                } else {
                    NaiveDate::from_ymd_opt(year, m + 1, 1)?
                };
                Some(Period { from, to })
            }
        }
    }

    /// Every date anybody will record; for figures that are not about a period.
    pub fn everything() -> Period {
        // Four-digit years on both ends: SQLite compares dates as text.
        Period {
            from: NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default(),
            to: NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default(),
        }
    }

    /// The last day inside the period.
    pub fn last_day(&self) -> NaiveDate {
        self.to.pred_opt().unwrap_or(self.to)
    }

    /// The day the period's figures are counted to: its last day, or `today` while it runs
    /// (never before its first day).
    pub fn as_of(&self, today: NaiveDate) -> NaiveDate {
        self.last_day().min(today).max(self.from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_of_the_spec() {
        let expected = NaiveDate::from_ymd_opt(2021, 3, 5).unwrap();
        for text in [
            "2021-03-05",
            "2021/3/5",
            "2021.3.5",
            "2021年3月5日",
            "2021年3月5号",
            "20210305",
            "２０２１年３月５日",
            "2021-03-05 14:30:00",
            "2021年3月5日 下午",
        ] {
            assert_eq!(parse_cn_date(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn periods_are_half_open_and_december_rolls_over() {
        let year = Period::of(2021, None).unwrap();
        assert_eq!(year.from, NaiveDate::from_ymd_opt(2021, 1, 1).unwrap());
        assert_eq!(
            year.last_day(),
            NaiveDate::from_ymd_opt(2021, 12, 31).unwrap()
        );
        let december = Period::of(2021, Some(12)).unwrap();
        assert_eq!(december.to, NaiveDate::from_ymd_opt(2022, 1, 1).unwrap());
        assert_eq!(Period::of(2021, Some(13)), None);
    }

    #[test]
    fn impossible_dates_are_errors_not_guesses() {
        for text in ["2021.13.5", "2021-02-30", "3月5日", "明天", "", "21-3-5"] {
            let err = parse_cn_date(text).unwrap_err();
            assert!(err.to_string().contains("不是有效日期"), "{text}");
        }
    }

    #[test]
    fn a_wrong_date_says_what_is_wrong() {
        let message = |text: &str| parse_cn_date(text).unwrap_err().to_string();
        assert_eq!(
            message("2021-13-05"),
            "“2021-13-05” 不是有效日期：月份应为 1 到 12，没有“13月”"
        );
        assert_eq!(
            message("2021年2月30日"),
            "“2021年2月30日” 不是有效日期：2021年2月没有30日"
        );
        assert_eq!(
            message("20210431"),
            "“20210431” 不是有效日期：2021年4月没有31日"
        );
        assert_eq!(message("明天"), format!("“明天” 不是有效日期：{DATE_HINT}"));
    }

    #[test]
    fn an_event_in_a_far_off_year_is_refused() {
        let message = |text: &str| parse_event_date(text).unwrap_err().to_string();
        assert_eq!(
            message("0021-03-05"),
            "“0021-03-05” 不是有效日期：年份应在 2000 到 2100 之间，“0021年”可能写错了，请检查"
        );
        assert!(message("1999年12月31日").contains("“1999年”可能写错了"));
        assert!(message("2201/1/1").contains("“2201年”可能写错了"));
        for (text, year) in [
            ("2000-01-01", 2000),
            ("2021年3月5日", 2021),
            ("21001231", 2100),
        ] {
            assert_eq!(
                chrono::Datelike::year(&parse_event_date(text).unwrap()),
                year
            );
        }
        // Not dates at all still say how to write one.
        assert!(message("明天").contains(DATE_HINT));
    }
}
