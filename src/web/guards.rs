//! Who is asking. The login lives in a private (encrypted, authenticated) cookie holding
//! the user id and when it was issued; the account is re-read on every request so that a
//! deactivated user is out at once.

use chrono::Utc;
use rocket::http::{Cookie, CookieJar, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};
use rocket::State;

use crate::services::auth::{current_user, User};
use crate::services::{Actor, Db};

const COOKIE: &str = "pufa_session";
/// A login lasts a working day.
pub const SESSION_HOURS: i64 = 12;

pub fn start_session(jar: &CookieJar<'_>, user_id: i64) {
    let value = format!("{user_id}.{}", Utc::now().timestamp());
    let cookie = Cookie::build((COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(rocket::time::Duration::hours(SESSION_HOURS));
    jar.add_private(cookie);
}

pub fn end_session(jar: &CookieJar<'_>) {
    jar.remove_private(Cookie::build(COOKIE).path("/"));
}

fn session_user_id(jar: &CookieJar<'_>) -> Option<i64> {
    let cookie = jar.get_private(COOKIE)?;
    let (id, issued) = cookie.value().split_once('.')?;
    let issued: i64 = issued.parse().ok()?;
    let age = Utc::now().timestamp() - issued;
    if !(0..SESSION_HOURS * 3600).contains(&age) {
        return None;
    }
    id.parse().ok()
}

/// A logged-in, active user. Anonymous requests get 401, which the catcher turns into a
/// redirect to the login page.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: User,
    pub actor: Actor,
}

struct CachedUser(Option<CurrentUser>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CurrentUser {
    type Error = ();

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, ()> {
        let cached = req
            .local_cache_async(async {
                let Some(id) = session_user_id(req.cookies()) else {
                    return CachedUser(None);
                };
                let Outcome::Success(db) = req.guard::<&State<Db>>().await else {
                    return CachedUser(None);
                };
                match current_user(db, id).await {
                    Ok(Some(user)) => CachedUser(
                        Actor::from_user(&user)
                            .ok()
                            .map(|actor| CurrentUser { actor, user }),
                    ),
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
