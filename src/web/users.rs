//! /users (admin only): accounts for organizers, village clerks and leaders.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActionForm, ActiveForm, PasswordForm, UserForm};
use super::guards::AdminUser;
use super::render::Chrome;
use crate::domain::labels::CodeLabel;
use crate::domain::person::FieldErrors;
use crate::domain::Role;
use crate::services::choices::Village;
use crate::services::users::{self, User, UserInput};
use crate::services::{Actor, Db, ServiceError};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[derive(Serialize)]
struct UserRow<'a> {
    user: &'a User,
    role_label: &'static str,
}

#[derive(Serialize)]
struct ListPage<'a> {
    users: Vec<UserRow<'a>>,
}

#[rocket::get("/")]
async fn list(admin: AdminUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let users = users::list_users(db, &admin.0.actor).await?;
    let page = ListPage {
        users: users
            .iter()
            .map(|user| UserRow {
                user,
                role_label: user.role.label_zh(),
            })
            .collect(),
    };
    Ok(chrome.render("users/list", page))
}

/// What the account form's fields show.
#[derive(Serialize)]
struct FormValues {
    username: Option<String>,
    display_name: String,
    role: String,
    village_id: String,
}

impl FormValues {
    fn new() -> Self {
        FormValues {
            username: Some(String::new()),
            display_name: String::new(),
            role: Role::Clerk.code().into(),
            village_id: String::new(),
        }
    }

    fn submitted(form: &UserForm) -> Self {
        FormValues {
            username: form.username.clone(),
            display_name: form.display_name.clone(),
            role: form.role.clone(),
            village_id: form.village_id.clone(),
        }
    }

    fn saved(user: &User) -> Self {
        FormValues {
            username: Some(user.username.clone()),
            display_name: user.display_name.clone(),
            role: user.role.code().into(),
            village_id: user.village_id.map(|v| v.to_string()).unwrap_or_default(),
        }
    }
}

#[derive(Serialize)]
struct FormPage<'a> {
    user_id: Option<i64>,
    values: FormValues,
    errors: &'a FieldErrors,
    roles: Vec<CodeLabel>,
    villages: Vec<Village>,
    /// The account's log-in sessions (an existing account only).
    sessions: Vec<super::account::SessionLine>,
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    user_id: Option<i64>,
    values: FormValues,
    errors: &FieldErrors,
) -> AppResult<Template> {
    let sessions = match user_id {
        Some(id) => crate::services::auth::sessions_of(db, actor, id).await?,
        None => Vec::new(),
    };
    let page = FormPage {
        user_id,
        values,
        errors,
        roles: Role::options(),
        villages: selectable_villages(db, actor).await?,
        sessions: super::account::session_lines(&sessions, None),
    };
    Ok(chrome.render("users/form", page))
}

#[rocket::get("/new")]
async fn new_form(admin: AdminUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let (values, errors) = (FormValues::new(), FieldErrors::new());
    form_page(db, &admin.0.actor, &chrome, None, values, &errors).await
}

fn input_of(form: &UserForm) -> Result<UserInput, AppError> {
    Ok(UserInput {
        username: form.username.clone().unwrap_or_default(),
        display_name: form.display_name.clone(),
        role: form.role.clone(),
        village_id: parse_village_id(&form.village_id)?,
        password: form.password.clone().unwrap_or_default(),
    })
}

#[rocket::post("/", data = "<form>")]
async fn create(
    admin: AdminUser,
    form: CsrfForm<UserForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    match users::create_user(db, &admin.0.actor, &input_of(&form)?).await {
        Ok(_) => Ok(Either::Right(Flash::success(
            Redirect::to("/users"),
            format!(
                "已创建账号“{}”。",
                form.username.as_deref().unwrap_or_default().trim()
            ),
        ))),
        Err(ServiceError::Invalid(errors)) => {
            let values = FormValues::submitted(&form);
            let actor = &admin.0.actor;
            Ok(Either::Left(
                form_page(db, actor, &chrome, None, values, &errors).await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>")]
async fn edit_form(
    admin: AdminUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &admin.0.actor;
    let user = users::get_user(db, actor, id).await?;
    let (values, errors) = (FormValues::saved(&user), FieldErrors::new());
    form_page(db, actor, &chrome, Some(id), values, &errors).await
}

#[rocket::post("/<id>", data = "<form>")]
async fn update(
    admin: AdminUser,
    id: i64,
    form: CsrfForm<UserForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    match users::update_user(db, &admin.0.actor, id, &input_of(&form)?).await {
        Ok(()) => Ok(Either::Right(Flash::success(
            Redirect::to("/users"),
            "已保存。",
        ))),
        Err(ServiceError::Invalid(errors)) => {
            let actor = &admin.0.actor;
            let user = users::get_user(db, actor, id).await?;
            let values = FormValues {
                username: Some(user.username),
                ..FormValues::submitted(&form)
            };
            Ok(Either::Left(
                form_page(db, actor, &chrome, Some(id), values, &errors).await?,
            ))
        }
        Err(ServiceError::Refused(message)) => Ok(Either::Right(Flash::error(
            Redirect::to(format!("/users/{id}")),
            message,
        ))),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/<id>/password", data = "<form>")]
async fn reset_password(
    admin: AdminUser,
    id: i64,
    form: CsrfForm<PasswordForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let form = form.0;
    let back = Redirect::to(format!("/users/{id}"));
    if form.password != form.password_confirm {
        return Ok(Flash::error(back, "两次输入的密码不一致，密码未修改。"));
    }
    match users::reset_password(db, &admin.0.actor, id, &form.password).await {
        Ok(()) => Ok(Flash::success(
            back,
            "密码已重置，该账号原有的登录已全部结束。",
        )),
        Err(ServiceError::Invalid(errors)) => {
            let message: Vec<String> = errors.into_values().collect();
            Ok(Flash::error(
                back,
                format!("{}，密码未修改。", message.join("；")),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/<id>/active", data = "<form>")]
async fn set_active(
    admin: AdminUser,
    id: i64,
    form: CsrfForm<ActiveForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let active = form.0.active;
    let back = Redirect::to("/users");
    match users::set_user_active(db, &admin.0.actor, id, active).await {
        Ok(()) => Ok(Flash::success(
            back,
            if active {
                "账号已启用。"
            } else {
                "账号已停用。"
            },
        )),
        Err(ServiceError::Refused(message)) => Ok(Flash::error(back, message)),
        Err(e) => Err(e.into()),
    }
}

/// Ends every log-in session of the account (a lost phone, a shared PC).
#[rocket::post("/<id>/sessions/end", data = "<_form>")]
async fn end_sessions(
    admin: AdminUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let actor = &admin.0.actor;
    users::get_user(db, actor, id).await?;
    let ended = crate::services::auth::end_sessions_of(db, actor, id).await?;
    Ok(Flash::success(
        Redirect::to(format!("/users/{id}")),
        format!("已结束该账号的 {ended} 个登录。"),
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![
        end_sessions,
        list,
        new_form,
        create,
        edit_form,
        update,
        reset_password,
        set_active
    ]
}
