//! /people: the registry. Clerks are confined to their village by the service; ID numbers
//! are masked everywhere except the edit form.

use std::collections::BTreeMap;

use chrono::Local;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::choices::{default_village, selectable_villages};
use super::csrf::CsrfForm;
use super::error::{AppError, AppResult};
use super::forms::{parse_village_id, ActiveForm, PersonForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_year, year_choices};
use super::render::Chrome;
use crate::domain::id_number::mask;
use crate::domain::labels::CodeLabel;
use crate::domain::person::{FieldErrors, Gender, PersonInput};
use crate::domain::session::AttendanceStatus;
use crate::domain::Category;
use crate::services::attendance::StudyYear;
use crate::services::choices::Village;
use crate::services::people::{
    self, can_edit_person, HeldCategory, Person, PersonFilter, PersonPage, PersonSnapshot,
};
use crate::services::{Actor, Db, ServiceError};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

/// The person as lists and the detail page show them: ID number masked.
#[derive(Serialize)]
struct PersonView<'a> {
    id: i64,
    name: &'a str,
    gender: Option<&'static str>,
    village_name: &'a str,
    post: &'a str,
    phone: Option<&'a str>,
    id_number_masked: Option<String>,
    active: bool,
    notes: &'a str,
}

fn person_view(person: &Person) -> PersonView<'_> {
    PersonView {
        id: person.id,
        name: &person.name,
        gender: person
            .gender
            .as_deref()
            .and_then(Gender::from_code)
            .map(Gender::label_zh),
        village_name: person.village_name.as_deref().unwrap_or("镇机关"),
        post: &person.post,
        phone: person.phone.as_deref(),
        id_number_masked: person.id_number.as_deref().map(mask),
        active: person.active,
        notes: &person.notes,
    }
}

#[derive(Serialize)]
struct CategoryView {
    code: &'static str,
    label: &'static str,
    since: Option<String>,
    until: Option<String>,
    withdrawn: bool,
}

fn category_view(held: &HeldCategory) -> CategoryView {
    let today = Local::now().date_naive();
    CategoryView {
        code: held.category.code(),
        label: held.category.label_zh(),
        since: held.since.map(|d| d.to_string()),
        until: held.until.map(|d| d.to_string()),
        withdrawn: held.until.is_some_and(|u| u < today),
    }
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

impl<'r> ListQuery<'r> {
    /// "1" in the register (the default), "0" withdrawn, anything else everybody.
    fn active_choice(&self) -> &'r str {
        self.active.unwrap_or("1")
    }

    fn filter(&self) -> PersonFilter {
        PersonFilter {
            village_id: self.village.and_then(|v| v.parse().ok()),
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

#[derive(Serialize)]
struct ListEcho<'r> {
    village: Option<i64>,
    category: &'r str,
    active: &'r str,
    q: &'r str,
}

#[derive(Serialize)]
struct ListRow<'a> {
    #[serde(flatten)]
    person: PersonView<'a>,
    categories: Vec<&'static str>,
}

#[derive(Serialize)]
struct ListPage<'a> {
    people: Vec<ListRow<'a>>,
    total: i64,
    page: i64,
    pages: i64,
    villages: Vec<Village>,
    categories: Vec<CodeLabel>,
    filter: ListEcho<'a>,
    can_edit: bool,
    confined: bool,
}

fn list_page<'a>(
    result: &'a PersonPage,
    actor: &Actor,
    filter: ListEcho<'a>,
    villages: Vec<Village>,
) -> ListPage<'a> {
    let people = result
        .rows
        .iter()
        .map(|row| ListRow {
            person: person_view(&row.person),
            categories: category_labels(row.category_codes.as_deref()),
        })
        .collect();
    ListPage {
        people,
        total: result.total,
        page: result.page,
        pages: result.pages,
        villages,
        categories: Category::options(),
        filter,
        can_edit: actor.role.can_edit_records(),
        confined: !actor.role.sees_all_villages(),
    }
}

#[rocket::get("/?<query..>")]
async fn list(
    me: CurrentUser,
    query: ListQuery<'_>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &me.actor;
    let page = query.page.unwrap_or(1);
    let result = people::list_people(db, actor, query.filter(), page).await?;
    let villages = selectable_villages(db, actor).await?;
    Ok(chrome.render(
        "people/list",
        list_page(&result, actor, query.echo(), villages),
    ))
}

#[derive(Serialize)]
struct StudyLineView<'a> {
    session_id: i64,
    when: String,
    kind: &'static str,
    topic: &'a str,
    status: &'static str,
    hours: f64,
}

#[derive(Serialize)]
struct StudyView<'a> {
    lines: Vec<StudyLineView<'a>>,
    attended: i64,
    expected: i64,
    hours: f64,
    rate: Option<f64>,
}

fn study_view(study: &StudyYear) -> StudyView<'_> {
    let lines = study
        .lines
        .iter()
        .map(|l| StudyLineView {
            session_id: l.session_id,
            when: l.starts_at.format("%Y-%m-%d %H:%M").to_string(),
            kind: l.kind.label_zh(),
            topic: &l.topic,
            status: l
                .status
                .as_deref()
                .and_then(AttendanceStatus::from_code)
                .map(|s| s.label_zh())
                .unwrap_or("未登记"),
            hours: l.hours_credited.unwrap_or(0.0),
        })
        .collect();
    StudyView {
        lines,
        attended: study.attended,
        expected: study.expected,
        hours: study.hours,
        rate: study.rate_percent,
    }
}

#[derive(Serialize)]
struct DetailPage<'a> {
    person: PersonView<'a>,
    categories: Vec<CategoryView>,
    can_edit: bool,
    year: i32,
    years: Vec<i32>,
    study: StudyView<'a>,
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
    let page = DetailPage {
        person: person_view(&snapshot.person),
        categories: snapshot.categories.iter().map(category_view).collect(),
        can_edit: can_edit_person(&me.actor, snapshot.person.village_id),
        year,
        years: year_choices(),
        study: study_view(&study),
    };
    Ok(chrome.render("people/detail", page))
}

/// A category's fields on the form.
#[derive(Serialize)]
struct CategoryValues {
    held: bool,
    since: Option<String>,
    until: Option<String>,
}

/// What the form's fields show: the submitted text, a saved person (here, and only here,
/// with the full ID number), or a new one.
#[derive(Serialize)]
struct FormValues {
    name: String,
    gender: String,
    village_id: String,
    post: String,
    phone: String,
    id_number: String,
    notes: String,
    categories: BTreeMap<String, CategoryValues>,
}

impl FormValues {
    fn new(actor: &Actor) -> Self {
        FormValues {
            name: String::new(),
            gender: String::new(),
            village_id: default_village(actor),
            post: String::new(),
            phone: String::new(),
            id_number: String::new(),
            notes: String::new(),
            categories: BTreeMap::new(),
        }
    }

    fn saved(snapshot: &PersonSnapshot) -> Self {
        let person = &snapshot.person;
        let categories = snapshot
            .categories
            .iter()
            .map(|held| {
                let value = CategoryValues {
                    held: true,
                    since: Some(held.since.map(|d| d.to_string()).unwrap_or_default()),
                    until: Some(held.until.map(|d| d.to_string()).unwrap_or_default()),
                };
                (held.category.code().to_string(), value)
            })
            .collect();
        FormValues {
            name: person.name.clone(),
            gender: person.gender.clone().unwrap_or_default(),
            village_id: person.village_id.map(|v| v.to_string()).unwrap_or_default(),
            post: person.post.clone(),
            phone: person.phone.clone().unwrap_or_default(),
            id_number: person.id_number.clone().unwrap_or_default(),
            notes: person.notes.clone(),
            categories,
        }
    }

    fn submitted(form: &PersonForm) -> Self {
        let categories = form
            .categories
            .iter()
            .map(|(code, fields)| {
                let value = CategoryValues {
                    held: fields.held,
                    since: fields.since.clone(),
                    until: fields.until.clone(),
                };
                (code.clone(), value)
            })
            .collect();
        FormValues {
            name: form.name.clone(),
            gender: form.gender.clone(),
            village_id: form.village_id.clone(),
            post: form.post.clone(),
            phone: form.phone.clone(),
            id_number: form.id_number.clone(),
            notes: form.notes.clone(),
            categories,
        }
    }
}

#[derive(Serialize)]
struct FormPage<'a> {
    person_id: Option<i64>,
    values: FormValues,
    errors: &'a FieldErrors,
    villages: Vec<Village>,
    township_allowed: bool,
    categories: Vec<CodeLabel>,
    genders: Vec<CodeLabel>,
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
        township_allowed: actor.role.sees_all_villages(),
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
