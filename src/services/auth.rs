//! Logging in (with slow-down after failures), server-side sessions, changing one's own
//! password, and the first-admin setup link.

use chrono::{DateTime, Duration, Utc};

use super::passwords::{self, secrets_match, UNKNOWN_USER_HASH};
use super::throttle::{self, Limit};
use super::Actor;
use super::{field, ServiceError, ServiceResult};
use crate::domain::account::{DisplayName, NewPassword, Username};
use crate::domain::person::FieldErrors;
use crate::domain::Role;
use crate::store::audit::{self, AuditEntry};
use crate::store::login_sessions::{self, LogIn, NewSession};
use crate::store::users::UserDraft;
use crate::store::{rate_limits, settings, users, Db};

pub use crate::store::login_sessions::LoginSession;
pub use crate::store::users::User;

/// Failed log-ins allowed for one user name from one address before each further try
/// must wait: the owner at their own desk is never locked out by someone else's guessing.
const ACCOUNT_LIMIT: Limit = Limit {
    free: 5,
    forget_after: Duration::hours(24),
};
/// Failed log-ins allowed from one address, whatever the names (password spraying).
const ADDRESS_LIMIT: Limit = Limit {
    free: 20,
    forget_after: Duration::hours(24),
};

/// A log-in lasts a working day at most, and ends after two idle hours.
pub const SESSION_HOURS: i64 = 12;
pub const IDLE_MINUTES: i64 = 120;
/// Last-seen times are written at most this often (not on every request).
const TOUCH_EVERY_SECONDS: i64 = 60;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("用户名或密码不正确")]
    WrongCredentials,
    #[error("登录失败次数过多，请{0}秒后再试")]
    TooManyFailures(i64),
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<crate::store::StoreError> for LoginError {
    fn from(e: crate::store::StoreError) -> Self {
        LoginError::Service(e.into())
    }
}

/// A log-in attempt and where it came from.
pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub address: &'a str,
    pub user_agent: &'a str,
}

/// Checks the password and starts a session: the user and the session's token (for the
/// cookie). Every attempt, right or wrong, is in the audit log with its address.
pub async fn login(db: &Db, attempt: &LoginAttempt<'_>) -> Result<(User, String), LoginError> {
    let username = attempt.username.trim();
    let now = Utc::now();
    // One throttle per account and address, however the name is capitalised; another per
    // address.
    let account_key = format!("login:{}:{}", username.to_lowercase(), attempt.address);
    let address_key = format!("login-address:{}", attempt.address);
    throttle::check(db, &address_key, ADDRESS_LIMIT, now)
        .await?
        .map_err(LoginError::TooManyFailures)?;
    throttle::admit(db, &account_key, ACCOUNT_LIMIT, now)
        .await?
        .map_err(LoginError::TooManyFailures)?;
    let user = users::find_by_username(db, username).await?;
    // Verify against a hash even for unknown names, so timing does not tell which exist.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.as_str())
        .unwrap_or(UNKNOWN_USER_HASH);
    let password_ok = passwords::verify_blocking(attempt.password, hash).await?;
    let audit_entry = |action: &'static str, user_id: Option<i64>| AuditEntry {
        user_id,
        action,
        entity: "user",
        entity_id: user_id,
        before: None,
        after: serde_json::to_string(&serde_json::json!({
            "username": username, "address": attempt.address,
        }))
        .ok(),
    };
    match user {
        Some(user) if password_ok && user.active => {
            let entry = audit_entry("login", Some(user.id));
            let log_in = LogIn {
                cleared_key: &account_key,
                entry: &entry,
            };
            let token = open_session(
                db,
                user.id,
                attempt.address,
                attempt.user_agent,
                Some(log_in),
            )
            .await?;
            Ok((user, token))
        }
        user => {
            rate_limits::record_failure(db, &address_key, now).await?;
            let user_id = user.map(|u| u.id);
            audit::record_alone(db, &audit_entry("login_failed", user_id)).await?;
            Err(LoginError::WrongCredentials)
        }
    }
}

/// A new server-side session for the user: its token, for the cookie.
pub async fn start_session(
    db: &Db,
    user_id: i64,
    address: &str,
    user_agent: &str,
) -> ServiceResult<String> {
    open_session(db, user_id, address, user_agent, None).await
}

async fn open_session(
    db: &Db,
    user_id: i64,
    address: &str,
    user_agent: &str,
    log_in: Option<LogIn<'_>>,
) -> ServiceResult<String> {
    let now = Utc::now();
    let expired = (
        now - Duration::minutes(IDLE_MINUTES),
        now - Duration::hours(SESSION_HOURS),
    );
    let token = crate::random_token();
    let session = NewSession {
        user_id,
        at: now,
        address,
        user_agent: &user_agent.chars().take(200).collect::<String>(),
    };
    login_sessions::create(
        db,
        &passwords::token_hash(&token),
        &session,
        expired,
        log_in,
    )
    .await?;
    Ok(token)
}

/// The active account and the session a cookie's token names; `None` once the session
/// was ended, is older than `SESSION_HOURS` or idle for `IDLE_MINUTES`, or the account was
/// deactivated.
pub async fn session_user(
    db: &Db,
    token: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Option<(User, LoginSession)>> {
    let Some(session) = login_sessions::by_token_hash(db, &passwords::token_hash(token)).await?
    else {
        return Ok(None);
    };
    let expired = now - session.created_at > Duration::hours(SESSION_HOURS)
        || now - session.last_seen_at > Duration::minutes(IDLE_MINUTES);
    if expired {
        login_sessions::delete(db, session.id).await?;
        return Ok(None);
    }
    let Some(user) = users::get(db, session.user_id).await?.filter(|u| u.active) else {
        return Ok(None);
    };
    if now - session.last_seen_at > Duration::seconds(TOUCH_EVERY_SECONDS) {
        login_sessions::touch(db, session.id, now).await?;
    }
    Ok(Some((user, session)))
}

/// Log-out: the session ends on the server, so a copy of the cookie is useless too.
pub async fn end_session(db: &Db, token: &str) -> ServiceResult<()> {
    if let Some(session) = login_sessions::by_token_hash(db, &passwords::token_hash(token)).await? {
        login_sessions::delete(db, session.id).await?;
    }
    Ok(())
}

/// The sessions of an account: the user's own, or any account's for an admin.
pub async fn sessions_of(db: &Db, actor: &Actor, user_id: i64) -> ServiceResult<Vec<LoginSession>> {
    actor.require(actor.user_id == Some(user_id) || actor.role.can_administer())?;
    Ok(login_sessions::of_user(db, user_id).await?)
}

/// Ends every session of the account ("log out everywhere", or an admin ending a user's
/// sessions). Returns how many were ended.
pub async fn end_sessions_of(db: &Db, actor: &Actor, user_id: i64) -> ServiceResult<u64> {
    actor.require(actor.user_id == Some(user_id) || actor.role.can_administer())?;
    let mut tx = db.begin().await?;
    let ended = login_sessions::delete_of_user(&mut tx, user_id).await?;
    let entry = AuditEntry::new(actor.user_id, "end_sessions", "user", user_id)
        .after(&serde_json::json!({ "ended": ended }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(ended)
}

/// The user changes their own password: the current one is required; every session of
/// the account ends (the caller starts a new one for this browser).
pub async fn change_own_password(
    db: &Db,
    actor: &Actor,
    current: &str,
    new: &str,
    confirm: &str,
) -> ServiceResult<()> {
    let user_id = actor.user_id.ok_or(ServiceError::Forbidden)?;
    let user = users::get(db, user_id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let mut errors = FieldErrors::new();
    if !passwords::verify_blocking(current, &user.password_hash).await? {
        errors.insert("current".into(), "当前密码不正确".into());
    }
    let password = field(&mut errors, "password", NewPassword::parse(new));
    if password.is_some() && new != confirm {
        errors.insert("confirm".into(), "两次输入的新密码不一致".into());
    }
    let Some(password) = password.filter(|_| errors.is_empty()) else {
        return Err(ServiceError::Invalid(errors));
    };
    let hash = passwords::hash_blocking(&password).await?;
    Ok(users::set_password(db, user_id, &hash, Some(user_id), "change_password").await?)
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
