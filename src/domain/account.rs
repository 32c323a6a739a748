//! Accounts: the user name one logs in with, the name shown, and a new password's rules.

use std::fmt;

use super::text::non_empty;

pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 32;
pub const DISPLAY_NAME_MAX_CHARS: usize = 30;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// A login name: 3 to 32 ASCII letters, digits, `_`, `.` or `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// The trimmed name, or the message for the form.
    pub fn parse(raw: &str) -> Result<Username, String> {
        let username = raw.trim();
        let valid_chars = username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if username.is_empty() {
            Err("请填写用户名".into())
        } else if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&username.len())
            || !valid_chars
        {
            Err("用户名为3到32位字母、数字、下划线、点或短横线".into())
        } else {
            Ok(Username(username.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name pages show for an account; left empty, the user name stands in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// `raw` cleaned (half-width, trimmed), or `username` when empty; at most 30 characters.
    pub fn parse(raw: &str, username: &str) -> Result<DisplayName, String> {
        let name = non_empty(raw).unwrap_or_else(|| username.trim().to_string());
        if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
            Err("姓名不能超过30个字".into())
        } else {
            Ok(DisplayName(name))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// A password being set (not one being checked at login): 8 to 128 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<NewPassword, String> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            Err(format!("密码至少{PASSWORD_MIN_CHARS}位"))
        } else if chars > PASSWORD_MAX_CHARS {
            Err(format!("密码不能超过{PASSWORD_MAX_CHARS}位"))
        } else {
            Ok(NewPassword(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never prints the password itself.
impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_trimmed_ascii_of_three_to_thirty_two() {
        assert_eq!(
            Username::parse("  zhang.san ").unwrap().as_str(),
            "zhang.san"
        );
        assert_eq!(Username::parse("a_b-c").unwrap().as_str(), "a_b-c");
        assert_eq!(Username::parse("   ").unwrap_err(), "请填写用户名");
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("张三丰").is_err());
        assert!(Username::parse("with space").is_err());
    }

    #[test]
    fn display_name_falls_back_to_the_username() {
        assert_eq!(
            DisplayName::parse("", " clerk1 ").unwrap().as_str(),
            "clerk1"
        );
        assert_eq!(
            DisplayName::parse("　李四　", "x").unwrap().as_str(),
            "李四"
        );
        assert!(DisplayName::parse(&"名".repeat(30), "x").is_ok());
        assert_eq!(
            DisplayName::parse(&"名".repeat(31), "x").unwrap_err(),
            "姓名不能超过30个字"
        );
    }

    #[test]
    fn new_passwords_have_eight_to_128_characters() {
        assert_eq!(NewPassword::parse("1234567").unwrap_err(), "密码至少8位");
        assert!(NewPassword::parse("12345678").is_ok());
        assert!(NewPassword::parse("八个汉字的密码啊").is_ok());
        assert!(NewPassword::parse(&"x".repeat(128)).is_ok());
        assert_eq!(
            NewPassword::parse(&"x".repeat(129)).unwrap_err(),
            "密码不能超过128位"
        );
        assert_eq!(
            format!("{:?}", NewPassword::parse("secret123").unwrap()),
            "NewPassword(***)"
        );
    }
}
