//! /audit: the audit log for admins (who did what, when), with filters and paging; and the
//! fairing that writes a "download" entry for every workbook or document a user takes away.

use chrono::{Local, NaiveDate, TimeZone, Utc};
use rocket::fairing::AdHoc;
use rocket::{Route, State};
use rocket_dyn_templates::Template;
use serde::Serialize;
use serde_json::Value;

use super::choices::selectable_villages;
use super::error::AppResult;
use super::guards::{AdminUser, CurrentUser};
use super::history::{action_label, entity_label};
use super::render::Chrome;
use crate::services::audit::{audit_log, record_download, AuditFilter, AuditRecord};
use crate::services::users::list_users;
use crate::services::Db;

#[derive(Serialize)]
struct Line {
    at: String,
    who: String,
    action: String,
    entity: String,
    link: Option<String>,
    details: String,
}

/// The Chinese name of a field the log records (unknown ones as they are).
fn field_label(key: &str) -> &str {
    match key {
        "username" => "用户名",
        "address" => "地址",
        "file" => "文件",
        "path" => "网址",
        "name" => "姓名",
        "title" => "名称",
        "topic" => "主题",
        "status" => "状态",
        "hours_credited" => "学时",
        "person_id" => "人员编号",
        "quantity" => "数量",
        "source" => "来源",
        "notes" => "备注",
        "role" => "角色",
        "village_id" => "村(社区)编号",
        "kind" => "类型",
        "ended" => "结束登录数",
        "added" => "加入人员",
        "phone" => "电话",
        "id_number" => "身份证号",
        other => other,
    }
}

/// An entry's details in one short line: its fields as “key: value”.
fn details(record: &AuditRecord) -> String {
    let text = record.after.as_deref().or(record.before.as_deref());
    let Some(value) = text.and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
        return String::new();
    };
    let line = match value {
        Value::Object(map) => map
            .iter()
            .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
            .map(|(k, v)| match v {
                Value::String(s) => format!("{}：{s}", field_label(k)),
                other => format!("{}：{other}", field_label(k)),
            })
            .collect::<Vec<_>>()
            .join("，"),
        other => other.to_string(),
    };
    let mut short: String = line.chars().take(160).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

fn line(record: &AuditRecord) -> Line {
    let (entity, page) = entity_label(&record.entity);
    Line {
        at: record
            .at
            .with_timezone(&Local)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        who: record.username.clone().unwrap_or_else(|| "—".into()),
        action: action_label(&record.action).to_string(),
        entity: match record.entity_id {
            Some(id) => format!("{entity} #{id}"),
            None => entity.to_string(),
        },
        link: page.zip(record.entity_id).map(|(p, id)| format!("{p}{id}")),
        details: details(record),
    }
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct AuditPageView {
    lines: Vec<Line>,
    total: i64,
    page: i64,
    pages: i64,
    users: Vec<Choice>,
    villages: Vec<Choice>,
    actions: Vec<Choice>,
    user: Option<i64>,
    village: Option<i64>,
    action: String,
    from: String,
    to: String,
    /// The filter as a query string, for the pager's links.
    query: String,
}

fn day(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").ok())
}

#[rocket::get("/audit?<user>&<village>&<action>&<from>&<to>&<page>")]
#[allow(clippy::too_many_arguments)]
async fn audit(
    admin: AdminUser,
    user: Option<i64>,
    village: Option<i64>,
    action: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    page: Option<i64>,
    db: &State<Db>,
    chrome: Chrome,
) -> AppResult<Template> {
    let actor = &admin.0.actor;
    let action = action.map(str::trim).filter(|a| !a.is_empty());
    let (from_day, to_day) = (day(from), day(to));
    let local_midnight = |d: NaiveDate| {
        Local
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    let filter = AuditFilter {
        user_id: user,
        village_id: village,
        action: action.map(str::to_string),
        from: from_day.and_then(local_midnight),
        to: to_day.and_then(|d| d.succ_opt()).and_then(local_midnight),
    };
    let log = audit_log(db, actor, &filter, page.unwrap_or(1)).await?;
    let (from, to) = (
        from_day.map(|d| d.to_string()).unwrap_or_default(),
        to_day.map(|d| d.to_string()).unwrap_or_default(),
    );
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("user", &user.map(|u| u.to_string()).unwrap_or_default())
        .append_pair(
            "village",
            &village.map(|v| v.to_string()).unwrap_or_default(),
        )
        .append_pair("action", action.unwrap_or_default())
        .append_pair("from", &from)
        .append_pair("to", &to)
        .finish();
    let view = AuditPageView {
        lines: log.records.iter().map(line).collect(),
        total: log.total,
        page: log.page,
        pages: log.pages,
        users: list_users(db, actor)
            .await?
            .into_iter()
            .map(|u| Choice {
                value: u.id.to_string(),
                label: format!("{}（{}）", u.display_name, u.username),
            })
            .collect(),
        villages: selectable_villages(db, actor)
            .await?
            .into_iter()
            .map(|v| Choice {
                value: v.id.to_string(),
                label: v.name,
            })
            .collect(),
        actions: log
            .actions
            .iter()
            .map(|a| Choice {
                value: a.clone(),
                label: action_label(a).to_string(),
            })
            .collect(),
        user,
        village,
        action: action.unwrap_or_default().to_string(),
        from,
        to,
        query,
    };
    Ok(chrome.render("audit", view))
}

/// The file name a download response names (its UTF-8 `filename*`).
fn attachment_name(disposition: &str) -> Option<String> {
    let encoded = disposition.split("filename*=UTF-8''").nth(1)?;
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={encoded}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok()
}

/// Every file a logged-in user downloads is in the audit log: who, which file, from where.
pub fn downloads_are_audited() -> AdHoc {
    AdHoc::on_response("downloads are audited", |req, response| {
        Box::pin(async move {
            let Some(name) = response
                .headers()
                .get_one("Content-Disposition")
                .filter(|d| d.starts_with("attachment"))
                .and_then(attachment_name)
            else {
                return;
            };
            let rocket::outcome::Outcome::Success(me) = req.guard::<CurrentUser>().await else {
                return;
            };
            let Some(db) = req.rocket().state::<Db>() else {
                return;
            };
            let path = req.uri().to_string();
            if let Err(e) = record_download(db, &me.actor, &name, &path).await {
                tracing::error!("the download of {name} was not written to the audit log: {e}");
            }
        })
    })
}

pub fn routes() -> Vec<Route> {
    rocket::routes![audit]
}
