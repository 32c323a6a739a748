//! The stylesheet, compiled into the binary so the app needs no CDN and no static folder
//! at run time.

use rocket::http::ContentType;
use rocket::Route;

const APP_CSS: &str = include_str!("../../static/app.css");
const APP_JS: &str = include_str!("../../static/app.js");

#[rocket::get("/static/app.css")]
fn app_css() -> (ContentType, &'static str) {
    (ContentType::CSS, APP_CSS)
}

#[rocket::get("/static/app.js")]
fn app_js() -> (ContentType, &'static str) {
    (ContentType::JavaScript, APP_JS)
}

pub fn routes() -> Vec<Route> {
    rocket::routes![app_css, app_js]
}
