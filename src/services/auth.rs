//! Passwords, logging in (with slow-down after failures) and the first-admin setup link.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};

use super::{ServiceError, ServiceResult};
use crate::domain::person::FieldErrors;
use crate::domain::Role;
use crate::store::users::{User, UserDraft};
use crate::store::{rate_limits, settings, users, Db};

pub const PASSWORD_MIN_CHARS: usize = 8;
/// Failed logins allowed for one user name before each further try must wait.
const FREE_FAILURES: i64 = 5;
const FIRST_WAIT_SECONDS: i64 = 30;
const LONGEST_WAIT_SECONDS: i64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("用户名或密码不正确")]
    WrongCredentials,
    #[error("登录失败次数过多，请{0}秒后再试")]
    TooManyFailures(i64),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

pub fn hash_password(password: &str) -> ServiceResult<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ServiceError::Refused(format!("无法处理该密码：{e}")))
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

pub fn check_new_password(password: &str, field: &str, errors: &mut FieldErrors) {
    if password.chars().count() < PASSWORD_MIN_CHARS {
        errors.insert(field.into(), format!("密码至少{PASSWORD_MIN_CHARS}位"));
    } else if password.chars().count() > 128 {
        errors.insert(field.into(), "密码不能超过128位".into());
    }
}

/// Seconds the user name must still wait before the next try, if any.
pub fn wait_after_failures(
    failures: i64,
    last_failed_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<i64> {
    if failures < FREE_FAILURES {
        return None;
    }
    let doublings = (failures - FREE_FAILURES).min(10) as u32;
    let wait = (FIRST_WAIT_SECONDS << doublings).min(LONGEST_WAIT_SECONDS);
    let remaining = (last_failed_at + Duration::seconds(wait) - now).num_seconds();
    (remaining > 0).then_some(remaining)
}

pub async fn login(db: &Db, username: &str, password: &str) -> Result<User, LoginError> {
    let username = username.trim();
    let key = format!("login:{username}");
    let now = Utc::now();
    if let Some(f) = rate_limits::get(db, &key)
        .await
        .map_err(ServiceError::from)?
    {
        if let Some(wait) = wait_after_failures(f.failures, f.last_failed_at, now) {
            return Err(LoginError::TooManyFailures(wait));
        }
    }
    let user = users::find_by_username(db, username)
        .await
        .map_err(ServiceError::from)?;
    // Verify against a hash even for unknown names, so timing does not tell which exist.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or(UNKNOWN_USER_HASH);
    let password_ok = verify_password(password, hash);
    match user {
        Some(user) if password_ok && user.active => {
            rate_limits::clear(db, &key)
                .await
                .map_err(ServiceError::from)?;
            users::touch_last_login(db, user.id)
                .await
                .map_err(ServiceError::from)?;
            Ok(user)
        }
        _ => {
            rate_limits::record_failure(db, &key, now)
                .await
                .map_err(ServiceError::from)?;
            Err(LoginError::WrongCredentials)
        }
    }
}

/// An argon2 hash of a random password nobody knows.
const UNKNOWN_USER_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$0P6VnS2b6VhtrTnrUXNjp41ZU3E9B1h6GtiJnO1R2ew";

/// While no user exists, the one-time setup token (created on first call). `None` once
/// the first admin exists.
pub async fn pending_setup_token(db: &Db) -> ServiceResult<Option<String>> {
    if users::count(db).await? > 0 {
        return Ok(None);
    }
    if let Some(token) = settings::get(db, settings::SETUP_TOKEN).await? {
        return Ok(Some(token));
    }
    let token = crate::random_token();
    settings::set(db, settings::SETUP_TOKEN, &token).await?;
    Ok(Some(token))
}

pub async fn setup_token_is_valid(db: &Db, token: &str) -> ServiceResult<bool> {
    let stored = settings::get(db, settings::SETUP_TOKEN).await?;
    Ok(users::count(db).await? == 0 && stored.is_some_and(|s| constant_time_eq(&s, token)))
}

pub async fn create_first_admin(
    db: &Db,
    token: &str,
    username: &str,
    display_name: &str,
    password: &str,
) -> ServiceResult<i64> {
    if !setup_token_is_valid(db, token).await? {
        return Err(ServiceError::Refused("初始化链接无效或已被使用".into()));
    }
    let mut errors = FieldErrors::new();
    let draft = UserDraft {
        username: super::users::parse_username(username, &mut errors),
        display_name: super::users::parse_display_name(display_name, username, &mut errors),
        role: Role::Admin,
        village_id: None,
    };
    check_new_password(password, "password", &mut errors);
    super::invalid_if_any(errors)?;
    let hash = hash_password(password)?;
    users::create_first_admin(db, &draft, &hash, token)
        .await?
        .ok_or_else(|| ServiceError::Refused("初始化链接无效或已被使用".into()))
}

pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_round_trip() {
        let hash = hash_password("正确的密码123").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("正确的密码123", &hash));
        assert!(!verify_password("错误的密码123", &hash));
    }

    #[test]
    fn unknown_user_hash_is_well_formed_and_matches_nothing_common() {
        assert!(PasswordHash::new(UNKNOWN_USER_HASH).is_ok());
        assert!(!verify_password("", UNKNOWN_USER_HASH));
        assert!(!verify_password("password", UNKNOWN_USER_HASH));
    }

    #[test]
    fn waiting_grows_after_five_failures() {
        let t = Utc::now();
        assert_eq!(wait_after_failures(4, t, t), None);
        assert_eq!(wait_after_failures(5, t, t), Some(30));
        assert_eq!(wait_after_failures(6, t, t), Some(60));
        assert_eq!(wait_after_failures(30, t, t), Some(15 * 60));
        assert_eq!(wait_after_failures(5, t, t + Duration::seconds(31)), None);
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "abcd"));
    }
}
