//! CSRF protection: a token repeated in a hidden field of every form. `CsrfForm<T>`
//! accepts a form only when it carries the request's token, so a handler cannot forget the
//! check. A logged-in request's token is bound to its server session (signed from the
//! session's token with the server key): it changes at log-in, ends with the session, and a
//! token from another session (another user's, planted in a cookie) is refused. Before
//! log-in (the log-in, setup and check-in forms) it is a random token in a private cookie.

use rocket::data::{self, Data, FromData};
use rocket::form::{Form, FromForm};
use rocket::http::{Cookie, SameSite, Status};
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use super::guards::{session_token, CurrentUser};
use crate::services::passwords::secrets_match;
use crate::services::signing::TokenKey;

const COOKIE: &str = "pufa_csrf";

/// The token to put in the forms of the page being rendered.
pub struct CsrfToken(pub String);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for CsrfToken {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        if let Some(bound) = session_bound_token(req).await {
            return Outcome::Success(CsrfToken(bound));
        }
        let jar = req.cookies();
        if let Some(existing) = jar.get_private(COOKIE) {
            return Outcome::Success(CsrfToken(existing.value().to_string()));
        }
        let token = crate::random_token();
        let cookie = Cookie::build((COOKIE, token.clone()))
            .http_only(true)
            .secure(super::guards::cookies_secure())
            .same_site(SameSite::Lax)
            .path("/");
        jar.add_private(cookie);
        Outcome::Success(CsrfToken(token))
    }
}

const PURPOSE: &str = "csrf";

/// The token of a logged-in request: signed from its session's token, so it holds for that
/// session only.
async fn session_bound_token(req: &Request<'_>) -> Option<String> {
    if !req.guard::<CurrentUser>().await.is_success() {
        return None;
    }
    let session = session_token(req)?;
    let key = req.rocket().state::<TokenKey>()?;
    Some(key.sign(PURPOSE, &session))
}

/// The token a form sent with this request must carry.
async fn expected_token(req: &Request<'_>) -> Option<String> {
    match session_bound_token(req).await {
        Some(bound) => Some(bound),
        None => req
            .cookies()
            .get_private(COOKIE)
            .map(|c| c.value().to_string()),
    }
}

/// A new anonymous token at log-in and log-out: a token planted before the log-in (or seen by
/// someone at a shared PC) is of no use afterwards. The next page sets the new one.
pub fn rotate(jar: &rocket::http::CookieJar<'_>) {
    jar.remove_private(Cookie::build(COOKIE).path("/"));
}

/// A form that carries a `csrf_token` field.
pub trait CsrfProtected {
    /// Only the upload form is sent as multipart (files, up to the import limit); any other
    /// form sent that way is refused before its body is read, so the large upload limit
    /// never applies to it.
    const CARRIES_FILES: bool = false;

    fn csrf_token(&self) -> &str;
}

/// Marks the request as refused for a bad CSRF token, so the 403 page can say why.
#[derive(Default)]
pub struct CsrfRejected(pub bool);

pub struct CsrfForm<T>(pub T);

#[derive(Debug)]
pub enum CsrfFormError<'r> {
    Form(#[allow(dead_code)] rocket::form::Errors<'r>),
    Token,
    Multipart,
}

#[rocket::async_trait]
impl<'r, T: FromForm<'r> + CsrfProtected> FromData<'r> for CsrfForm<T> {
    type Error = CsrfFormError<'r>;

    async fn from_data(req: &'r Request<'_>, data: Data<'r>) -> data::Outcome<'r, Self> {
        let multipart = req.content_type().is_some_and(|t| t.is_form_data());
        if multipart && !T::CARRIES_FILES {
            return Outcome::Error((Status::UnsupportedMediaType, CsrfFormError::Multipart));
        }
        let form = match Form::<T>::from_data(req, data).await {
            Outcome::Success(form) => form.into_inner(),
            Outcome::Error((status, errors)) => {
                return Outcome::Error((status, CsrfFormError::Form(errors)))
            }
            Outcome::Forward(f) => return Outcome::Forward(f),
        };
        let expected = expected_token(req).await;
        match expected {
            Some(expected)
                if !form.csrf_token().is_empty() && secrets_match(&expected, form.csrf_token()) =>
            {
                Outcome::Success(CsrfForm(form))
            }
            _ => {
                req.local_cache(|| CsrfRejected(true));
                Outcome::Error((Status::Forbidden, CsrfFormError::Token))
            }
        }
    }
}
