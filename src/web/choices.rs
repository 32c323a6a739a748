//! Drop-down choices shared by several forms and filters.

use serde_json::{json, Value};

use super::error::AppResult;
use crate::services::{villages, Actor};
use crate::store::villages::Village;
use crate::store::Db;

/// Villages the actor may choose on forms and filters.
pub async fn selectable_villages(db: &Db, actor: &Actor) -> AppResult<Vec<Village>> {
    let all = villages::list_villages(db).await?;
    Ok(all
        .into_iter()
        .filter(|v| actor.can_see_village(Some(v.id)))
        .collect())
}

/// Materials for a `<select>`: id, title and unit.
pub async fn material_choices(db: &Db) -> AppResult<Vec<Value>> {
    let rows = crate::store::materials::choices(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, title, unit)| json!({ "id": id, "title": title, "unit": unit }))
        .collect())
}

/// An empty form field for a village: the actor's own for a clerk, else none.
pub fn default_village(actor: &Actor) -> String {
    actor.village_id.map(|v| v.to_string()).unwrap_or_default()
}
