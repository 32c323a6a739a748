//! Logging in and out, and the one-time setup link that creates the first admin.

use rocket::http::CookieJar;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::checkin::ClientAddress;
use super::csrf::{self, CsrfForm};
use super::error::AppResult;
use super::forms::{ActionForm, LoginForm, SetupForm};
use super::guards::{set_session_cookie, take_session_cookie, Browser, CurrentUser};
use super::render::Chrome;
use crate::domain::person::FieldErrors;
use crate::services::auth::{self, LoginError};
use crate::services::{Db, ServiceError};

#[derive(Serialize)]
struct LoginPage<'a> {
    next: &'a str,
    username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct SetupPage<'a> {
    token: &'a str,
    errors: &'a FieldErrors,
    username: &'a str,
    display_name: &'a str,
    /// PUFA_PUBLIC_URL is not set: QR codes and feed links follow the address the browser
    /// used, which a proxy or a phone may not reach.
    public_url_missing: bool,
}

fn public_url_missing() -> bool {
    super::guards::public_url().is_none()
}

/// Only local paths are followed after login, never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[rocket::get("/login?<next>")]
fn login_page(
    next: Option<&str>,
    chrome: Chrome,
    user: Option<CurrentUser>,
) -> Either<Template, Redirect> {
    if user.is_some() {
        return Either::Right(Redirect::to(safe_next(next)));
    }
    let page = LoginPage {
        next: &safe_next(next),
        username: "",
        error: None,
    };
    Either::Left(chrome.render("login", page))
}

#[rocket::post("/login", data = "<form>")]
async fn login_submit(
    form: CsrfForm<LoginForm>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
    address: ClientAddress,
    browser: Browser,
    chrome: Chrome,
) -> AppResult<Either<Template, Redirect>> {
    let form = form.0;
    let next = safe_next(form.next.as_deref());
    let attempt = auth::LoginAttempt {
        username: &form.username,
        password: &form.password,
        address: &address.0,
        user_agent: &browser.0,
    };
    match auth::login(db, &attempt).await {
        Ok((_, token)) => {
            set_session_cookie(jar, token);
            csrf::rotate(jar);
            Ok(Either::Right(Redirect::to(next)))
        }
        Err(LoginError::Service(e)) => Err(e.into()),
        Err(refusal) => {
            let page = LoginPage {
                next: &next,
                username: form.username.trim(),
                error: Some(refusal.to_string()),
            };
            Ok(Either::Left(chrome.render("login", page)))
        }
    }
}

#[rocket::post("/logout", data = "<_form>")]
async fn logout(
    _form: CsrfForm<ActionForm>,
    jar: &CookieJar<'_>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    if let Some(token) = take_session_cookie(jar) {
        auth::end_session(db, &token).await?;
    }
    csrf::rotate(jar);
    Ok(Flash::success(Redirect::to("/login"), "您已退出登录。"))
}

#[rocket::get("/setup?<token>")]
async fn setup_page(token: Option<&str>, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let token = token.unwrap_or_default();
    if !auth::setup_token_is_valid(db, token).await? {
        return Err(ServiceError::Refused(
            "初始化链接无效或已被使用。管理员账号已存在时，请直接登录。".into(),
        )
        .into());
    }
    let page = SetupPage {
        token,
        errors: &FieldErrors::new(),
        username: "",
        display_name: "",
        public_url_missing: public_url_missing(),
    };
    Ok(chrome.render("setup", page))
}

#[rocket::post("/setup", data = "<form>")]
async fn setup_submit(
    form: CsrfForm<SetupForm>,
    db: &State<Db>,
    jar: &CookieJar<'_>,
    address: ClientAddress,
    browser: Browser,
    chrome: Chrome,
) -> AppResult<Either<Template, Redirect>> {
    let form = form.0;
    let rerender = |errors: &FieldErrors| {
        let page = SetupPage {
            token: &form.token,
            errors,
            username: &form.username,
            display_name: &form.display_name,
            public_url_missing: public_url_missing(),
        };
        chrome.render("setup", page)
    };
    if form.password != form.password_confirm {
        let mut errors = FieldErrors::new();
        errors.insert("password_confirm".into(), "两次输入的密码不一致".into());
        return Ok(Either::Left(rerender(&errors)));
    }
    match auth::create_first_admin(
        db,
        &form.token,
        &form.username,
        &form.display_name,
        &form.password,
    )
    .await
    {
        Ok(id) => {
            let token = auth::start_session(db, id, &address.0, &browser.0).await?;
            set_session_cookie(jar, token);
            csrf::rotate(jar);
            Ok(Either::Right(Redirect::to("/villages")))
        }
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(rerender(&errors))),
        Err(e) => Err(e.into()),
    }
}

pub fn routes() -> Vec<Route> {
    rocket::routes![login_page, login_submit, logout, setup_page, setup_submit]
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/people?village=1")), "/people?village=1");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }
}
