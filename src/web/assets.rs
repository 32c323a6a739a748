//! The stylesheet, script and icon, compiled into the binary so the app needs no CDN and no
//! static folder at run time; and the health check.

use rocket::http::ContentType;
use rocket::Route;

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");
/// A pair of scales on pufa's red: browsers ask for an icon on every first visit, and a
/// missing one was a 404 (and an ERROR line in the log) each time.
const FAVICON: &str = include_str!("../../static/favicon.svg");

#[rocket::get("/static/app.css")]
fn app_css() -> (ContentType, &'static str) {
    (ContentType::CSS, APP_CSS)
}

#[rocket::get("/static/app.js")]
fn app_js() -> (ContentType, &'static str) {
    (ContentType::JavaScript, APP_JS)
}

#[rocket::get("/favicon.ico")]
fn favicon() -> (ContentType, &'static str) {
    (ContentType::SVG, FAVICON)
}

#[rocket::get("/static/favicon.svg")]
fn favicon_svg() -> (ContentType, &'static str) {
    (ContentType::SVG, FAVICON)
}

/// For a proxy or monitor: the process is up and the database answers. No login, and
/// nothing about the data.
#[rocket::get("/healthz")]
async fn healthz(db: &rocket::State<crate::services::Db>) -> (rocket::http::Status, &'static str) {
    match db.ping().await {
        Ok(()) => (rocket::http::Status::Ok, "ok"),
        Err(e) => {
            tracing::error!("health check: the database does not answer: {e}");
            (
                rocket::http::Status::ServiceUnavailable,
                "database unavailable",
            )
        }
    }
}

pub fn routes() -> Vec<Route> {
    rocket::routes![app_css, app_js, favicon, favicon_svg, healthz]
}
