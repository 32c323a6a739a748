//! The web tier: Rocket routes grouped by resource, Tera templates, request guards for
//! roles and CSRF. It keeps no state of its own, so several instances can share one
//! PostgreSQL database.

mod account;
mod activities;
mod assets;
mod attendance;
mod audit;
mod auth;
mod calendar;
mod charts;
mod checkin;
mod choices;
mod csrf;
mod distributions;
mod download;
mod error;
mod export;
mod forms;
mod guards;
mod history;
mod home;
mod imports;
mod materials;
mod people;
mod period;
mod render;
mod request_log;
mod requirements;
mod self_study;
mod sessions;
mod settings;
mod subtotals;
mod users;
mod views;
mod villages;

use rocket::figment::Figment;
use rocket::{Build, Rocket};
use rocket_dyn_templates::Template;

use crate::services::signing::TokenKey;
use crate::services::Db;

pub use guards::CurrentUser;

/// Headers on every response: scripts only from pufa itself (no inline script), no framing,
/// no referrer beyond the site (check-in and feed tokens travel in URLs), no content-type
/// guessing; pages (which show personal data) are not kept in caches.
fn security_headers() -> rocket::fairing::AdHoc {
    use rocket::http::{ContentType, Header};
    const POLICY: &str =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
         object-src 'none'";
    rocket::fairing::AdHoc::on_response("security headers", |_, response| {
        Box::pin(async move {
            response.set_header(Header::new("Content-Security-Policy", POLICY));
            response.set_header(Header::new("X-Frame-Options", "DENY"));
            response.set_header(Header::new("Referrer-Policy", "same-origin"));
            response.set_header(Header::new("X-Content-Type-Options", "nosniff"));
            let is_page = response.content_type() == Some(ContentType::HTML);
            if is_page && response.headers().get_one("Cache-Control").is_none() {
                response.set_header(Header::new("Cache-Control", "no-store"));
            }
        })
    })
}

/// The application on an already migrated database.
/// The key check-in links and form tokens are signed with, from the server's secret key;
/// without a configured one (a debug run), a key of this run's own.
pub fn token_key(figment: &Figment) -> TokenKey {
    match figment.extract_inner::<rocket::figment::value::Value>("secret_key") {
        Ok(value) => match serde_json::to_string(&value) {
            Ok(text) => TokenKey::from_secret(&text),
            Err(_) => TokenKey::random(),
        },
        Err(_) => TokenKey::random(),
    }
}

pub fn build(figment: Figment, db: Db) -> Rocket<Build> {
    let key = token_key(&figment);
    // Uploads up to the import limit (20 MiB) plus the form around them.
    let limits = rocket::data::Limits::default()
        .limit("file", rocket::data::ToByteUnit::mebibytes(21))
        .limit("data-form", rocket::data::ToByteUnit::mebibytes(22));
    let figment = figment.merge(("limits", limits));
    // The client's address is the connection's own. Only a proxy pufa is told about may
    // name another (PUFA_PROXY_IP_HEADER=X-Real-IP behind nginx): otherwise anyone could
    // claim a new address per request and walk past the check-in and log-in throttles.
    let ip_header = match std::env::var("PUFA_PROXY_IP_HEADER") {
        Ok(header) if !header.trim().is_empty() => {
            rocket::figment::value::Value::from(header.trim().to_string())
        }
        _ => rocket::figment::value::Value::from(false),
    };
    let figment = figment.merge(("ip_header", ip_header));
    let figment = match crate::embedded::template_dir() {
        Ok(dir) => figment.merge(("template_dir", dir)),
        Err(e) => {
            tracing::error!("cannot write the page templates to the temporary folder: {e}");
            figment
        }
    };
    rocket::custom(figment)
        .manage(db)
        .manage(key)
        .attach(request_log::RequestLog)
        .attach(Template::fairing())
        .attach(security_headers())
        .attach(audit::downloads_are_audited())
        .mount("/", assets::routes())
        .mount("/", auth::routes())
        .mount("/", account::routes())
        .mount("/", audit::routes())
        .mount("/", home::routes())
        .mount("/", export::routes())
        .mount("/users", users::routes())
        .mount("/villages", villages::routes())
        .mount("/people", people::routes())
        .mount("/materials", materials::routes())
        .mount("/distributions", distributions::routes())
        .mount("/activities", activities::routes())
        .mount("/self-study", self_study::routes())
        .mount("/sessions", sessions::routes())
        .mount("/sessions", attendance::routes())
        .mount("/sessions", requirements::routes())
        .mount("/", checkin::routes())
        .mount("/", calendar::routes())
        .mount("/settings", settings::routes())
        .mount("/imports", imports::routes())
        .register("/", error::catchers())
}
