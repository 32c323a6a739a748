//! Use cases. Web handlers and CLI commands parse input, then call the use case (and
//! `choices` for what their forms offer); every rule about who may do what lives here,
//! once: in these functions, and in the `Actor` questions pages and guards ask to show,
//! hide or refuse what the use cases allow.

pub mod activities;
pub mod attendance;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod cache;
pub mod choices;
pub mod demo;
pub mod export;
pub mod housekeeping;
pub mod imports;
pub mod ledgers;
pub mod materials;
pub mod passwords;
pub mod people;
pub mod report;
pub mod self_study;
pub mod sessions;
pub mod signing;
pub mod summary;
pub mod throttle;
pub mod users;
pub mod villages;

use crate::domain::person::FieldErrors;
use crate::domain::{Role, VillageScope};
use crate::store::users::User;

pub use crate::store::{Db, StoreError, Subtotal};

/// Who is acting: a logged-in user, or the operator at the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub role: Role,
    /// The villages whose records the actor sees: every one, or a clerk's own.
    pub scope: VillageScope,
}

impl Actor {
    /// The user as an actor. A clerk without a village (which the database's CHECK rules
    /// out) may do nothing.
    pub fn from_user(user: &User) -> ServiceResult<Self> {
        let scope = match (user.role.sees_all_villages(), user.village_id) {
            (true, _) => VillageScope::Any,
            (false, Some(own)) => VillageScope::Village(own),
            (false, None) => return Err(ServiceError::Forbidden),
        };
        Ok(Actor {
            user_id: Some(user.id),
            role: user.role,
            scope,
        })
    }

    /// The command line: whoever can run `pufa` on the server administers it.
    pub fn operator() -> Self {
        Actor {
            user_id: None,
            role: Role::Admin,
            scope: VillageScope::Any,
        }
    }

    /// The village this actor is confined to, if any (clerks).
    pub fn confined_village(&self) -> Option<i64> {
        self.scope.village()
    }

    pub fn can_see_village(&self, village_id: Option<i64>) -> bool {
        self.scope.includes(village_id)
    }

    pub fn require(&self, allowed: bool) -> Result<(), ServiceError> {
        if allowed {
            Ok(())
        } else {
            Err(ServiceError::Forbidden)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("未找到该记录")]
    NotFound,
    #[error("没有权限执行此操作")]
    Forbidden,
    /// A rule was broken; the message is for the user.
    #[error("{0}")]
    Refused(String),
    /// A form with per-field messages.
    #[error("表单填写有误")]
    Invalid(FieldErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ServiceError {
    fn from(e: sqlx::Error) -> Self {
        ServiceError::Store(StoreError::Sql(e))
    }
}

/// A workbook that could not be written: refused with the reason.
impl From<crate::sheets::SheetError> for ServiceError {
    fn from(e: crate::sheets::SheetError) -> Self {
        ServiceError::Refused(e.to_string())
    }
}

/// Shown when a form names a village that does not exist.
pub const UNKNOWN_VILLAGE: &str = "所选村(社区)不存在";

pub type ServiceResult<T> = Result<T, ServiceError>;

/// Turns an optional per-field error map into a result.
pub(crate) fn invalid_if_any(errors: FieldErrors) -> ServiceResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Invalid(errors))
    }
}

/// A parsed form value, or `None` with its message recorded under `name`.
pub(crate) fn field<T>(
    errors: &mut FieldErrors,
    name: &str,
    parsed: Result<T, String>,
) -> Option<T> {
    match parsed {
        Ok(value) => Some(value),
        Err(message) => {
            errors.insert(name.into(), message);
            None
        }
    }
}

/// What pages and request guards ask of an actor, so that they show, hide or refuse exactly
/// what the use cases above allow.
impl Actor {
    /// May administer accounts, villages and settings.
    pub fn may_administer(&self) -> bool {
        self.role.can_administer()
    }

    /// May record and change ledger entries (everyone but the viewer).
    pub fn may_edit_records(&self) -> bool {
        self.role.can_edit_records()
    }

    /// May keep the material catalogue and its stock receipts.
    pub fn may_manage_catalogue(&self) -> bool {
        self.role.can_manage_catalogue()
    }

    /// Sees one village only (a clerk): no village filter, no township-level records.
    pub fn is_confined(&self) -> bool {
        !self.role.sees_all_villages()
    }
}
