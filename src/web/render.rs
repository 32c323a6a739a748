//! What every page shows around its content: the navigation for the user's role, the
//! CSRF token for its forms and a one-time flash message.

use rocket::outcome::Outcome;
use rocket::request::{self, FlashMessage, FromRequest, Request};
use rocket_dyn_templates::{Metadata, Template};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;

use super::csrf::CsrfToken;
use super::guards::CurrentUser;
use crate::services::cache::by_data_version;
use crate::services::{Actor, Db, ServiceError, ServiceResult};

pub struct Chrome {
    user: Option<CurrentUser>,
    csrf_token: String,
    flash: Option<(String, String)>,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Chrome {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let user = req.guard::<CurrentUser>().await.succeeded();
        let csrf_token = match req.guard::<CsrfToken>().await {
            Outcome::Success(token) => token.0,
            _ => String::new(),
        };
        let flash = req
            .guard::<Option<FlashMessage<'_>>>()
            .await
            .succeeded()
            .flatten()
            .map(|f| (f.kind().to_string(), f.message().to_string()));
        Outcome::Success(Chrome {
            user,
            csrf_token,
            flash,
        })
    }
}

/// The one-time message after a redirect: "success" or "error", and the words.
#[derive(Serialize)]
struct FlashView<'a> {
    kind: &'a str,
    message: &'a str,
}

/// The logged-in user as the navigation shows them.
#[derive(Serialize)]
struct MeView<'a> {
    id: i64,
    username: &'a str,
    display_name: &'a str,
    role: &'static str,
    role_label: &'static str,
    village_name: Option<&'a str>,
    is_admin: bool,
    can_edit: bool,
}

fn value_of(view: impl Serialize) -> Value {
    serde_json::to_value(view).unwrap_or(Value::Null)
}

impl Chrome {
    /// Renders `template` with `context` (a page's view struct, serialised as an object)
    /// plus the page chrome.
    pub fn render(&self, template: &'static str, context: impl serde::Serialize) -> Template {
        let mut context = match serde_json::to_value(context) {
            Ok(Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        };
        context.insert("csrf_token".into(), Value::from(self.csrf_token.as_str()));
        let flash = self
            .flash
            .as_ref()
            .map(|(kind, message)| FlashView { kind, message });
        context.insert("flash".into(), value_of(flash));
        if let Some(current) = &self.user {
            let role = current.actor.role;
            let me = MeView {
                id: current.user.id,
                username: &current.user.username,
                display_name: &current.user.display_name,
                role: role.code(),
                role_label: role.label_zh(),
                village_name: current.user.village_name.as_deref(),
                is_admin: role.can_administer(),
                can_edit: role.can_edit_records(),
            };
            context.insert("me".into(), value_of(me));
        }
        Template::render(template, Value::Object(context))
    }
}

/// `template` rendered with `context` as HTML. A template that does not render (a bug,
/// logged) is refused with a message the error page shows.
pub fn render_html(
    templates: &Metadata<'_>,
    template: &'static str,
    context: &impl Serialize,
) -> ServiceResult<String> {
    templates
        .render(template, context)
        .map(|(_, html)| html)
        .ok_or_else(|| {
            tracing::error!("template {template} did not render");
            ServiceError::Refused("页面暂时无法显示，请稍后再试".into())
        })
}

/// A view as a template context. The view may borrow what its page read; the context
/// owns its values, so it outlives them.
pub fn context_of(view: impl Serialize) -> ServiceResult<Value> {
    serde_json::to_value(view).map_err(|e| {
        tracing::error!("a page's view did not serialise: {e}");
        ServiceError::Refused("页面暂时无法显示，请稍后再试".into())
    })
}

/// The key a page drawn for `actor` is kept under: `view` (whatever names the view besides
/// the data: the page, its filter, the year) with the actor's role and village, on which
/// every drawn page depends (its links, and a clerk's rows).
pub fn page_key(actor: &Actor, view: String) -> String {
    format!(
        "{view}:{}:{:?}",
        actor.role.code(),
        actor.confined_village()
    )
}

/// A page's content as HTML, drawn from the context `context` gives once per data version
/// and view for the actor's role and village ([`page_key`]). Serialising and rendering a
/// list page's context was most of a cached page's time under load.
pub async fn drawn_once<F, Fut>(
    db: &Db,
    actor: &Actor,
    view: String,
    templates: &Metadata<'_>,
    template: &'static str,
    context: F,
) -> ServiceResult<Arc<String>>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ServiceResult<Value>>,
{
    by_data_version(db, page_key(actor, view), || async {
        render_html(templates, template, &context().await?).map(Arc::new)
    })
    .await
}

/// The context of a page whose content was drawn by [`drawn_once`].
#[derive(Serialize)]
pub struct DrawnPage<'a> {
    pub body: &'a str,
}
