//! Resident identity card number (公民身份号码), GB 11643-1999.

use std::fmt;

use chrono::{Local, NaiveDate};

use super::text::to_half_width;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// A valid 18-character ID number: 17 digits and a check character (digit or `X`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    #[error("身份证号是15位旧号码，请填写18位的新身份证号")]
    OldFifteenDigit,
    #[error("身份证号应为18位（现为{0}位）")]
    WrongLength(usize),
    #[error("身份证号前17位只能是数字，最后一位是数字或X")]
    BadCharacter,
    #[error("身份证号中的出生日期不存在")]
    ImpossibleBirthDate,
    #[error("身份证号校验位不正确，请核对号码")]
    WrongChecksum,
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<Self, IdNumberError> {
        let cleaned: String = to_half_width(input)
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let length = cleaned.chars().count();
        if length == 15 && cleaned.chars().all(|c| c.is_ascii_digit()) {
            return Err(IdNumberError::OldFifteenDigit);
        }
        if length != 18 {
            return Err(IdNumberError::WrongLength(length));
        }
        let bytes = cleaned.as_bytes();
        if !bytes[..17].iter().all(u8::is_ascii_digit)
            || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
        {
            return Err(IdNumberError::BadCharacter);
        }
        if birth_date(&cleaned).is_none() {
            return Err(IdNumberError::ImpossibleBirthDate);
        }
        if check_char(&cleaned[..17]) != char::from(bytes[17]) {
            return Err(IdNumberError::WrongChecksum);
        }
        Ok(IdNumber(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn masked(&self) -> String {
        mask(&self.0)
    }
}

impl fmt::Display for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shows the first 6 and the last 4 characters only: `511921********123X`. Works on any
/// stored text, so that nothing unmasked slips out even for odd legacy values.
pub fn mask(id_number: &str) -> String {
    let chars: Vec<char> = id_number.chars().collect();
    if chars.len() <= 10 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..6].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 10))
}

/// The check character for the first 17 digits.
pub fn check_char(first_17_digits: &str) -> char {
    let sum: u32 = first_17_digits
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

fn birth_date(id: &str) -> Option<NaiveDate> {
    let year: i32 = id.get(6..10)?.parse().ok()?;
    let month: u32 = id.get(10..12)?.parse().ok()?;
    let day: u32 = id.get(12..14)?.parse().ok()?;
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    let today = Local::now().date_naive();
    (year >= 1900 && date <= today).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_check(first_17: &str) -> String {
        format!("{first_17}{}", check_char(first_17))
    }

    #[test]
    fn valid_number_is_accepted_and_masked() {
        let number = with_check("51192119800101123");
        let id = IdNumber::parse(&number).expect("valid");
        assert_eq!(id.as_str(), number);
        assert_eq!(id.masked(), format!("511921********123{}", &number[17..]));
    }

    #[test]
    fn known_number_with_x_check_character() {
        // 11010519491231002X is the standard's own worked example.
        let id = IdNumber::parse("11010519491231002x").expect("valid, lower-case x");
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.masked(), "110105********002X");
    }

    #[test]
    fn full_width_digits_are_read() {
        assert!(IdNumber::parse("１１０１０５１９４９１２３１００２Ｘ").is_ok());
    }

    #[test]
    fn wrong_checksum_is_refused() {
        assert_eq!(
            IdNumber::parse("110105194912310021"),
            Err(IdNumberError::WrongChecksum)
        );
    }

    #[test]
    fn impossible_birth_date_is_refused() {
        let number = with_check("51192119810230123");
        assert_eq!(
            IdNumber::parse(&number),
            Err(IdNumberError::ImpossibleBirthDate)
        );
        let future = with_check("51192129990101123");
        assert_eq!(
            IdNumber::parse(&future),
            Err(IdNumberError::ImpossibleBirthDate)
        );
    }

    #[test]
    fn fifteen_digit_old_format_asks_for_the_new_number() {
        let err = IdNumber::parse("511921800101123").unwrap_err();
        assert_eq!(err, IdNumberError::OldFifteenDigit);
        assert!(err.to_string().contains("18位"));
    }

    #[test]
    fn wrong_length_and_letters_are_refused() {
        assert_eq!(
            IdNumber::parse("5119211980"),
            Err(IdNumberError::WrongLength(10))
        );
        assert_eq!(
            IdNumber::parse("51192119800101A234"),
            Err(IdNumberError::BadCharacter)
        );
    }

    #[test]
    fn mask_never_shows_the_middle() {
        assert_eq!(mask("123456789012345678"), "123456********5678");
        assert_eq!(mask("12345"), "*****");
    }
}
