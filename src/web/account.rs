//! /account: the user's own password and log-in sessions ("log out everywhere"). The
//! list of sessions is shown to admins on a user's page too.

use rocket::http::CookieJar;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::checkin::ClientAddress;
use super::csrf::{self, CsrfForm};
use super::error::AppResult;
use super::forms::{ActionForm, OwnPasswordForm};
use super::guards::{set_session_cookie, take_session_cookie, Browser, CurrentUser};
use super::render::Chrome;
use super::views::local_minute;
use crate::domain::person::FieldErrors;
use crate::services::auth;
use crate::services::auth::LoginSession;
use crate::services::{Db, ServiceError};

/// A log-in session as listed: when it began and was last used, from where and in what.
#[derive(Serialize)]
pub struct SessionLine {
    created: String,
    last_seen: String,
    address: String,
    browser: String,
    current: bool,
}

pub fn session_lines(sessions: &[LoginSession], current: Option<i64>) -> Vec<SessionLine> {
    sessions
        .iter()
        .map(|s| SessionLine {
            created: local_minute(s.created_at),
            last_seen: local_minute(s.last_seen_at),
            address: s.address.clone(),
            browser: browser_name(&s.user_agent).to_string(),
            current: Some(s.id) == current,
        })
        .collect()
}

/// A short name for a User-Agent, enough to tell a phone from the office PC.
fn browser_name(agent: &str) -> &'static str {
    let phone = agent.contains("Mobile") || agent.contains("Android") || agent.contains("iPhone");
    let name = if agent.contains("MicroMessenger") {
        "微信"
    } else if agent.contains("Edg/") {
        "Edge"
    } else if agent.contains("Firefox/") {
        "Firefox"
    } else if agent.contains("Chrome/") || agent.contains("Chromium/") {
        "Chrome"
    } else if agent.contains("Safari/") {
        "Safari"
    } else if phone {
        return "手机浏览器";
    } else {
        return "其他";
    };
    match (phone, name) {
        (true, "微信") => "手机微信",
        (true, "Chrome") => "手机 Chrome",
        (true, "Safari") => "手机 Safari",
        (true, _) => "手机浏览器",
        (false, n) => n,
    }
}

#[derive(Serialize)]
struct AccountPage {
    username: String,
    sessions: Vec<SessionLine>,
    errors: FieldErrors,
}

async fn account_page(
    db: &Db,
    me: &CurrentUser,
    chrome: &Chrome,
    errors: FieldErrors,
) -> AppResult<Template> {
    let user_id = me.user.id;
    let sessions = auth::sessions_of(db, &me.actor, user_id).await?;
    let page = AccountPage {
        username: me.user.username.clone(),
        sessions: session_lines(&sessions, Some(me.session_id)),
        errors,
    };
    Ok(chrome.render("account", page))
}

#[rocket::get("/account")]
async fn account(me: CurrentUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    account_page(db, &me, &chrome, FieldErrors::new()).await
}

#[rocket::post("/account/password", data = "<form>")]
#[allow(clippy::too_many_arguments)]
async fn change_password(
    me: CurrentUser,
    form: CsrfForm<OwnPasswordForm>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
    address: ClientAddress,
    browser: Browser,
    chrome: Chrome,
) -> AppResult<Either<Template, Flash<Redirect>>> {
    let form = form.0;
    match auth::change_own_password(
        db,
        &me.actor,
        &form.current,
        &form.password,
        &form.password_confirm,
    )
    .await
    {
        Ok(()) => {
            // Every session ended with the old password; this browser goes on in a new one.
            let token = auth::start_session(db, me.user.id, &address.0, &browser.0).await?;
            set_session_cookie(jar, token);
            csrf::rotate(jar);
            Ok(Either::Right(Flash::success(
                Redirect::to("/account"),
                "密码已修改。其他电脑和手机上的登录已全部结束。",
            )))
        }
        Err(ServiceError::Invalid(errors)) => {
            Ok(Either::Left(account_page(db, &me, &chrome, errors).await?))
        }
        Err(e) => Err(e.into()),
    }
}

/// "Log out everywhere": every session of the account ends, this one too.
#[rocket::post("/account/sessions/end", data = "<_form>")]
async fn end_my_sessions(
    me: CurrentUser,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
) -> AppResult<Flash<Redirect>> {
    auth::end_sessions_of(db, &me.actor, me.user.id).await?;
    take_session_cookie(jar);
    csrf::rotate(jar);
    Ok(Flash::success(
        Redirect::to("/login"),
        "已退出所有电脑和手机上的登录。",
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![account, change_password, end_my_sessions]
}
