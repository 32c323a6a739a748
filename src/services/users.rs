//! Account administration (admin only): create, change role/village, reset password,
//! deactivate.

use super::passwords;
use super::{field, invalid_if_any, Actor, ServiceError, ServiceResult};
use crate::domain::account::{DisplayName, NewPassword, Username};
use crate::domain::person::FieldErrors;
use crate::domain::Role;
use crate::store::users::{self, UserDraft};
use crate::store::{villages, Db};

pub use crate::store::users::User;

/// Raw text of the account form.
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub username: String,
    pub display_name: String,
    pub role: String,
    pub village_id: Option<i64>,
    pub password: String,
}

async fn parse_role_and_village(
    db: &Db,
    input: &UserInput,
    errors: &mut FieldErrors,
) -> ServiceResult<(Role, Option<i64>)> {
    let Some(role) = Role::from_code(input.role.trim()) else {
        errors.insert("role".into(), "请选择角色".into());
        return Ok((Role::Viewer, None));
    };
    if role != Role::Clerk {
        return Ok((role, None));
    }
    match input.village_id {
        None => {
            errors.insert(
                "village_id".into(),
                "村(社区)文书必须选择所属村(社区)".into(),
            );
        }
        Some(id) if villages::get(db, id).await?.is_none() => {
            errors.insert("village_id".into(), super::UNKNOWN_VILLAGE.into());
        }
        Some(_) => {}
    }
    Ok((role, input.village_id))
}

pub async fn create_user(db: &Db, actor: &Actor, input: &UserInput) -> ServiceResult<i64> {
    actor.require(actor.role.can_administer())?;
    let mut errors = FieldErrors::new();
    let display_name = field(
        &mut errors,
        "display_name",
        DisplayName::parse(&input.display_name, &input.username),
    );
    let username = field(&mut errors, "username", Username::parse(&input.username));
    let (role, village_id) = parse_role_and_village(db, input, &mut errors).await?;
    let password = field(&mut errors, "password", NewPassword::parse(&input.password));
    if let Some(username) = &username {
        if users::find_by_username(db, username.as_str())
            .await?
            .is_some()
        {
            errors.insert("username".into(), "该用户名已被使用".into());
        }
    }
    let (Some(username), Some(display_name), Some(password)) = (username, display_name, password)
    else {
        return Err(ServiceError::Invalid(errors));
    };
    invalid_if_any(errors)?;
    let draft = UserDraft {
        username: username.into_string(),
        display_name: display_name.into_string(),
        role,
        village_id,
    };
    let hash = passwords::hash(&password)?;
    Ok(users::create(db, &draft, &hash, actor.user_id).await?)
}

pub async fn get_user(db: &Db, actor: &Actor, id: i64) -> ServiceResult<User> {
    actor.require(actor.role.can_administer())?;
    users::get(db, id).await?.ok_or(ServiceError::NotFound)
}

pub async fn list_users(db: &Db, actor: &Actor) -> ServiceResult<Vec<User>> {
    actor.require(actor.role.can_administer())?;
    Ok(users::list(db).await?)
}

/// Changes display name, role and village. The user name stays (it is the login).
pub async fn update_user(db: &Db, actor: &Actor, id: i64, input: &UserInput) -> ServiceResult<()> {
    let before = get_user(db, actor, id).await?;
    let mut errors = FieldErrors::new();
    let display_name = field(
        &mut errors,
        "display_name",
        DisplayName::parse(&input.display_name, &before.username),
    );
    let (role, village_id) = parse_role_and_village(db, input, &mut errors).await?;
    let Some(display_name) = display_name else {
        return Err(ServiceError::Invalid(errors));
    };
    invalid_if_any(errors)?;
    if before.role == Role::Admin && role != Role::Admin {
        refuse_if_last_admin(db, &before).await?;
    }
    let draft = UserDraft {
        username: before.username.clone(),
        display_name: display_name.into_string(),
        role,
        village_id,
    };
    Ok(users::update(db, &before, &draft, actor.user_id).await?)
}

pub async fn reset_password(db: &Db, actor: &Actor, id: i64, password: &str) -> ServiceResult<()> {
    let user = get_user(db, actor, id).await?;
    let mut errors = FieldErrors::new();
    let Some(password) = field(&mut errors, "password", NewPassword::parse(password)) else {
        return Err(ServiceError::Invalid(errors));
    };
    let hash = passwords::hash(&password)?;
    Ok(users::set_password(db, user.id, &hash, actor.user_id, "reset_password").await?)
}

pub async fn set_user_active(db: &Db, actor: &Actor, id: i64, active: bool) -> ServiceResult<()> {
    let user = get_user(db, actor, id).await?;
    if !active {
        if actor.user_id == Some(user.id) {
            return Err(ServiceError::Refused("不能停用自己的账号".into()));
        }
        if user.role == Role::Admin {
            refuse_if_last_admin(db, &user).await?;
        }
    }
    Ok(users::set_active(db, user.id, active, actor.user_id).await?)
}

async fn refuse_if_last_admin(db: &Db, user: &User) -> ServiceResult<()> {
    if user.active && users::count_active_admins(db).await? <= 1 {
        return Err(ServiceError::Refused(
            "这是最后一个可用的管理员账号，不能停用或改为其他角色".into(),
        ));
    }
    Ok(())
}

/// For `pufa user add --village NAME`: the village id of a name.
pub async fn village_id_by_name(db: &Db, name: &str) -> ServiceResult<i64> {
    villages::find_by_name(db, name.trim())
        .await?
        .map(|v| v.id)
        .ok_or_else(|| ServiceError::Refused(format!("没有名为“{}”的村(社区)", name.trim())))
}
