//! Drop-down choices shared by several forms and filters (the service decides which).

use super::error::AppResult;
use crate::services::choices::{self, MaterialChoice, Village};
use crate::services::{Actor, Db};

/// Villages the actor may choose on forms and filters.
pub async fn selectable_villages(db: &Db, actor: &Actor) -> AppResult<Vec<Village>> {
    Ok(choices::selectable_villages(db, actor).await?)
}

/// Materials for a `<select>`: id, title and unit.
pub async fn material_choices(db: &Db) -> AppResult<Vec<MaterialChoice>> {
    Ok(choices::material_choices(db).await?)
}

/// An empty form field for a village: the actor's own for a clerk, else none.
pub fn default_village(actor: &Actor) -> String {
    choices::default_village(actor)
}
