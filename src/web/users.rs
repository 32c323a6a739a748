//! /users (admin only): accounts for organizers, village clerks and leaders.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActiveForm, PasswordForm, UserForm};
use super::guards::AdminUser;
use super::render::Chrome;
use crate::domain::Role;
use crate::services::users::{self, UserInput};
use crate::services::{villages, ServiceError};
use crate::store::Db;

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[rocket::get("/")]
async fn list(admin: AdminUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let users = users::list_users(db, &admin.0.actor).await?;
    let rows: Vec<Value> = users
        .iter()
        .map(|u| json!({ "user": u, "role_label": u.role.label_zh() }))
        .collect();
    Ok(chrome.render("users/list", json!({ "users": rows })))
}

async fn form_page(
    db: &Db,
    chrome: &Chrome,
    user_id: Option<i64>,
    values: Value,
    errors: Value,
) -> AppResult<Template> {
    let villages = villages::list_villages(db).await?;
    Ok(chrome.render(
        "users/form",
        json!({
            "user_id": user_id,
            "values": values,
            "errors": errors,
            "roles": Role::options(),
            "villages": villages,
        }),
    ))
}

#[rocket::get("/new")]
async fn new_form(_admin: AdminUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let values = json!({ "username": "", "display_name": "", "role": "clerk", "village_id": "" });
    form_page(db, &chrome, None, values, json!({})).await
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

fn values_of(form: &UserForm) -> Value {
    json!({
        "username": form.username,
        "display_name": form.display_name,
        "role": form.role,
        "village_id": form.village_id,
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
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(
            form_page(db, &chrome, None, values_of(&form), json!(errors)).await?,
        )),
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
    let user = users::get_user(db, &admin.0.actor, id).await?;
    let values = json!({
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.code(),
        "village_id": user.village_id.map(|v| v.to_string()).unwrap_or_default(),
        "active": user.active,
    });
    form_page(db, &chrome, Some(id), values, json!({})).await
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
            let user = users::get_user(db, &admin.0.actor, id).await?;
            let mut values = values_of(&form);
            values["username"] = json!(user.username);
            values["active"] = json!(user.active);
            Ok(Either::Left(
                form_page(db, &chrome, Some(id), values, json!(errors)).await?,
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
        Ok(()) => Ok(Flash::success(back, "密码已重置。")),
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

pub fn routes() -> Vec<Route> {
    rocket::routes![
        list,
        new_form,
        create,
        edit_form,
        update,
        reset_password,
        set_active
    ]
}
