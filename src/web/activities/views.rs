//! What the activity pages show: view structs and the functions that build them.

use serde::Serialize;

use crate::domain::activity::{ActivityForm, AudienceGroup, Place};
use crate::domain::labels::CodeLabel;
use crate::domain::person::FieldErrors;
use crate::services::activities::{ActivityDetail, ActivityPage, ActivityRow};
use crate::services::choices::{MaterialChoice, Village};
use crate::services::materials::can_edit_in;
use crate::services::{Actor, Subtotal};
use crate::web::choices::default_village;
use crate::web::forms::{MaterialLineFields, OutreachForm};
use crate::web::period::{today, year_choices};
use crate::web::subtotals::{code_label, month_label, subtotal_views, SubtotalView};
use crate::web::views::{query_string_of, ConfirmPage};

/// Empty material lines offered on the form.
pub(super) const MATERIAL_LINES: usize = 3;

/// The list's filter as the page shows it and its links repeat it.
#[derive(Serialize)]
pub(super) struct ListEcho {
    pub(super) year: i32,
    pub(super) month: Option<u32>,
    pub(super) village: Option<i64>,
    pub(super) form: &'static str,
    pub(super) place: &'static str,
    pub(super) group: &'static str,
}

pub(super) fn group_labels(row: &ActivityRow) -> Vec<&'static str> {
    row.groups()
        .into_iter()
        .map(AudienceGroup::label_zh)
        .collect()
}

/// An activity as the list and the detail page show it.
#[derive(Serialize)]
pub(super) struct RowView<'a> {
    pub(super) id: i64,
    pub(super) held_on: String,
    pub(super) village_name: &'a str,
    pub(super) topic: &'a str,
    pub(super) form: &'static str,
    pub(super) place: Option<&'static str>,
    pub(super) groups: Vec<&'static str>,
    pub(super) audience_count: i64,
    pub(super) speaker: &'a str,
    pub(super) venue: &'a str,
    pub(super) notes: &'a str,
    pub(super) materials_quantity: i64,
    pub(super) can_edit: bool,
}

pub(super) fn row_view<'a>(row: &'a ActivityRow, actor: &Actor) -> RowView<'a> {
    RowView {
        id: row.id,
        held_on: row.held_on.to_string(),
        village_name: row.village_name.as_deref().unwrap_or("镇级"),
        topic: &row.topic,
        form: row.form.label_zh(),
        place: row.place().map(Place::label_zh),
        groups: group_labels(row),
        audience_count: row.audience_count,
        speaker: &row.speaker,
        venue: &row.venue,
        notes: &row.notes,
        materials_quantity: row.materials_quantity,
        can_edit: can_edit_in(actor, row.village_id),
    }
}

#[derive(Serialize)]
pub(super) struct ListPage<'a> {
    pub(super) rows: Vec<RowView<'a>>,
    pub(super) totals: &'a Subtotal,
    pub(super) page: i64,
    pub(super) pages: i64,
    pub(super) by_village: Vec<SubtotalView>,
    pub(super) by_month: Vec<SubtotalView>,
    pub(super) by_form: Vec<SubtotalView>,
    pub(super) by_place: Vec<SubtotalView>,
    pub(super) by_group: Vec<SubtotalView>,
    pub(super) qs: String,
    pub(super) filter: ListEcho,
    pub(super) years: Vec<i32>,
    pub(super) villages: Vec<Village>,
    pub(super) forms: Vec<CodeLabel>,
    pub(super) places: Vec<CodeLabel>,
    pub(super) groups: Vec<CodeLabel>,
    pub(super) confined: bool,
    pub(super) can_edit: bool,
}

pub(super) fn list_page<'a>(
    page: &'a ActivityPage,
    actor: &Actor,
    echo: ListEcho,
    villages: Vec<Village>,
) -> ListPage<'a> {
    ListPage {
        rows: page.rows.iter().map(|r| row_view(r, actor)).collect(),
        totals: &page.totals,
        page: page.page,
        pages: page.pages,
        by_village: subtotal_views(&page.by_village, "镇级", str::to_string),
        by_month: subtotal_views(&page.by_month, "未填", month_label),
        by_form: subtotal_views(&page.by_form, "未填", |c| {
            code_label(c, ActivityForm::from_code, ActivityForm::label_zh)
        }),
        by_place: subtotal_views(&page.by_place, "未填", |c| {
            code_label(c, Place::from_code, Place::label_zh)
        }),
        by_group: subtotal_views(&page.by_group, "未填", |c| {
            code_label(c, AudienceGroup::from_code, AudienceGroup::label_zh)
        }),
        qs: query_string_of(&echo),
        filter: echo,
        years: year_choices(),
        villages,
        forms: ActivityForm::options(),
        places: Place::options(),
        groups: AudienceGroup::options(),
        confined: actor.is_confined(),
        can_edit: actor.may_edit_records(),
    }
}

#[derive(Serialize)]
pub(super) struct LinkedDistribution<'a> {
    pub(super) material_id: i64,
    pub(super) title: &'a str,
    pub(super) quantity: i64,
    pub(super) unit: &'a str,
}

#[derive(Serialize)]
pub(super) struct DetailPage<'a> {
    pub(super) activity: RowView<'a>,
    pub(super) distributions: Vec<LinkedDistribution<'a>>,
}

pub(super) fn detail_page<'a>(detail: &'a ActivityDetail, actor: &Actor) -> DetailPage<'a> {
    DetailPage {
        activity: row_view(&detail.activity, actor),
        distributions: detail
            .distributions
            .iter()
            .map(|d| LinkedDistribution {
                material_id: d.material_id,
                title: &d.material_title,
                quantity: d.quantity,
                unit: &d.unit,
            })
            .collect(),
    }
}

/// What the form's fields show: the submitted text, a saved activity, or a new one.
#[derive(Serialize)]
pub(super) struct FormValues {
    pub(super) held_on: String,
    pub(super) village_id: String,
    pub(super) topic: String,
    pub(super) form: String,
    pub(super) place: String,
    pub(super) audience_groups: Vec<String>,
    pub(super) audience_count: String,
    pub(super) speaker: String,
    pub(super) venue: String,
    pub(super) notes: String,
    pub(super) materials: Vec<MaterialLineFields>,
}

impl FormValues {
    pub(super) fn new(actor: &Actor) -> Self {
        FormValues {
            held_on: today().to_string(),
            village_id: default_village(actor),
            topic: String::new(),
            form: "lecture".into(),
            place: String::new(),
            audience_groups: Vec::new(),
            audience_count: String::new(),
            speaker: String::new(),
            venue: String::new(),
            notes: String::new(),
            materials: padded_lines(Vec::new()),
        }
    }

    pub(super) fn submitted(form: &OutreachForm) -> Self {
        FormValues {
            held_on: form.held_on.clone(),
            village_id: form.village_id.clone(),
            topic: form.topic.clone(),
            form: form.form.clone(),
            place: form.place.clone(),
            audience_groups: form.audience_groups.clone(),
            audience_count: form.audience_count.clone(),
            speaker: form.speaker.clone(),
            venue: form.venue.clone(),
            notes: form.notes.clone(),
            materials: padded_lines(form.materials.clone()),
        }
    }

    pub(super) fn saved(detail: &ActivityDetail) -> Self {
        let a = &detail.activity;
        let lines = detail
            .distributions
            .iter()
            .map(|d| MaterialLineFields {
                material_id: d.material_id.to_string(),
                quantity: d.quantity.to_string(),
            })
            .collect();
        FormValues {
            held_on: a.held_on.to_string(),
            village_id: a.village_id.map(|v| v.to_string()).unwrap_or_default(),
            topic: a.topic.clone(),
            form: a.form.code().into(),
            place: a.place.clone().unwrap_or_default(),
            audience_groups: a.groups().iter().map(|g| g.code().to_string()).collect(),
            audience_count: a.audience_count.to_string(),
            speaker: a.speaker.clone(),
            venue: a.venue.clone(),
            notes: a.notes.clone(),
            materials: padded_lines(lines),
        }
    }
}

#[derive(Serialize)]
pub(super) struct FormPage<'a> {
    pub(super) activity_id: Option<i64>,
    pub(super) values: FormValues,
    pub(super) errors: &'a FieldErrors,
    pub(super) materials: Vec<MaterialChoice>,
    pub(super) villages: Vec<Village>,
    pub(super) township_allowed: bool,
    pub(super) forms: Vec<CodeLabel>,
    pub(super) places: Vec<CodeLabel>,
    pub(super) groups: Vec<CodeLabel>,
}

pub(super) fn padded_lines(mut lines: Vec<MaterialLineFields>) -> Vec<MaterialLineFields> {
    while lines.len() < MATERIAL_LINES {
        lines.push(MaterialLineFields::default());
    }
    lines
}

pub(super) fn confirm_page(detail: &ActivityDetail, id: i64) -> ConfirmPage {
    let items: Vec<String> = detail
        .distributions
        .iter()
        .map(|d| format!("随活动发放：{} {}{}", d.material_title, d.quantity, d.unit))
        .collect();
    let message = if items.is_empty() {
        "删除后无法恢复。".to_string()
    } else {
        format!(
            "该活动登记的 {} 条资料发放记录将一并删除，无法恢复：",
            items.len()
        )
    };
    ConfirmPage {
        title: format!("删除活动“{}”？", detail.activity.topic),
        message,
        items,
        action: format!("/activities/{id}/delete"),
        cancel: format!("/activities/{id}"),
    }
}
