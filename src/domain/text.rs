//! Small text normalisation shared by every parser: clerks type full-width digits and
//! punctuation as often as half-width ones.

use std::borrow::Cow;

/// Full-width ASCII variants (U+FF01..U+FF5E) to their half-width twins, and the
/// ideographic space to a plain space.
pub fn to_half_width(input: &str) -> String {
    input.chars().map(half_width_char).collect()
}

/// [`to_half_width`] that copies only a text holding a full-width character (most hold
/// none: a sheet's 100,000 dates are read without a copy each).
pub fn half_width(input: &str) -> Cow<'_, str> {
    if input.chars().any(|c| half_width_char(c) != c) {
        Cow::Owned(to_half_width(input))
    } else {
        Cow::Borrowed(input)
    }
}

fn half_width_char(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Trims and half-widths a form value; an empty result is `None`.
pub fn non_empty(input: &str) -> Option<String> {
    let cleaned = to_half_width(input).trim().to_string();
    if cleaned.is_empty() {
        None
    } else {
        Some(cleaned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_and_letters_become_half_width() {
        assert_eq!(to_half_width("５１１９２１Ｘ（）"), "511921X()");
        assert_eq!(to_half_width("龙凤村\u{3000}一组"), "龙凤村 一组");
    }

    #[test]
    fn blank_values_are_none() {
        assert_eq!(non_empty("  \u{3000} "), None);
        assert_eq!(non_empty(" 张三 ").as_deref(), Some("张三"));
    }
}
