//! /people: the registry. Clerks are confined to their village by the service; ID numbers
//! are masked everywhere except the edit form.

use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::{Metadata, Template};

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActiveForm, PersonForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::chosen_year;
use super::render::{context_of, drawn_once, Chrome, DrawnPage};
use crate::domain::person::{FieldErrors, Gender, PersonInput};
use crate::domain::Category;
use crate::domain::VillageScope;
use crate::services::people::{self, PersonFilter};
use crate::services::{Actor, Db, ServiceError};

mod views;

use views::{detail_page, list_page, FormPage, FormValues, ListEcho};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

/// The filters of the people list, as query parameters.
#[derive(rocket::FromForm, Default)]
struct ListQuery<'r> {
    village: Option<&'r str>,
    category: Option<&'r str>,
    active: Option<&'r str>,
    q: Option<&'r str>,
    page: Option<i64>,
}

impl<'r> ListQuery<'r> {
    /// "1" in the register (the default), "0" withdrawn, anything else everybody.
    fn active_choice(&self) -> &'r str {
        self.active.unwrap_or("1")
    }

    fn filter(&self) -> PersonFilter {
        PersonFilter {
            village: VillageScope::of(self.village.and_then(|v| v.parse().ok())),
            category: self.category.and_then(Category::from_code),
            active: match self.active_choice() {
                "1" => Some(true),
                "0" => Some(false),
                _ => None,
            },
            name_contains: self.q.and_then(crate::domain::text::non_empty),
        }
    }

    fn echo(&self) -> ListEcho<'r> {
        ListEcho {
            village: self.village.and_then(|v| v.parse().ok()),
            category: self.category.unwrap_or_default(),
            active: self.active_choice(),
            q: self.q.unwrap_or_default(),
        }
    }
}

#[rocket::get("/?<query..>")]
async fn list(
    me: CurrentUser,
    query: ListQuery<'_>,
    db: &State<Db>,
    chrome: Chrome,
    templates: Metadata<'_>,
) -> AppResult<Template> {
    let actor = &me.actor;
    let page = query.page.unwrap_or(1);
    let view = format!("people-page:{:?}:{page}", query.filter());
    let body = drawn_once(db, actor, view, &templates, "people/list_body", || async {
        let result = people::list_people(db, actor, query.filter(), page).await?;
        let villages = crate::services::choices::selectable_villages(db, actor).await?;
        context_of(list_page(&result, actor, query.echo(), villages))
    })
    .await?;
    Ok(chrome.render("people/list", DrawnPage { body: &body }))
}

#[rocket::get("/<id>?<year>")]
async fn detail(
    me: CurrentUser,
    id: i64,
    year: Option<i32>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let year = chosen_year(year);
    let (snapshot, study) = people::get_person_with_study(db, &me.actor, id, year).await?;
    let page = detail_page(&snapshot, &study, &me.actor, year);
    Ok(chrome.render("people/detail", page))
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    person_id: Option<i64>,
    values: FormValues,
    errors: &FieldErrors,
) -> AppResult<Template> {
    let page = FormPage {
        person_id,
        values,
        errors,
        villages: selectable_villages(db, actor).await?,
        township_allowed: !actor.is_confined(),
        categories: Category::options(),
        genders: Gender::options(),
    };
    Ok(chrome.render("people/form", page))
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
    let values = FormValues::new(actor);
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
            form_page(
                db,
                actor,
                &chrome,
                None,
                FormValues::submitted(&form),
                &errors,
            )
            .await?,
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
        FormValues::saved(&snapshot),
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
                FormValues::submitted(&form),
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
