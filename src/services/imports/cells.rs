//! Cell values to typed values, with the Chinese message a clerk sees when one is wrong.

use chrono::NaiveDate;

use crate::domain::dates::{check_event_year, parse_cn_date, DATE_HINT, EVENT_YEARS};
use crate::domain::numbers::{parse_hours, parse_whole_number, NumberError, MAX_WHOLE_NUMBER};
use crate::domain::text::to_half_width;
use crate::sheets::read::{excel_serial_to_datetime, CellValue};

/// The date of something that happened (a session, activity, distribution or study):
/// [`any_date`], in one of `EVENT_YEARS` however it was written (a typo such as 0021, a
/// year-less date in a sheet titled with a far-off year, 19850305 typed as a number).
pub fn date(value: &CellValue, default_year: i32) -> Result<(NaiveDate, bool), String> {
    let (date, guessed) = any_date(value, default_year)?;
    // The cell is shown only for the message (most rows have none).
    if EVENT_YEARS.contains(&chrono::Datelike::year(&date)) {
        return Ok((date, guessed));
    }
    check_event_year(date, &value.shown())
        .map(|d| (d, guessed))
        .map_err(|e| e.to_string())
}

/// A date cell: an Excel date, a serial number in a date column, or text in any spelling
/// of the spec. A date without a year takes `default_year`; the bool says that happened.
pub fn any_date(value: &CellValue, default_year: i32) -> Result<(NaiveDate, bool), String> {
    match value {
        CellValue::DateTime(d) => Ok((d.date(), false)),
        CellValue::Number(n) => excel_serial_to_datetime(*n)
            // A serial of a plausible year is a date; anything else may be 20210305.
            .filter(|d| EVENT_YEARS.contains(&chrono::Datelike::year(d)))
            .map(|d| (d.date(), false))
            .or_else(|| {
                let text = format!("{}", *n as i64);
                parse_cn_date(&text).ok().map(|d| (d, false))
            })
            .ok_or_else(|| format!("“{}” 不是有效日期：{DATE_HINT}", value.display())),
        CellValue::Text(text) => match parse_cn_date(text) {
            Ok(d) => Ok((d, false)),
            Err(e) => {
                let half = to_half_width(text);
                let trimmed = half.trim();
                if let Some((m, rest)) = trimmed.split_once('月') {
                    let d = rest.trim_end_matches(['日', '号']);
                    let date = m
                        .parse()
                        .ok()
                        .zip(d.parse().ok())
                        .and_then(|(m, d)| NaiveDate::from_ymd_opt(default_year, m, d));
                    if let Some(date) = date {
                        return Ok((date, true));
                    }
                }
                Err(e.to_string())
            }
        },
        CellValue::Empty => Err("缺少日期".into()),
        CellValue::Bool(_) => Err(format!("“{}” 不是有效日期：{DATE_HINT}", value.display())),
    }
}

pub fn whole_number(value: &CellValue) -> Result<i64, String> {
    match value {
        CellValue::Number(n) if n.fract() == 0.0 && *n >= 0.0 && *n <= MAX_WHOLE_NUMBER as f64 => {
            Ok(*n as i64)
        }
        CellValue::Number(n) if n.fract() == 0.0 && *n > MAX_WHOLE_NUMBER as f64 => {
            Err(NumberError::TooLarge(value.display()).to_string())
        }
        CellValue::Number(_) => Err(format!("“{}” 不是整数", value.display())),
        CellValue::Text(t) => parse_whole_number(t).map_err(|e| e.to_string()),
        _ => Err(format!("“{}” 不是有效的数字", value.display())),
    }
}

pub fn hours(value: &CellValue) -> Result<f64, String> {
    match value {
        CellValue::Number(n) if (0.0..=24.0).contains(n) => Ok(*n),
        CellValue::Text(t) => parse_hours(t).map_err(|e| e.to_string()),
        _ => Err(format!("“{}” 不是有效的学时", value.display())),
    }
}

/// Words in one cell separated by 、 , ， ; ； / or spaces.
pub fn words(text: &str) -> Vec<String> {
    text.split(['、', ',', '，', ';', '；', '/', ' ', '\u{3000}'])
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_every_kind_of_cell() {
        let expected = NaiveDate::from_ymd_opt(2021, 3, 5).unwrap();
        assert_eq!(
            date(&CellValue::Number(44260.0), 2020),
            Ok((expected, false))
        );
        assert_eq!(
            date(&CellValue::Number(20210305.0), 2020),
            Ok((expected, false))
        );
        assert_eq!(
            date(&CellValue::Text("２０２１年３月５日".into()), 2020),
            Ok((expected, false))
        );
        assert_eq!(
            date(&CellValue::Text("3月5日".into()), 2021),
            Ok((expected, true))
        );
        assert!(date(&CellValue::Text("2021.13.5".into()), 2021)
            .unwrap_err()
            .contains("不是有效日期"));
    }

    #[test]
    fn a_date_in_a_far_off_year_is_refused_however_it_came() {
        let far = |value: CellValue, default_year: i32| date(&value, default_year).unwrap_err();
        // A typo in a text date, an Excel date cell of 1900, a number that reads as 1985,
        // a year-less date in a sheet whose title names a far-off year.
        assert!(far(CellValue::Text("0021-03-05".into()), 2021).contains("“0021年”"));
        let cell_1900 = NaiveDate::from_ymd_opt(1900, 3, 1)
            .unwrap()
            .and_time(chrono::NaiveTime::MIN);
        let message = far(CellValue::DateTime(cell_1900), 2021);
        assert!(
            message.contains("“1900-03-01”") && message.contains("2000 到 2100"),
            "{message}"
        );
        assert!(far(CellValue::Number(19850305.0), 2021).contains("“1985年”"));
        assert!(far(CellValue::Text("3月5日".into()), 221).contains("“0221年”"));
        let edge = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
        assert_eq!(
            date(
                &CellValue::DateTime(edge.and_time(chrono::NaiveTime::MIN)),
                2021
            ),
            Ok((edge, false))
        );
        // Any date at all, for what is not an event (a 法律明白人's 认定日期 of 1998).
        let certified = NaiveDate::from_ymd_opt(1998, 5, 4).unwrap();
        assert_eq!(
            any_date(&CellValue::Text("1998-05-04".into()), 2021),
            Ok((certified, false))
        );
    }

    #[test]
    fn numbers_and_words() {
        assert_eq!(whole_number(&CellValue::Number(200.0)), Ok(200));
        assert_eq!(whole_number(&CellValue::Text("1,200份".into())), Ok(1200));
        assert!(whole_number(&CellValue::Number(2.5)).is_err());
        assert_eq!(
            words("青少年、外出务工人员，企业职工 / 群众"),
            vec!["青少年", "外出务工人员", "企业职工", "群众"]
        );
    }
}
