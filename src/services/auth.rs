//! Logging in (with slow-down after failures), who a session belongs to, and the
//! first-admin setup link.

use chrono::{DateTime, Duration, Utc};

use super::passwords::{self, secrets_match, UNKNOWN_USER_HASH};
use super::{field, ServiceError, ServiceResult};
use crate::domain::account::{DisplayName, NewPassword, Username};
use crate::domain::person::FieldErrors;
use crate::domain::Role;
use crate::store::users::UserDraft;
use crate::store::{rate_limits, settings, users, Db};

pub use crate::store::users::User;

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
    // One throttle per account, however its name is capitalised.
    let key = format!("login:{}", username.to_lowercase());
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
    let password_ok = passwords::verify(password, hash);
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

/// The active account a login session names; `None` once it is deactivated or gone.
pub async fn current_user(db: &Db, user_id: i64) -> ServiceResult<Option<User>> {
    Ok(users::get(db, user_id).await?.filter(|user| user.active))
}

/// Who acts at the command line (`--as NAME`): that account, or without a name the first
/// active admin. Refused with the reason when there is no such active account.
pub async fn acting_user(db: &Db, username: Option<&str>) -> ServiceResult<super::Actor> {
    let user = match username {
        Some(name) => users::find_by_username(db, name).await?,
        None => users::list(db)
            .await?
            .into_iter()
            .find(|u| u.active && u.role.can_administer()),
    };
    match user {
        Some(u) if u.active => super::Actor::from_user(&u),
        Some(_) => Err(ServiceError::Refused("该账号已停用".into())),
        None => Err(ServiceError::Refused(match username {
            Some(name) => format!("没有账号“{name}”"),
            None => "还没有管理员账号；请用 --as 指定导入人".into(),
        })),
    }
}

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
    Ok(users::count(db).await? == 0 && stored.is_some_and(|s| secrets_match(&s, token)))
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
    let display_name = field(
        &mut errors,
        "display_name",
        DisplayName::parse(display_name, username),
    );
    let username = field(&mut errors, "username", Username::parse(username));
    let password = field(&mut errors, "password", NewPassword::parse(password));
    let (Some(username), Some(display_name), Some(password)) = (username, display_name, password)
    else {
        return Err(ServiceError::Invalid(errors));
    };
    let draft = UserDraft {
        username: username.into_string(),
        display_name: display_name.into_string(),
        role: Role::Admin,
        village_id: None,
    };
    let hash = passwords::hash(&password)?;
    users::create_first_admin(db, &draft, &hash, token)
        .await?
        .ok_or_else(|| ServiceError::Refused("初始化链接无效或已被使用".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_grows_after_five_failures() {
        let t = Utc::now();
        assert_eq!(wait_after_failures(4, t, t), None);
        assert_eq!(wait_after_failures(5, t, t), Some(30));
        assert_eq!(wait_after_failures(6, t, t), Some(60));
        assert_eq!(wait_after_failures(30, t, t), Some(15 * 60));
        assert_eq!(wait_after_failures(5, t, t + Duration::seconds(31)), None);
    }
}
