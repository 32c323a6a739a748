//! Who is asking. The login lives on the server (`services::auth`); the browser holds its
//! random token in a private (encrypted, authenticated) cookie. The session and the account
//! are re-read on every request, so that a log-out, a password change or a deactivation
//! ends it at once.

use chrono::Utc;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::State;

use crate::services::auth::{session_user, User, SESSION_HOURS};
use crate::services::{Actor, Db};

const COOKIE: &str = "pufa_session";

/// Whether cookies are sent over HTTPS only: when the public address (PUFA_PUBLIC_URL) is
/// https. Without it, or on plain http in a township's LAN, a Secure cookie would never
/// come back.
pub fn cookies_secure() -> bool {
    public_url().is_some_and(|url| url.starts_with("https://"))
}

/// The address people reach pufa at, when configured (PUFA_PUBLIC_URL), without a
/// trailing slash.
pub fn public_url() -> Option<String> {
    std::env::var("PUFA_PUBLIC_URL")
        .ok()
        .map(|u| u.trim().trim_end_matches('/').to_string())
        .filter(|u| !u.is_empty())
}

/// Gives the browser the session's token.
pub fn set_session_cookie(jar: &CookieJar<'_>, token: String) {
    let cookie = Cookie::build((COOKIE, token))
        .http_only(true)
        .secure(cookies_secure())
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(rocket::time::Duration::hours(SESSION_HOURS));
    jar.add_private(cookie);
}

/// Takes the session's token back from the browser (log-out); returns it, to end the
/// session on the server.
pub fn take_session_cookie(jar: &CookieJar<'_>) -> Option<String> {
    let token = jar.get_private(COOKIE).map(|c| c.value().to_string());
    jar.remove_private(Cookie::build(COOKIE).path("/"));
    token
}

/// The session token the browser sent (whether or not it is still valid: ask
/// `CurrentUser` for that).
pub fn session_token(req: &Request<'_>) -> Option<String> {
    req.cookies()
        .get_private(COOKIE)
        .map(|c| c.value().to_string())
}

/// A logged-in, active user, and the id of their session. Anonymous requests get 401,
/// which the catcher turns into a redirect to the login page.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub actor: Actor,
    pub session_id: i64,
}

struct CachedUser(Option<CurrentUser>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let cached = req
            .local_cache_async(async {
                let Some(cookie) = req.cookies().get_private(COOKIE) else {
                    return CachedUser(None);
                };
                let Outcome::Success(db) = req.guard::<&State<Db>>().await else {
                    return CachedUser(None);
                };
                match session_user(db, cookie.value(), Utc::now()).await {
                    Ok(Some((user, session))) => {
                        CachedUser(Actor::from_user(&user).ok().map(|actor| CurrentUser {
                            actor,
                            user,
                            session_id: session.id,
                        }))
                    }
                    Ok(None) => CachedUser(None),
                    Err(e) => {
                        tracing::error!("loading the session user failed: {e}");
                        CachedUser(None)
                    }
                }
            })
            .await;
        match &cached.0 {
            Some(user) => Outcome::Success(user.clone()),
            None => Outcome::Error((Status::Unauthorized, ())),
        }
    }
}

/// The id of the request's user, if a guard already looked it up (for the request log;
/// it never looks it up itself).
pub fn known_user_id(req: &Request<'_>) -> Option<i64> {
    req.local_cache(|| CachedUser(None))
        .0
        .as_ref()
        .and_then(|u| u.actor.user_id)
}

/// The browser's own description (User-Agent), shortened, for the list of sessions.
pub struct Browser(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Browser {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        let agent = req.headers().get_one("User-Agent").unwrap_or_default();
        Outcome::Success(Browser(agent.chars().take(200).collect()))
    }
}

/// Users, villages and settings: admin only.
pub struct AdminUser(pub CurrentUser);

/// May change records (admin, organizer, clerk); the viewer may not.
pub struct EditorUser(pub CurrentUser);

async fn user_with<'r>(
    req: &'r Request<'_>,
    allowed: fn(&CurrentUser) -> bool,
) -> request::Outcome<CurrentUser, ()> {
    match req.guard::<CurrentUser>().await {
        Outcome::Success(user) if allowed(&user) => Outcome::Success(user),
        Outcome::Success(_) => Outcome::Error((Status::Forbidden, ())),
        Outcome::Error(e) => Outcome::Error(e),
        Outcome::Forward(f) => Outcome::Forward(f),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AdminUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        user_with(req, |u| u.actor.may_administer())
            .await
            .map(AdminUser)
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for EditorUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        user_with(req, |u| u.actor.may_edit_records())
            .await
            .map(EditorUser)
    }
}

/// The material catalogue and stock receipts: admin and organizer.
pub struct CatalogueUser(pub CurrentUser);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CatalogueUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        user_with(req, |u| u.actor.may_manage_catalogue())
            .await
            .map(CatalogueUser)
    }
}
