//! Cell values to typed values, with the Chinese message a clerk sees when one is wrong.

use chrono::NaiveDate;

use crate::domain::dates::{
    check_event_year, parse_cn_date, parse_event_date, DATE_HINT, EVENT_YEARS,
};
use crate::domain::numbers::{parse_hours, parse_whole_number, NumberError, MAX_WHOLE_NUMBER};
use crate::domain::text::to_half_width;
use crate::sheets::read::{excel_serial_to_datetime, CellValue};

/// A date cell: an Excel date, a serial number in a date column, or text in any spelling
/// of the spec. A date without a year takes `default_year`; the bool says that happened.
/// Its year must be one of `EVENT_YEARS`, in whatever form the date came.
pub fn date(value: &CellValue, default_year: i32) -> Result<(NaiveDate, bool), String> {
    match value {
        CellValue::DateTime(d) => check_event_year(d.date(), &value.display())
            .map(|d| (d, false))
            .map_err(|e| e.to_string()),
        CellValue::Number(n) => excel_serial_to_datetime(*n)
            .filter(|d| EVENT_YEARS.contains(&chrono::Datelike::year(d)))
            .map(|d| (d.date(), false))
            .or_else(|| {
                // 20210305 typed as a number.
                let text = format!("{}", *n as i64);
                parse_event_date(&text).ok().map(|d| (d, false))
            })
            .ok_or_else(|| format!("“{}” 不是有效日期：{DATE_HINT}", value.display())),
        CellValue::Text(text) => match parse_cn_date(text) {
            Ok(d) => check_event_year(d, text)
                .map(|d| (d, false))
                .map_err(|e| e.to_string()),
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
        let far = |value: CellValue| date(&value, 2021).unwrap_err();
        // A typo in a text date, an Excel date cell of 1900, a number that reads as 0021.
        assert!(far(CellValue::Text("0021-03-05".into())).contains("没有“0021年”"));
        let cell_1900 = NaiveDate::from_ymd_opt(1900, 3, 1)
            .unwrap()
            .and_time(chrono::NaiveTime::MIN);
        let message = far(CellValue::DateTime(cell_1900));
        assert!(
            message.contains("“1900-03-01”") && message.contains("1990 到 2100"),
            "{message}"
        );
        assert!(far(CellValue::Number(210305.0)).contains("不是有效日期"));
        let edge = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap();
        assert_eq!(
            date(
                &CellValue::DateTime(edge.and_time(chrono::NaiveTime::MIN)),
                2021
            ),
            Ok((edge, false))
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
