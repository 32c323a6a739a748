//! The HTML forms as Rocket sees them: plain text fields, parsed into domain types by the
//! services so that every bad value gets a Chinese message instead of a bare 422.

use std::collections::HashMap;

use rocket::FromForm;

use super::csrf::CsrfProtected;
use super::error::AppError;
use crate::domain::person::FieldErrors;
use crate::services::{ServiceError, UNKNOWN_VILLAGE};

#[derive(FromForm)]
pub struct LoginForm {
    pub csrf_token: String,
    pub username: String,
    pub password: String,
    pub next: Option<String>,
}

#[derive(FromForm)]
pub struct SetupForm {
    pub csrf_token: String,
    pub token: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub password_confirm: String,
}

/// Buttons that only carry the token (log out, deactivate, delete).
#[derive(FromForm)]
pub struct ActionForm {
    pub csrf_token: String,
}

#[derive(FromForm)]
pub struct ActiveForm {
    pub csrf_token: String,
    pub active: bool,
}

#[derive(FromForm)]
pub struct UserForm {
    pub csrf_token: String,
    pub username: Option<String>,
    pub display_name: String,
    pub role: String,
    pub village_id: String,
    pub password: Option<String>,
}

#[derive(FromForm)]
pub struct PasswordForm {
    pub csrf_token: String,
    pub password: String,
    pub password_confirm: String,
}

/// The user's own password change: the current one, and the new one twice.
#[derive(FromForm)]
pub struct OwnPasswordForm {
    pub csrf_token: String,
    pub current: String,
    pub password: String,
    pub password_confirm: String,
}

#[derive(FromForm)]
pub struct VillageForm {
    pub csrf_token: String,
    pub name: String,
    pub kind: String,
    pub code: String,
    pub display_order: String,
}

#[derive(FromForm, Default)]
pub struct CategoryFields {
    pub held: bool,
    pub since: Option<String>,
    pub until: Option<String>,
}

#[derive(FromForm)]
pub struct PersonForm {
    pub csrf_token: String,
    pub name: String,
    pub gender: String,
    pub village_id: String,
    pub post: String,
    pub phone: String,
    pub id_number: String,
    pub notes: String,
    pub categories: HashMap<String, CategoryFields>,
}

#[derive(FromForm)]
pub struct MaterialForm {
    pub csrf_token: String,
    pub title: String,
    pub kind: String,
    pub unit: String,
    pub notes: String,
}

#[derive(FromForm)]
pub struct ReceiptForm {
    pub csrf_token: String,
    pub received_on: String,
    pub quantity: String,
    pub source: String,
    pub notes: String,
}

#[derive(FromForm)]
pub struct DistributionForm {
    pub csrf_token: String,
    pub material_id: String,
    pub distributed_on: String,
    pub village_id: String,
    pub quantity: String,
    pub recipients: String,
    pub place: String,
    pub handled_by: String,
    pub session_id: String,
    pub activity_id: String,
    pub notes: String,
}

#[derive(FromForm, Default, Clone, serde::Serialize)]
pub struct MaterialLineFields {
    pub material_id: String,
    pub quantity: String,
}

#[derive(FromForm)]
pub struct OutreachForm {
    pub csrf_token: String,
    pub held_on: String,
    pub village_id: String,
    pub topic: String,
    pub form: String,
    pub place: String,
    pub audience_groups: Vec<String>,
    pub audience_count: String,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
    pub materials: Vec<MaterialLineFields>,
}

#[derive(FromForm)]
pub struct SessionForm {
    pub csrf_token: String,
    pub kind: String,
    pub topic: String,
    pub date: String,
    pub start_time: String,
    pub end_time: String,
    pub venue: String,
    pub speaker: String,
    pub organizer: String,
    pub village_id: String,
    pub hours_credited: String,
    pub notes: String,
    pub repeat: Option<String>,
    pub weekdays: Vec<String>,
    pub month_day: Option<String>,
    pub nth: Option<String>,
    pub nth_weekday: Option<String>,
    pub end: Option<String>,
    pub until: Option<String>,
    pub count: Option<String>,
    /// "this" or "following" when editing an occurrence of a series.
    pub scope: Option<String>,
    /// The user saw the conflict warning and saves anyway.
    pub confirm: bool,
}

#[derive(FromForm)]
pub struct ScopeForm {
    pub csrf_token: String,
    pub scope: Option<String>,
}

#[derive(FromForm)]
pub struct InviteForm {
    pub csrf_token: String,
    pub by_group: bool,
    pub villages: Vec<String>,
    pub category: Option<String>,
    pub person_ids: Vec<String>,
    /// For a meeting of a series: "this", "following" or "series".
    pub scope: Option<String>,
    pub confirm: bool,
}

#[derive(FromForm, Default, Clone)]
pub struct GridLine {
    pub person_id: String,
    pub status: Option<String>,
    pub hours: String,
}

#[derive(FromForm)]
pub struct GridForm {
    pub csrf_token: String,
    pub rows: Vec<GridLine>,
}

#[derive(FromForm)]
pub struct WalkInForm {
    pub csrf_token: String,
    pub person_id: String,
    pub name: String,
    pub phone: String,
}

#[derive(FromForm)]
pub struct CheckinForm {
    pub csrf_token: String,
    pub name: String,
    pub phone_last4: String,
}

#[derive(FromForm)]
pub struct RequirementForm {
    pub csrf_token: String,
    pub category: String,
    pub session_kind: String,
    pub min_sessions: String,
    pub min_hours: String,
}

#[derive(FromForm)]
pub struct UploadForm<'r> {
    pub csrf_token: String,
    pub file: rocket::fs::TempFile<'r>,
    pub kind: Option<String>,
    pub village_id: Option<String>,
}

#[derive(FromForm)]
pub struct CommitForm {
    pub csrf_token: String,
    pub allow_partial: bool,
}

macro_rules! csrf_protected {
    ($($form:ty),+) => {
        $(impl CsrfProtected for $form {
            fn csrf_token(&self) -> &str {
                &self.csrf_token
            }
        })+
    };
}

csrf_protected!(
    LoginForm,
    SetupForm,
    ActionForm,
    ActiveForm,
    UserForm,
    PasswordForm,
    OwnPasswordForm,
    VillageForm,
    PersonForm,
    MaterialForm,
    ReceiptForm,
    DistributionForm,
    OutreachForm,
    SessionForm,
    ScopeForm,
    InviteForm,
    GridForm,
    WalkInForm,
    CheckinForm,
    RequirementForm,
    SelfStudyForm,
    TownshipForm,
    CommitForm
);

impl CsrfProtected for UploadForm<'_> {
    const CARRIES_FILES: bool = true;

    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A `<select>` of villages: empty means none (township level). Anything that is not a
/// number can only come from a forged form; it gets the same message as an unknown id.
pub fn parse_village_id(value: &str) -> Result<Option<i64>, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    value.parse().map(Some).map_err(|_| {
        let mut errors = FieldErrors::new();
        errors.insert("village_id".into(), UNKNOWN_VILLAGE.into());
        AppError(ServiceError::Invalid(errors))
    })
}

#[derive(FromForm)]
pub struct SelfStudyForm {
    pub csrf_token: String,
    pub person_id: String,
    pub studied_on: String,
    pub content: String,
    pub form: String,
    pub hours: String,
    pub notes: String,
}

#[derive(FromForm)]
pub struct TownshipForm {
    pub csrf_token: String,
    pub name: String,
}
