//! Phone numbers: a mainland mobile number or a landline with area code.

use std::fmt;

use super::text::to_half_width;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("电话号码格式不正确：手机号为1开头的11位数字，座机号如 0827-1234567")]
    Invalid,
}

impl Phone {
    /// Accepts `13812345678`, `+86 138 1234 5678`, `0827-7212345`, `(0827)7212345`,
    /// full-width digits included. Stores mobiles as 11 digits, landlines as `AREA-NUMBER`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let half = to_half_width(input);
        let mut digits: String = half
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        if let Some(rest) = digits.strip_prefix("+86") {
            digits = rest.to_string();
        }
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(PhoneError::Invalid);
        }
        let bytes = digits.as_bytes();
        if digits.len() == 11 && bytes[0] == b'1' && (b'3'..=b'9').contains(&bytes[1]) {
            return Ok(Phone(digits));
        }
        // Landline: area code 0XX or 0XXX, then a 7- or 8-digit number.
        if bytes.first() == Some(&b'0') && (10..=12).contains(&digits.len()) {
            let area_len = if half.contains('-') || half.contains(')') {
                half.split(['-', ')'])
                    .next()
                    .map(|a| a.trim_start_matches('(').trim().len())
                    .unwrap_or(4)
            } else if digits.len() == 12 || digits.starts_with("01") || digits.starts_with("02") {
                if digits.len() == 12 {
                    4
                } else {
                    3
                }
            } else {
                4
            };
            if (3..=4).contains(&area_len) && (7..=8).contains(&(digits.len() - area_len)) {
                return Ok(Phone(format!(
                    "{}-{}",
                    &digits[..area_len],
                    &digits[area_len..]
                )));
            }
        }
        Err(PhoneError::Invalid)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, which self check-in asks for.
    pub fn last_four(&self) -> &str {
        &self.0[self.0.len() - 4..]
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_in_usual_spellings() {
        for input in [
            "13812345678",
            "138 1234 5678",
            "+86 13812345678",
            "１３８１２３４５６７８",
        ] {
            assert_eq!(Phone::parse(input).expect(input).as_str(), "13812345678");
        }
    }

    #[test]
    fn landlines_keep_their_area_code() {
        assert_eq!(
            Phone::parse("0827-7212345").unwrap().as_str(),
            "0827-7212345"
        );
        assert_eq!(
            Phone::parse("(028)12345678").unwrap().as_str(),
            "028-12345678"
        );
        assert_eq!(
            Phone::parse("08277212345").unwrap().as_str(),
            "0827-7212345"
        );
    }

    #[test]
    fn nonsense_is_refused() {
        for input in [
            "12345",
            "1381234567",
            "23812345678",
            "电话",
            "138-1234-567a",
        ] {
            assert!(Phone::parse(input).is_err(), "{input} should be refused");
        }
    }

    #[test]
    fn last_four_digits() {
        assert_eq!(Phone::parse("13812345678").unwrap().last_four(), "5678");
    }
}
