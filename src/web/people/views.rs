//! What the people pages show: view structs and the functions that build them.

use std::collections::BTreeMap;

use chrono::Local;
use serde::Serialize;

use crate::domain::id_number::mask;
use crate::domain::labels::CodeLabel;
use crate::domain::person::{FieldErrors, Gender};
use crate::domain::session::AttendanceStatus;
use crate::domain::Category;
use crate::services::attendance::StudyYear;
use crate::services::choices::Village;
use crate::services::people::{can_edit_person, HeldCategory, Person, PersonPage, PersonSnapshot};
use crate::services::Actor;
use crate::web::choices::default_village;
use crate::web::forms::PersonForm;
use crate::web::period::year_choices;

/// The person as lists and the detail page show them: ID number masked.
#[derive(Serialize)]
pub(super) struct PersonView<'a> {
    pub(super) id: i64,
    pub(super) name: &'a str,
    pub(super) gender: Option<&'static str>,
    pub(super) village_name: &'a str,
    pub(super) post: &'a str,
    pub(super) phone: Option<&'a str>,
    pub(super) id_number_masked: Option<String>,
    pub(super) active: bool,
    pub(super) notes: &'a str,
}

pub(super) fn person_view(person: &Person) -> PersonView<'_> {
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
pub(super) struct CategoryView {
    pub(super) code: &'static str,
    pub(super) label: &'static str,
    pub(super) since: Option<String>,
    pub(super) until: Option<String>,
    pub(super) withdrawn: bool,
}

pub(super) fn category_view(held: &HeldCategory) -> CategoryView {
    let today = Local::now().date_naive();
    CategoryView {
        code: held.category.code(),
        label: held.category.label_zh(),
        since: held.since.map(|d| d.to_string()),
        until: held.until.map(|d| d.to_string()),
        withdrawn: held.until.is_some_and(|u| u < today),
    }
}

pub(super) fn category_labels(codes: Option<&str>) -> Vec<&'static str> {
    codes
        .unwrap_or_default()
        .split(',')
        .filter_map(Category::from_code)
        .map(Category::label_zh)
        .collect()
}

#[derive(Serialize)]
pub(super) struct ListEcho<'r> {
    pub(super) village: Option<i64>,
    pub(super) category: &'r str,
    pub(super) active: &'r str,
    pub(super) q: &'r str,
}

#[derive(Serialize)]
pub(super) struct ListRow<'a> {
    #[serde(flatten)]
    pub(super) person: PersonView<'a>,
    pub(super) categories: Vec<&'static str>,
}

#[derive(Serialize)]
pub(super) struct ListPage<'a> {
    pub(super) people: Vec<ListRow<'a>>,
    pub(super) total: i64,
    pub(super) page: i64,
    pub(super) pages: i64,
    pub(super) villages: Vec<Village>,
    pub(super) categories: Vec<CodeLabel>,
    pub(super) filter: ListEcho<'a>,
    pub(super) can_edit: bool,
    pub(super) confined: bool,
}

pub(super) fn list_page<'a>(
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
        can_edit: actor.may_edit_records(),
        confined: actor.is_confined(),
    }
}

#[derive(Serialize)]
pub(super) struct StudyLineView<'a> {
    pub(super) session_id: i64,
    pub(super) when: String,
    pub(super) kind: &'static str,
    pub(super) topic: &'a str,
    pub(super) status: &'static str,
    pub(super) hours: f64,
}

#[derive(Serialize)]
pub(super) struct StudyView<'a> {
    pub(super) lines: Vec<StudyLineView<'a>>,
    pub(super) attended: i64,
    pub(super) expected: i64,
    pub(super) hours: f64,
    pub(super) rate: Option<f64>,
    pub(super) self_study: Vec<SelfStudyLineView<'a>>,
    pub(super) self_study_hours: f64,
    pub(super) total_hours: f64,
}

#[derive(Serialize)]
pub(super) struct SelfStudyLineView<'a> {
    pub(super) id: i64,
    pub(super) studied_on: String,
    pub(super) content: &'a str,
    pub(super) form: &'static str,
    pub(super) hours: f64,
    pub(super) notes: &'a str,
}

pub(super) fn study_view(study: &StudyYear) -> StudyView<'_> {
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
        self_study: study
            .self_study
            .iter()
            .map(|r| SelfStudyLineView {
                id: r.id,
                studied_on: r.studied_on.to_string(),
                content: &r.content,
                form: r.form.label_zh(),
                hours: r.hours,
                notes: &r.notes,
            })
            .collect(),
        self_study_hours: study.self_study_hours,
        total_hours: study.total_hours,
    }
}

#[derive(Serialize)]
pub(super) struct DetailPage<'a> {
    pub(super) person: PersonView<'a>,
    pub(super) categories: Vec<CategoryView>,
    pub(super) can_edit: bool,
    pub(super) year: i32,
    pub(super) years: Vec<i32>,
    pub(super) study: StudyView<'a>,
}

pub(super) fn detail_page<'a>(
    snapshot: &'a PersonSnapshot,
    study: &'a StudyYear,
    actor: &Actor,
    year: i32,
) -> DetailPage<'a> {
    DetailPage {
        person: person_view(&snapshot.person),
        categories: snapshot.categories.iter().map(category_view).collect(),
        can_edit: can_edit_person(actor, snapshot.person.village_id),
        year,
        years: year_choices(),
        study: study_view(study),
    }
}

/// A category's fields on the form.
#[derive(Serialize)]
pub(super) struct CategoryValues {
    pub(super) held: bool,
    pub(super) since: Option<String>,
    pub(super) until: Option<String>,
}

/// What the form's fields show: the submitted text, a saved person (here, and only here,
/// with the full ID number), or a new one.
#[derive(Serialize)]
pub(super) struct FormValues {
    pub(super) name: String,
    pub(super) gender: String,
    pub(super) village_id: String,
    pub(super) post: String,
    pub(super) phone: String,
    pub(super) id_number: String,
    pub(super) notes: String,
    pub(super) categories: BTreeMap<String, CategoryValues>,
}

/// A 法律明白人's 认定日期 is required; an unticked one is offered as today.
fn offer_literate_since(categories: &mut BTreeMap<String, CategoryValues>) {
    categories
        .entry(Category::LegalLiterate.code().to_string())
        .or_insert_with(|| CategoryValues {
            held: false,
            since: Some(Local::now().date_naive().to_string()),
            until: None,
        });
}

impl FormValues {
    pub(super) fn new(actor: &Actor) -> Self {
        let mut categories = BTreeMap::new();
        offer_literate_since(&mut categories);
        FormValues {
            name: String::new(),
            gender: String::new(),
            village_id: default_village(actor),
            post: String::new(),
            phone: String::new(),
            id_number: String::new(),
            notes: String::new(),
            categories,
        }
    }

    pub(super) fn saved(snapshot: &PersonSnapshot) -> Self {
        let person = &snapshot.person;
        let mut categories: BTreeMap<String, CategoryValues> = snapshot
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
        offer_literate_since(&mut categories);
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

    pub(super) fn submitted(form: &PersonForm) -> Self {
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
pub(super) struct FormPage<'a> {
    pub(super) person_id: Option<i64>,
    pub(super) values: FormValues,
    pub(super) errors: &'a FieldErrors,
    pub(super) villages: Vec<Village>,
    pub(super) township_allowed: bool,
    pub(super) categories: Vec<CodeLabel>,
    pub(super) genders: Vec<CodeLabel>,
}
