//! The year (and month) a list or page is about, from its query string. A missing or
//! impossible year means the current one; a month outside 1–12 means the whole year.

use chrono::{Datelike, Local, NaiveDate};
use serde_json::Value;

use crate::domain::dates::{Period, EVENT_YEARS};

pub fn today() -> NaiveDate {
    Local::now().date_naive()
}

pub fn chosen_year(year: Option<i32>) -> i32 {
    match year {
        Some(y) if EVENT_YEARS.contains(&y) => y,
        _ => today().year(),
    }
}

pub fn chosen_month(month: Option<u32>) -> Option<u32> {
    month.filter(|m| (1..=12).contains(m))
}

/// The period of a chosen year and month; both are already in range.
pub fn period_of(year: i32, month: Option<u32>) -> Period {
    Period::of(year, month)
        .unwrap_or_else(|| Period::of(today().year(), None).unwrap_or_else(Period::everything))
}

/// Years offered in the selector: a few back from next year.
pub fn year_choices() -> Vec<i32> {
    let this = today().year();
    (2019..=this + 1).rev().collect()
}

/// A list's echoed filter (an object: a view struct or JSON) as a query string, for the
/// pager and export.
pub fn query_string(echo: &impl serde::Serialize) -> String {
    let mut pairs = url::form_urlencoded::Serializer::new(String::new());
    if let Ok(Value::Object(map)) = serde_json::to_value(echo) {
        for (key, value) in map {
            let text = match value {
                Value::Null => String::new(),
                Value::String(s) => s,
                other => other.to_string(),
            };
            pairs.append_pair(&key, &text);
        }
    }
    pairs.finish()
}
