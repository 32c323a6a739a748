//! Collects per-field messages while a form (or a spreadsheet row) is parsed, so every
//! wrong field is reported at once instead of the first one only.

use chrono::NaiveDate;

use super::dates::parse_event_date;
use super::numbers::{parse_hours, parse_whole_number};
use super::text::non_empty;

/// Field name → Chinese message, shown next to the field on the form.
pub type FieldErrors = std::collections::BTreeMap<String, String>;

#[derive(Debug, Default)]
pub struct Fields {
    pub errors: FieldErrors,
}

impl Fields {
    pub fn new() -> Self {
        Fields::default()
    }

    pub fn error(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.to_string())
            .or_insert_with(|| message.into());
    }

    /// Trimmed text, kept as typed (full-width punctuation in a topic stays); empty is an
    /// error when `required`; longer than `max_chars` is an error.
    pub fn text(
        &mut self,
        field: &str,
        label: &str,
        value: &str,
        required: bool,
        max_chars: usize,
    ) -> String {
        let text = value.trim_matches(|c: char| c.is_whitespace()).to_string();
        if required && text.is_empty() {
            self.error(field, format!("请填写{label}"));
        } else if text.chars().count() > max_chars {
            self.error(field, format!("{label}不能超过{max_chars}个字"));
        }
        text
    }

    pub fn date(&mut self, field: &str, label: &str, value: &str) -> Option<NaiveDate> {
        match non_empty(value) {
            None => {
                self.error(field, format!("请填写{label}"));
                None
            }
            Some(text) => parse_event_date(&text)
                .map_err(|e| self.error(field, e.to_string()))
                .ok(),
        }
    }

    /// A whole number of at least `min`.
    pub fn whole_number(&mut self, field: &str, label: &str, value: &str, min: i64) -> i64 {
        if non_empty(value).is_none() {
            self.error(field, format!("请填写{label}"));
            return 0;
        }
        match parse_whole_number(value) {
            Ok(n) if n >= min => n,
            Ok(_) => {
                self.error(field, format!("{label}至少为{min}"));
                0
            }
            Err(e) => {
                self.error(field, e.to_string());
                0
            }
        }
    }

    pub fn hours(&mut self, field: &str, label: &str, value: &str) -> f64 {
        parse_hours(value)
            .map_err(|e| self.error(field, format!("{label}：{e}")))
            .unwrap_or(0.0)
    }

    /// One value of a coded list, given by code (forms) or by Chinese label (spreadsheets).
    pub fn coded<T>(
        &mut self,
        field: &str,
        label: &str,
        value: &str,
        from_code: fn(&str) -> Option<T>,
        from_zh: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let text = non_empty(value)?;
        let found = from_code(&text).or_else(|| from_zh(&text));
        if found.is_none() {
            self.error(field, format!("“{text}” 不是可选的{label}"));
        }
        found
    }

    /// An optional reference to another record by id (a `<select>`); junk is an error.
    pub fn optional_id(&mut self, field: &str, label: &str, value: &str) -> Option<i64> {
        let text = non_empty(value)?;
        match text.parse() {
            Ok(id) => Some(id),
            Err(_) => {
                self.error(field, format!("所选{label}不存在"));
                None
            }
        }
    }

    pub fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_date_in_a_far_off_year_is_the_fields_error() {
        let mut f = Fields::new();
        assert_eq!(f.date("held_on", "活动日期", "0021-03-05"), None);
        assert!(
            f.errors["held_on"].contains("“0021年”可能写错了"),
            "{:?}",
            f.errors
        );
        let mut f = Fields::new();
        let day = f.date("held_on", "活动日期", "2021-03-05");
        assert_eq!(day, NaiveDate::from_ymd_opt(2021, 3, 5));
        assert!(f.errors.is_empty());
    }
}
