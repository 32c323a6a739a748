//! /self-study: 自学 records, listed by year and village, entered one at a time (or
//! imported from a 自学登记表 on /imports).

use chrono::Datelike;
use rocket::response::{Flash, Redirect};
use rocket::{Either, Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;

use super::choices::selectable_villages;
use super::csrf::CsrfForm;
use super::error::AppResult;
use super::forms::{ActionForm, SelfStudyForm};
use super::guards::{CurrentUser, EditorUser};
use super::period::{chosen_month, chosen_year, period_of, today, year_choices};
use super::render::Chrome;
use super::views::{query_string_of, ConfirmPage};
use crate::domain::labels::CodeLabel;
use crate::domain::person::FieldErrors;
use crate::domain::self_study::{SelfStudyInput, StudyForm};
use crate::domain::VillageScope;
use crate::services::choices::Village;
use crate::services::self_study::{
    self, can_edit_for, SelfStudyFilter, SelfStudyPage, SelfStudyRow,
};
use crate::services::{Actor, Db, ServiceError};

type FormOutcome = AppResult<Either<Template, Flash<Redirect>>>;

#[derive(rocket::FromForm, Default)]
struct ListQuery<'r> {
    year: Option<i32>,
    month: Option<u32>,
    village: Option<&'r str>,
    page: Option<i64>,
}

/// The list's filter as the page shows it and its links repeat it.
#[derive(Serialize)]
struct ListEcho {
    year: i32,
    month: Option<u32>,
    village: Option<i64>,
}

impl ListQuery<'_> {
    fn village(&self) -> Option<i64> {
        self.village.and_then(|v| v.parse().ok())
    }

    fn filter(&self) -> SelfStudyFilter {
        SelfStudyFilter {
            period: period_of(chosen_year(self.year), chosen_month(self.month)),
            village: VillageScope::of(self.village()),
            person_id: None,
        }
    }

    fn echo(&self) -> ListEcho {
        ListEcho {
            year: chosen_year(self.year),
            month: chosen_month(self.month),
            village: self.village(),
        }
    }
}

#[derive(Serialize)]
struct RowView<'a> {
    id: i64,
    person_id: i64,
    person_name: &'a str,
    village_name: &'a str,
    studied_on: String,
    content: &'a str,
    form: &'static str,
    hours: f64,
    notes: &'a str,
    imported: bool,
    can_edit: bool,
}

#[derive(Serialize)]
struct ListPage<'a> {
    rows: Vec<RowView<'a>>,
    records: i64,
    hours: f64,
    people: i64,
    page: i64,
    pages: i64,
    qs: String,
    filter: ListEcho,
    years: Vec<i32>,
    villages: Vec<Village>,
    confined: bool,
    can_edit: bool,
}

fn list_page<'a>(
    page: &'a SelfStudyPage,
    actor: &Actor,
    echo: ListEcho,
    villages: Vec<Village>,
) -> ListPage<'a> {
    ListPage {
        rows: page
            .rows
            .iter()
            .map(|r| RowView {
                id: r.id,
                person_id: r.person_id,
                person_name: &r.person_name,
                village_name: r.village_name.as_deref().unwrap_or("镇机关"),
                studied_on: r.studied_on.to_string(),
                content: &r.content,
                form: r.form.label_zh(),
                hours: r.hours,
                notes: &r.notes,
                imported: r.import_batch_id.is_some(),
                can_edit: can_edit_for(actor, r.village_id),
            })
            .collect(),
        records: page.records,
        hours: page.hours,
        people: page.people,
        page: page.page,
        pages: page.pages,
        qs: query_string_of(&echo),
        filter: echo,
        years: year_choices(),
        villages,
        confined: actor.is_confined(),
        can_edit: actor.may_edit_records(),
    }
}

/// The person's page on the record's year, at the 自学 section.
fn person_page(row: &SelfStudyRow) -> String {
    format!(
        "/people/{}?year={}#self-study",
        row.person_id,
        row.studied_on.year()
    )
}

#[rocket::get("/?<query..>")]
async fn list(
    me: CurrentUser,
    query: ListQuery<'_>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &me.actor;
    let page =
        self_study::list_self_study(db, actor, query.filter(), query.page.unwrap_or(1)).await?;
    let villages = selectable_villages(db, actor).await?;
    Ok(chrome.render(
        "self_study/list",
        list_page(&page, actor, query.echo(), villages),
    ))
}

#[derive(Serialize)]
struct PersonChoice {
    id: i64,
    label: String,
}

#[derive(Serialize, Default)]
struct FormValues {
    person_id: String,
    studied_on: String,
    content: String,
    form: String,
    hours: String,
    notes: String,
}

#[derive(Serialize)]
struct FormPage<'a> {
    values: FormValues,
    errors: &'a FieldErrors,
    people: Vec<PersonChoice>,
    forms: Vec<CodeLabel>,
}

async fn form_page(
    db: &Db,
    actor: &Actor,
    chrome: &Chrome,
    values: FormValues,
    errors: &FieldErrors,
) -> AppResult<Template> {
    let people = self_study::people_choices(db, actor)
        .await?
        .into_iter()
        .map(|(id, name, village)| PersonChoice {
            id,
            label: format!("{name}（{}）", village.as_deref().unwrap_or("镇机关")),
        })
        .collect();
    let page = FormPage {
        values,
        errors,
        people,
        forms: StudyForm::options(),
    };
    Ok(chrome.render("self_study/form", page))
}

#[rocket::get("/new?<person>")]
async fn new_form(
    editor: EditorUser,
    person: Option<i64>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let values = FormValues {
        person_id: person.map(|p| p.to_string()).unwrap_or_default(),
        studied_on: today().to_string(),
        form: StudyForm::Reading.code().into(),
        ..FormValues::default()
    };
    form_page(db, &editor.0.actor, &chrome, values, &FieldErrors::new()).await
}

#[rocket::post("/", data = "<form>")]
async fn create(
    editor: EditorUser,
    form: CsrfForm<SelfStudyForm>,
    db: &State<Db>,
    chrome: Chrome,
) -> FormOutcome {
    let form = form.0;
    let actor = &editor.0.actor;
    let input = SelfStudyInput {
        person_id: form.person_id.clone(),
        studied_on: form.studied_on.clone(),
        content: form.content.clone(),
        form: form.form.clone(),
        hours: form.hours.clone(),
        notes: form.notes.clone(),
    };
    match self_study::create_self_study(db, actor, &input).await {
        Ok(id) => {
            // The person page opens on the record's year, where the new record shows.
            let row = self_study::get_self_study(db, actor, id).await?;
            Ok(Either::Right(Flash::success(
                Redirect::to(person_page(&row)),
                format!("已登记自学“{}”。", row.content),
            )))
        }
        Err(ServiceError::Invalid(errors)) => {
            let values = FormValues {
                person_id: form.person_id,
                studied_on: form.studied_on,
                content: form.content,
                form: form.form,
                hours: form.hours,
                notes: form.notes,
            };
            Ok(Either::Left(
                form_page(db, actor, &chrome, values, &errors).await?,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[rocket::get("/<id>/delete")]
async fn delete_confirm(
    editor: EditorUser,
    id: i64,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let row = self_study::self_study_to_delete(db, &editor.0.actor, id).await?;
    let page = ConfirmPage {
        title: format!("删除{}的自学记录？", row.person_name),
        message: "删除后无法恢复：".into(),
        items: vec![format!(
            "{} {}（{}，{} 学时）",
            row.studied_on,
            row.content,
            row.form.label_zh(),
            row.hours
        )],
        action: format!("/self-study/{id}/delete"),
        cancel: person_page(&row),
    };
    Ok(chrome.render("confirm", page))
}

#[rocket::post("/<id>/delete", data = "<_form>")]
async fn delete(
    editor: EditorUser,
    id: i64,
    _form: CsrfForm<ActionForm>,
    db: &State<Db>,
) -> AppResult<Flash<Redirect>> {
    let row = self_study::delete_self_study(db, &editor.0.actor, id).await?;
    Ok(Flash::success(
        Redirect::to(person_page(&row)),
        "已删除该自学记录。",
    ))
}

pub fn routes() -> Vec<Route> {
    rocket::routes![list, new_form, create, delete_confirm, delete]
}
