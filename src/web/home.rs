//! The start page after login. The full dashboard (annual figures, charts) comes with the
//! annual summary; for now it shows what the registry holds and where to go next.

use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

use super::error::AppResult;
use super::guards::CurrentUser;
use super::render::Chrome;
use crate::store::people::PersonFilter;
use crate::store::{people, villages, Db};

#[rocket::get("/")]
async fn home(me: CurrentUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let filter = PersonFilter {
        village_id: me.actor.confined_village(),
        active: Some(true),
        ..PersonFilter::default()
    };
    let people_count = people::count(db, &filter).await?;
    let village_count = villages::count(db).await?;
    Ok(chrome.render(
        "home",
        json!({ "people_count": people_count, "village_count": village_count }),
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![home]
}
