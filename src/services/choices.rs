//! Drop-down choices shared by several forms and filters, as this actor may choose them.

use serde::Serialize;

use super::{Actor, ServiceResult};
use crate::store::{materials, villages, Db};

pub use crate::store::villages::Village;

/// Villages the actor may choose on forms and filters: all of them, or a clerk's own.
pub async fn selectable_villages(db: &Db, actor: &Actor) -> ServiceResult<Vec<Village>> {
    let all = villages::list(db).await?;
    Ok(all
        .into_iter()
        .filter(|v| actor.can_see_village(Some(v.id)))
        .collect())
}

/// The village of this exact name, if any (the command line names villages).
pub async fn village_named(db: &Db, name: &str) -> ServiceResult<Option<Village>> {
    Ok(villages::find_by_name(db, name).await?)
}

/// A material in a `<select>`.
#[derive(Debug, Clone, Serialize)]
pub struct MaterialChoice {
    pub id: i64,
    pub title: String,
    pub unit: String,
}

/// The whole catalogue (everybody logged in reads it).
pub async fn material_choices(db: &Db) -> ServiceResult<Vec<MaterialChoice>> {
    Ok(materials::choices(db)
        .await?
        .into_iter()
        .map(|(id, title, unit)| MaterialChoice { id, title, unit })
        .collect())
}

/// The village a new record's form starts with: the actor's own for a clerk, else none.
pub fn default_village(actor: &Actor) -> String {
    actor
        .confined_village()
        .map(|v| v.to_string())
        .unwrap_or_default()
}
