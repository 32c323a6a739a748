//! Errors become Chinese pages in one place: a service error maps to a status, and the
//! catcher for that status renders the page.

use rocket::http::Status;
use rocket::request::Request;
use rocket::response::{self, Redirect, Responder};
use rocket::Catcher;
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::csrf::CsrfRejected;
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
        AppError(ServiceError::Refused(e.to_string()))
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

/// The error page (rendered without the chrome: the catchers have no request guards).
#[derive(Serialize)]
struct ErrorPage<'a> {
    code: u16,
    title: &'a str,
    message: &'a str,
}

fn error_page(status: Status, title: &str, message: &str) -> (Status, Template) {
    let page = ErrorPage {
        code: status.code,
        title,
        message,
    };
    (status, Template::render("error", page))
}

#[rocket::catch(400)]
fn bad_request() -> (Status, Template) {
    error_page(
        Status::BadRequest,
        "请求有误",
        "请求的内容无法识别，请返回后重试。",
    )
}

/// Anonymous users go to the login page and come back afterwards.
#[rocket::catch(401)]
fn unauthorized(req: &Request<'_>) -> Redirect {
    let next = req.uri().path().to_string();
    let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
    Redirect::to(format!("/login?next={encoded}"))
}

#[rocket::catch(403)]
fn forbidden(req: &Request<'_>) -> (Status, Template) {
    if req.local_cache(CsrfRejected::default).0 {
        return error_page(
            Status::Forbidden,
            "表单已失效",
            "安全校验未通过（表单可能已过期）。请返回上一页，刷新后重新提交。",
        );
    }
    error_page(
        Status::Forbidden,
        "没有权限",
        "您的账号没有权限访问此页面或执行此操作。",
    )
}

#[rocket::catch(404)]
fn not_found() -> (Status, Template) {
    error_page(Status::NotFound, "页面不存在", "您要找的页面或记录不存在。")
}

#[rocket::catch(409)]
fn conflict(req: &Request<'_>) -> (Status, Template) {
    let message = req.local_cache(|| RefusalMessage(None)).0.clone();
    error_page(
        Status::Conflict,
        "无法完成操作",
        message.as_deref().unwrap_or("该操作与现有数据冲突。"),
    )
}

#[rocket::catch(413)]
fn payload_too_large() -> (Status, Template) {
    error_page(
        Status::PayloadTooLarge,
        "内容过大",
        "提交的内容超过了大小限制。",
    )
}

#[rocket::catch(422)]
fn unprocessable(req: &Request<'_>) -> (Status, Template) {
    // A page address whose id is not a number (/people/abc) names no page: not a form.
    if req.method() == rocket::http::Method::Get {
        return not_found();
    }
    let message = req.local_cache(|| RefusalMessage(None)).0.clone();
    error_page(
        Status::UnprocessableEntity,
        "表单内容不完整",
        message
            .as_deref()
            .unwrap_or("提交的表单缺少必要内容或格式不正确，请返回检查后重试。"),
    )
}

#[rocket::catch(500)]
fn internal_error() -> (Status, Template) {
    error_page(
        Status::InternalServerError,
        "系统出错了",
        "服务器处理请求时出错，数据未被修改。请稍后重试；如果一直出现，请联系管理员。",
    )
}

#[rocket::catch(default)]
fn any_other(status: Status, _req: &Request<'_>) -> (Status, Template) {
    error_page(status, "请求未能完成", "请求未能完成，请返回后重试。")
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
