//! Numbers as clerks write them: “200份”, “２００”, “1,200”, “2.5小时”. Anything else is an
//! error, never a silent zero.

use super::text::to_half_width;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("“{0}” 不是有效的数字")]
    Invalid(String),
    #[error("“{0}” 超出合理范围（一条记录最多 {MAX_WHOLE_NUMBER}）")]
    TooLarge(String),
}

/// The largest quantity, head count or stock one record may hold (ten million): far beyond
/// any township's real figures, and small enough that a year's sums never overflow.
pub const MAX_WHOLE_NUMBER: i64 = 10_000_000;

/// Units that may trail a number; longer ones first so “人次” wins over “人”.
const UNITS: &[&str] = &[
    "学时", "小时", "人次", "份", "册", "张", "条", "本", "套", "人", "次", "场", "h", "H",
];

fn cleaned(input: &str) -> String {
    let half = to_half_width(input);
    let mut text: String = half
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，' && !c.is_whitespace())
        .collect();
    for unit in UNITS {
        if let Some(stripped) = text.strip_suffix(unit) {
            text = stripped.to_string();
            break;
        }
    }
    text
}

/// The unit word a number was written with (“120本” → 本), if any.
pub fn written_unit(input: &str) -> Option<&'static str> {
    let half = to_half_width(input);
    let text = half.trim();
    UNITS
        .iter()
        .copied()
        .find(|unit| text.len() > unit.len() && text.ends_with(unit))
}

/// A whole number such as a quantity or a head count, at most `MAX_WHOLE_NUMBER`.
pub fn parse_whole_number(input: &str) -> Result<i64, NumberError> {
    let n = parse_unbounded(input)?;
    if n > MAX_WHOLE_NUMBER {
        return Err(NumberError::TooLarge(input.trim().to_string()));
    }
    Ok(n)
}

fn parse_unbounded(input: &str) -> Result<i64, NumberError> {
    let text = cleaned(input);
    let too_large = || NumberError::TooLarge(input.trim().to_string());
    let invalid = || NumberError::Invalid(input.trim().to_string());
    // Digits only but too many for an i64: still a number, just far too large.
    if text.len() > 18 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(too_large());
    }
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        // “200.0” from a spreadsheet cell formatted as a number is still a whole number.
        return match text.strip_suffix(".0") {
            Some(whole) if !whole.is_empty() && whole.bytes().all(|b| b.is_ascii_digit()) => {
                whole.parse().map_err(|_| invalid())
            }
            _ => Err(invalid()),
        };
    }
    text.parse().map_err(|_| invalid())
}

/// Hours, with up to one decimal place in practice (“1.5”, “2小时”).
pub fn parse_hours(input: &str) -> Result<f64, NumberError> {
    let text = cleaned(input);
    let invalid = || NumberError::Invalid(input.trim().to_string());
    let valid_shape = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && text.bytes().filter(|b| *b == b'.').count() <= 1
        && !text.starts_with('.');
    if !valid_shape {
        return Err(invalid());
    }
    let hours: f64 = text.parse().map_err(|_| invalid())?;
    if hours.is_finite() && hours <= 24.0 {
        Ok(hours)
    } else {
        Err(invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_a_number_was_written_with() {
        assert_eq!(written_unit("120本"), Some("本"));
        assert_eq!(written_unit(" １２０ 人次 "), Some("人次"));
        assert_eq!(written_unit("120"), None);
        assert_eq!(written_unit("本"), None);
    }

    #[test]
    fn quantities_in_every_spelling_of_the_spec() {
        for (text, expected) in [
            ("200", 200),
            ("200份", 200),
            ("２００", 200),
            ("1,200", 1200),
            ("1，200 册", 1200),
            ("35人次", 35),
            ("200.0", 200),
        ] {
            assert_eq!(parse_whole_number(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn anything_else_is_an_error_not_zero() {
        for text in ["", "约200", "两百", "-5", "2.5", "200箱", "1e3"] {
            assert!(parse_whole_number(text).is_err(), "{text}");
        }
    }

    #[test]
    fn absurd_quantities_are_refused_before_they_can_overflow_a_sum() {
        assert_eq!(parse_whole_number("10000000"), Ok(MAX_WHOLE_NUMBER));
        for text in ["10000001", "5000000000000000000", "99999999999999999999999"] {
            assert_eq!(
                parse_whole_number(text),
                Err(NumberError::TooLarge(text.into())),
                "{text}"
            );
        }
    }

    #[test]
    fn hours_accept_decimals_and_units() {
        assert_eq!(parse_hours("1.5"), Ok(1.5));
        assert_eq!(parse_hours("2小时"), Ok(2.0));
        assert_eq!(parse_hours("1.5学时"), Ok(1.5));
        assert_eq!(parse_hours("２h"), Ok(2.0));
        for text in ["", ".5", "1.2.3", "三", "25"] {
            assert!(parse_hours(text).is_err(), "{text}");
        }
    }
}
