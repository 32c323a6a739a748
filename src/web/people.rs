//! /people: the registry. Clerks are confined to their village by the service; ID numbers
//! are masked everywhere except the edit form.

use chrono::Local;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActiveForm, PersonForm};
use super::guards::{CurrentUser, EditorUser};
use super::render::Chrome;
use crate::domain::id_number::mask;
use crate::domain::person::{FieldErrors, Gender, PersonInput};
use crate::domain::Category;
use crate::services::people::{self, can_edit_person};
use crate::services::{Actor, ServiceError};
use crate::store::people::{HeldCategory, Person, PersonFilter, PersonSnapshot};
use crate::store::Db;

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

/// The person as lists and the detail page show them: ID number masked.
fn person_view(person: &Person) -> Value {
    let gender = person
        .gender
        .as_deref()
        .and_then(Gender::from_code)
        .map(Gender::label_zh);
    json!({
        "id": person.id,
        "name": person.name,
        "gender": gender,
        "village_name": person.village_name.as_deref().unwrap_or("镇机关"),
        "post": person.post,
        "phone": person.phone,
        "id_number_masked": person.id_number.as_deref().map(mask),
        "active": person.active,
        "notes": person.notes,
    })
}

fn category_view(held: &HeldCategory) -> Value {
    let today = Local::now().date_naive();
    json!({
        "code": held.category.code(),
        "label": held.category.label_zh(),
        "since": held.since.map(|d| d.to_string()),
        "until": held.until.map(|d| d.to_string()),
        "withdrawn": held.until.is_some_and(|u| u < today),
    })
}

fn category_labels(codes: Option<&str>) -> Vec<&'static str> {
    codes
        .unwrap_or_default()
        .split(',')
        .filter_map(Category::from_code)
        .map(Category::label_zh)
        .collect()
}

/// The filters of the people list, as query parameters.
#[derive(rocket::FromForm, Default)]
struct ListQuery<'r> {
    village: Option<&'r str>,
    category: Option<&'r str>,
    active: Option<&'r str>,
    q: Option<&'r str>,
    page: Option<i64>,
}

#[rocket::get("/?<query..>")]
async fn list(
    me: CurrentUser,
    query: ListQuery<'_>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let ListQuery {
        village,
        category,
        active,
        q,
        page,
    } = query;
    let active_choice = active.unwrap_or("1");
    let filter = PersonFilter {
        village_id: village.and_then(|v| v.parse().ok()),
        category: category.and_then(Category::from_code),
        active: match active_choice {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        },
        name_contains: q.and_then(crate::domain::text::non_empty),
    };
    let result = people::list_people(db, &me.actor, filter.clone(), page.unwrap_or(1)).await?;
    let rows: Vec<Value> = result
        .rows
        .iter()
        .map(|row| {
            let mut view = person_view(&row.person);
            view["categories"] = json!(category_labels(row.category_codes.as_deref()));
            view
        })
        .collect();
    Ok(chrome.render(
        "people/list",
        json!({
            "people": rows,
            "total": result.total,
            "page": result.page,
            "pages": result.pages,
            "villages": selectable_villages(db, &me.actor).await?,
            "categories": Category::options(),
            "filter": {
                "village": filter.village_id,
                "category": category.unwrap_or_default(),
                "active": active_choice,
                "q": q.unwrap_or_default(),
            },
            "can_edit": me.actor.role.can_edit_records(),
            "confined": !me.actor.role.sees_all_villages(),
        }),
    ))
}

#[rocket::get("/<id>?<year>")]
async fn detail(
    me: CurrentUser,
    id: i64,
    year: Option<i32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let snapshot = people::get_person(db, &me.actor, id).await?;
    let year = super::period::chosen_year(year);
    let study = crate::services::attendance::study_year(db, id, year).await?;
    let lines: Vec<Value> = study
        .lines
        .iter()
        .map(|l| {
            let status = l
                .status
                .as_deref()
                .and_then(crate::domain::session::AttendanceStatus::from_code);
            json!({
                "session_id": l.session_id,
                "when": l.starts_at.format("%Y-%m-%d %H:%M").to_string(),
                "kind": l.kind.label_zh(),
                "topic": l.topic,
                "status": status.map(|s| s.label_zh()).unwrap_or("未登记"),
                "hours": l.hours_credited.unwrap_or(0.0),
            })
        })
        .collect();
    let categories: Vec<Value> = snapshot.categories.iter().map(category_view).collect();
    Ok(chrome.render(
        "people/detail",
        json!({
            "person": person_view(&snapshot.person),
            "categories": categories,
            "can_edit": can_edit_person(&me.actor, snapshot.person.village_id),
            "year": year,
            "years": super::period::year_choices(),
            "study": {
                "lines": lines,
                "attended": study.attended,
                "expected": study.expected,
                "hours": study.hours,
                "rate": study.rate_percent,
            },
        }),
    ))
}

/// Form values for a person being edited: here, and only here, the full ID number.
fn form_values(snapshot: &PersonSnapshot) -> Value {
    let person = &snapshot.person;
    let categories: serde_json::Map<String, Value> = snapshot
        .categories
        .iter()
        .map(|held| {
            let value = json!({
                "held": true,
                "since": held.since.map(|d| d.to_string()).unwrap_or_default(),
                "until": held.until.map(|d| d.to_string()).unwrap_or_default(),
            });
            (held.category.code().to_string(), value)
        })
        .collect();
    json!({
        "name": person.name,
        "gender": person.gender.clone().unwrap_or_default(),
        "village_id": person.village_id.map(|v| v.to_string()).unwrap_or_default(),
        "post": person.post,
        "phone": person.phone.clone().unwrap_or_default(),
        "id_number": person.id_number.clone().unwrap_or_default(),
        "notes": person.notes,
        "categories": categories,
    })
}

fn submitted_values(form: &PersonForm) -> Value {
    let categories: serde_json::Map<String, Value> = form
        .categories
        .iter()
        .map(|(code, fields)| {
            let value =
                json!({ "held": fields.held, "since": fields.since, "until": fields.until });
            (code.clone(), value)
        })
        .collect();
    json!({
        "name": form.name,
        "gender": form.gender,
        "village_id": form.village_id,
        "post": form.post,
        "phone": form.phone,
        "id_number": form.id_number,
        "notes": form.notes,
        "categories": categories,
    })
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    person_id: Option<i64>,
    values: Value,
    errors: &FieldErrors,
) -> AppResult<Template> {
    Ok(chrome.render(
        "people/form",
        json!({
            "person_id": person_id,
            "values": values,
            "errors": errors,
            "villages": selectable_villages(db, actor).await?,
            "township_allowed": actor.role.sees_all_villages(),
            "categories": Category::options(),
            "genders": Gender::options(),
        }),
    ))
}

fn input_of(form: &PersonForm) -> Result<PersonInput, AppError> {
    let village_id = parse_village_id(&form.village_id)?;
    let mut categories: Vec<(String, String, String)> = form
        .categories
        .iter()
        .filter(|(_, fields)| fields.held)
        .map(|(code, fields)| {
            (
                code.clone(),
                fields.since.clone().unwrap_or_default(),
                fields.until.clone().unwrap_or_default(),
            )
        })
        .collect();
    // Keep the order of the category list, not of the form's hash map.
    categories.sort_by_key(|(code, _, _)| Category::ALL.iter().position(|c| c.code() == code));
    Ok(PersonInput {
        name: form.name.clone(),
        gender: form.gender.clone(),
        village_id,
        post: form.post.clone(),
        phone: form.phone.clone(),
        id_number: form.id_number.clone(),
        notes: form.notes.clone(),
        categories,
    })
}

#[rocket::get("/new")]
async fn new_form(editor: EditorUser, db: &State<Db>, chrome: Chrome) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let values = json!({
        "name": "", "gender": "", "post": "", "phone": "", "id_number": "", "notes": "",
        "village_id": actor.village_id.map(|v| v.to_string()).unwrap_or_default(),
        "categories": {},
    });
    form_page(db, actor, &chrome, None, values, &FieldErrors::new()).await
}

#[rocket::post("/", data = "<form>")]
async fn create(
    editor: EditorUser,
    form: CsrfForm<PersonForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    match people::create_person(db, actor, &input_of(&form)?).await {
        Ok(id) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/people/{id}")),
            format!("已登记“{}”。", form.name.trim()),
        ))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(
            form_page(db, actor, &chrome, None, submitted_values(&form), &errors).await?,
        )),
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/edit")]
async fn edit_form(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &editor.0.actor;
    let snapshot = people::get_person(db, actor, id).await?;
    form_page(
        db,
        actor,
        &chrome,
        Some(id),
        form_values(&snapshot),
        &FieldErrors::new(),
    )
    .await
}

#[rocket::post("/<id>", data = "<form>")]
async fn update(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<PersonForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    match people::update_person(db, actor, id, &input_of(&form)?).await {
        Ok(()) => Ok(Either::Right(Flash::success(
            Redirect::to(format!("/people/{id}")),
            "已保存。",
        ))),
        Err(ServiceError::Invalid(errors)) => Ok(Either::Left(
            form_page(
                db,
                actor,
                &chrome,
                Some(id),
                submitted_values(&form),
                &errors,
            )
            .await?,
        )),
        Err(e) => Err(e.into()),
    }
}

#[rocket::post("/<id>/active", data = "<form>")]
async fn set_active(
    editor: EditorUser,
    id: i64,
    form: CsrfForm<ActiveForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let active = form.0.active;
    people::set_person_active(db, &editor.0.actor, id, active).await?;
    let message = if active {
        "已恢复为在册。"
    } else {
        "已停用（不再出现在在册名单中）。"
    };
    Ok(Flash::success(
        Redirect::to(format!("/people/{id}")),
        message,
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![list, detail, new_form, create, edit_form, update, set_active]
}
