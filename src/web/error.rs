//! Errors become Chinese pages in one place: a service error maps to a status, and the
//! catcher for that status renders the page.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::Catcher;
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::csrf::CsrfRejected;
use super::render::Chrome;
use crate::services::ServiceError;

#[derive(Debug)]
pub struct AppError(pub ServiceError);

impl From<ServiceError> for AppError {
    fn from(e: ServiceError) -> Self {
        AppError(e)
    }
}

impl From<crate::services::StoreError> for AppError {
    fn from(e: crate::services::StoreError) -> Self {
        AppError(ServiceError::Store(e))
    }
}

/// A workbook that could not be written: shown as a refusal with the reason.
impl From<crate::sheets::SheetError> for AppError {
    fn from(e: crate::sheets::SheetError) -> Self {
        AppError(e.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// A message set by a handler for the error page of this request.
struct RefusalMessage(Option<String>);

impl<'r> Responder<'r, 'static> for AppError {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        match self.0 {
            ServiceError::NotFound => Err(Status::NotFound),
            ServiceError::Forbidden => Err(Status::Forbidden),
            ServiceError::Refused(message) => {
                req.local_cache(|| RefusalMessage(Some(message)));
                Err(Status::Conflict)
            }
            ServiceError::Invalid(errors) => {
                let message = errors.values().cloned().collect::<Vec<_>>().join("；");
                req.local_cache(|| RefusalMessage(Some(message)));
                Err(Status::UnprocessableEntity)
            }
            ServiceError::Store(e) => {
                tracing::error!("{} {}: {e}", req.method(), req.uri());
                Err(Status::InternalServerError)
            }
        }
    }
}

/// The error page, with the menu of whoever is logged in so they can go on from it.
#[derive(Serialize)]
struct ErrorPage<'a> {
    code: u16,
    title: &'a str,
    message: &'a str,
}

async fn error_page(
    req: &Request<'_>,
    status: Status,
    title: &str,
    message: &str,
) -> (Status, Template) {
    let page = ErrorPage {
        code: status.code,
        title,
        message,
    };
    let template = match req.guard::<Chrome>().await {
        rocket::outcome::Outcome::Success(chrome) => chrome.render("error", page),
        _ => Template::render("error", page),
    };
    (status, template)
}

#[rocket::catch(400)]
async fn bad_request(req: &Request<'_>) -> (Status, Template) {
    error_page(
        req,
        Status::BadRequest,
        "请求有误",
        "请求的内容无法识别，请返回后重试。",
    )
    .await
}

/// Anonymous users go to the login page and come back afterwards.
#[rocket::catch(401)]
fn unauthorized(req: &Request<'_>) -> Redirect {
    let next = req.uri().path().to_string();
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Redirect::to(format!("/login?next={encoded}"))
}

#[rocket::catch(403)]
async fn forbidden(req: &Request<'_>) -> (Status, Template) {
    if req.local_cache(CsrfRejected::default).0 {
        return error_page(
            req,
            Status::Forbidden,
            "表单已失效",
            "安全校验未通过（表单可能已过期）。请返回上一页，刷新后重新提交。",
        )
        .await;
    }
    error_page(
        req,
        Status::Forbidden,
        "没有权限",
        "您的账号没有权限访问此页面或执行此操作。",
    )
    .await
}

#[rocket::catch(404)]
async fn not_found(req: &Request<'_>) -> (Status, Template) {
    error_page(
        req,
        Status::NotFound,
        "页面不存在",
        "您要找的页面或记录不存在。",
    )
    .await
}

#[rocket::catch(409)]
async fn conflict(req: &Request<'_>) -> (Status, Template) {
    let message = req.local_cache(|| RefusalMessage(None)).0.clone();
    error_page(
        req,
        Status::Conflict,
        "无法完成操作",
        message.as_deref().unwrap_or("该操作与现有数据冲突。"),
    )
    .await
}

#[rocket::catch(413)]
async fn payload_too_large(req: &Request<'_>) -> (Status, Template) {
    error_page(
        req,
        Status::PayloadTooLarge,
        "内容过大",
        "提交的内容超过了大小限制。",
    )
    .await
}

#[rocket::catch(422)]
async fn unprocessable(req: &Request<'_>) -> (Status, Template) {
    // A page address whose id is not a number (/people/abc) names no page: not a form.
    if req.method() == rocket::http::Method::Get {
        return not_found(req).await;
    }
    let message = req.local_cache(|| RefusalMessage(None)).0.clone();
    error_page(
        req,
        Status::UnprocessableEntity,
        "表单内容不完整",
        message
            .as_deref()
            .unwrap_or("提交的表单缺少必要内容或格式不正确，请返回检查后重试。"),
    )
    .await
}

#[rocket::catch(500)]
async fn internal_error(req: &Request<'_>) -> (Status, Template) {
    error_page(
        req,
        Status::InternalServerError,
        "系统出错了",
        "服务器处理请求时出错，数据未被修改。请稍后重试；如果一直出现，请联系管理员。",
    )
    .await
}

#[rocket::catch(default)]
async fn any_other(status: Status, req: &Request<'_>) -> (Status, Template) {
    error_page(req, status, "请求未能完成", "请求未能完成，请返回后重试。").await
}

pub fn catchers() -> Vec<Catcher> {
    rocket::catchers![
        bad_request,
        unauthorized,
        forbidden,
        not_found,
        conflict,
        payload_too_large,
        unprocessable,
        internal_error,
        any_other
    ]
}
