//! Villages and communities: everyone reads, the admin edits.

use super::{invalid_if_any, Actor, ServiceError, ServiceResult};
use crate::domain::person::FieldErrors;
use crate::domain::text::non_empty;
use crate::domain::VillageKind;
use crate::domain::VillageScope;
use crate::store::villages::{self, VillageDraft};
use crate::store::Db;

pub use crate::store::villages::Village;
pub use crate::store::Subtotal;

#[derive(Debug, Clone, Default)]
pub struct VillageInput {
    pub name: String,
    pub kind: String,
    pub code: String,
    pub display_order: String,
}

/// The villages an actor sees: every one, or a clerk's own.
pub async fn list_villages(db: &Db, actor: &Actor) -> ServiceResult<Vec<Village>> {
    let all = villages::list(db).await?;
    Ok(all
        .into_iter()
        .filter(|v| actor.can_see_village(Some(v.id)))
        .collect())
}

pub async fn get_village(db: &Db, id: i64) -> ServiceResult<Village> {
    villages::get(db, id).await?.ok_or(ServiceError::NotFound)
}

/// A village as the edit and delete pages show it: admin only.
pub async fn editable_village(db: &Db, actor: &Actor, id: i64) -> ServiceResult<Village> {
    actor.require(actor.role.can_administer())?;
    get_village(db, id).await
}

async fn parse(
    db: &Db,
    input: &VillageInput,
    editing: Option<&Village>,
) -> ServiceResult<VillageDraft> {
    let mut errors = FieldErrors::new();
    let name = non_empty(&input.name).unwrap_or_default();
    if name.is_empty() {
        errors.insert("name".into(), "请填写村(社区)名称".into());
    } else if name.chars().count() > 30 {
        errors.insert("name".into(), "名称不能超过30个字".into());
    } else if let Some(other) = villages::find_by_name(db, &name).await? {
        if editing.map(|v| v.id) != Some(other.id) {
            errors.insert("name".into(), "已有同名的村(社区)".into());
        }
    }
    let kind_text = input.kind.trim();
    let kind = VillageKind::from_code(kind_text)
        .or_else(|| VillageKind::from_zh(kind_text))
        .unwrap_or_else(|| {
            errors.insert("kind".into(), "类型只能是“村”或“社区”".into());
            VillageKind::Village
        });
    let code = non_empty(&input.code);
    if code.as_ref().is_some_and(|c| c.chars().count() > 20) {
        errors.insert("code".into(), "编码不能超过20个字符".into());
    }
    let display_order = match non_empty(&input.display_order) {
        None => 0,
        Some(text) => text.parse::<i64>().unwrap_or_else(|_| {
            errors.insert("display_order".into(), "排序只能填写整数".into());
            0
        }),
    };
    invalid_if_any(errors)?;
    Ok(VillageDraft {
        name,
        kind,
        code,
        display_order,
    })
}

pub async fn create_village(db: &Db, actor: &Actor, input: &VillageInput) -> ServiceResult<i64> {
    actor.require(actor.role.can_administer())?;
    let draft = parse(db, input, None).await?;
    villages::create(db, &draft, actor.user_id)
        .await
        .map_err(|e| duplicate_code_to_field_error(e.into()))
}

pub async fn update_village(
    db: &Db,
    actor: &Actor,
    id: i64,
    input: &VillageInput,
) -> ServiceResult<()> {
    actor.require(actor.role.can_administer())?;
    let before = get_village(db, id).await?;
    let draft = parse(db, input, Some(&before)).await?;
    villages::update(db, &before, &draft, actor.user_id)
        .await
        .map_err(|e| duplicate_code_to_field_error(e.into()))
}

pub async fn delete_village(db: &Db, actor: &Actor, id: i64) -> ServiceResult<()> {
    actor.require(actor.role.can_administer())?;
    let village = get_village(db, id).await?;
    if villages::has_data(db, id).await? {
        return Err(ServiceError::Refused(format!(
            "“{}”已有人员、账号或活动等数据，不能删除",
            village.name
        )));
    }
    Ok(villages::delete(db, &village, actor.user_id).await?)
}

/// The name is checked before writing; a unique violation left is the code.
fn duplicate_code_to_field_error(e: ServiceError) -> ServiceError {
    match e {
        ServiceError::Store(s) if s.is_unique_violation() => {
            let mut errors = FieldErrors::new();
            errors.insert("code".into(), "该编码已被其他村(社区)使用".into());
            ServiceError::Invalid(errors)
        }
        other => other,
    }
}

/// What one village did in a year: the village page.
#[derive(Debug, Clone)]
pub struct VillageYear {
    pub village: Village,
    pub sessions: Vec<crate::store::sessions::Session>,
    pub activities: Vec<crate::store::activities::ActivityRow>,
    pub materials_received: Vec<crate::store::Subtotal>,
    pub legal_literates: i64,
    /// Months ("01".."12", up to today in the current year) without a session or activity.
    pub quiet_months: Vec<u32>,
}

impl VillageYear {
    pub fn meets_literate_target(&self) -> bool {
        self.legal_literates >= crate::domain::category::LEGAL_LITERATE_TARGET
    }
}

pub async fn village_year(
    db: &Db,
    actor: &Actor,
    id: i64,
    year: i32,
    today: chrono::NaiveDate,
) -> ServiceResult<VillageYear> {
    if !actor.can_see_village(Some(id)) {
        return Err(ServiceError::NotFound);
    }
    let key = format!("village-year:{id}:{year}:{today}");
    super::cache::by_data_version(db, key, || compute_village_year(db, id, year, today)).await
}

async fn compute_village_year(
    db: &Db,
    id: i64,
    year: i32,
    today: chrono::NaiveDate,
) -> ServiceResult<VillageYear> {
    use crate::domain::dates::Period;
    use crate::store::activities::{self as acts, ActivityFilter};
    use crate::store::distributions::{self as dist, DistributionDimension, DistributionFilter};
    use chrono::Datelike;

    let village = get_village(db, id).await?;
    let period = Period::of(year, None).ok_or(ServiceError::NotFound)?;
    let session_filter = crate::store::sessions::SessionFilter {
        period,
        village: VillageScope::Village(id),
        include_township: false,
        kind: None,
        status: None,
    };
    let sessions = crate::store::sessions::list(db, &session_filter, 1000, 0).await?;
    let activity_filter = ActivityFilter {
        period,
        village: VillageScope::Village(id),
        form: None,
        place: None,
        group: None,
    };
    let activities = acts::list(db, &activity_filter, 1000, 0).await?;
    let distribution_filter = DistributionFilter {
        period,
        village: VillageScope::Village(id),
        material_kind: None,
        material_id: None,
    };
    let materials_received =
        dist::subtotals(db, &distribution_filter, DistributionDimension::Material).await?;
    // The roster at the end of the year, or today while the year is running.
    let as_of = period.last_day().min(today);
    let legal_literates = crate::store::summary::legal_literates_by_village(
        db,
        period,
        as_of,
        VillageScope::Village(id),
    )
    .await?
    .first()
    .map_or(0, |(_, _, on_roster, _)| *on_roster);
    let active = acts::months_with_outreach(db, id, period).await?;
    let last_month = match year.cmp(&today.year()) {
        std::cmp::Ordering::Less => 12,
        std::cmp::Ordering::Equal => today.month(),
        std::cmp::Ordering::Greater => 0,
    };
    let quiet_months = (1..=last_month)
        .filter(|m| !active.contains(&format!("{m:02}")))
        .collect();
    Ok(VillageYear {
        village,
        sessions,
        activities,
        materials_received,
        legal_literates,
        quiet_months,
    })
}
