//! The change history of a record, from the audit log, in words.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;

use crate::domain::session::{AttendanceStatus, SessionStatus};
use crate::services::sessions::AuditRecord;

/// What an audit entry's action is called on the pages.
pub fn action_label(action: &str) -> &str {
    match action {
        "create" => "创建",
        "update" => "修改",
        "delete" => "删除",
        "status" => "状态变更",
        "attendance" => "考勤",
        "invite" => "加入名单",
        "uninvite" => "移出名单",
        "reopen_checkin" => "重新开放扫码签到",
        "login" => "登录",
        "login_failed" => "登录失败",
        "download" => "下载文件",
        "change_password" => "修改密码",
        "reset_password" => "重置密码",
        "end_sessions" => "结束登录",
        "activate" => "启用账号",
        "deactivate" => "停用账号",
        "undo" => "撤销导入",
        "import" => "表格导入",
        "save" => "保存",
        "rotate_calendar_token" => "更换日历订阅链接",
        other => other,
    }
}

/// What an audit entry's record kind is called, and the page it has (if any).
pub fn entity_label(entity: &str) -> (&str, Option<&'static str>) {
    match entity {
        "person" => ("人员", Some("/people/")),
        "session" => ("学法活动", Some("/sessions/")),
        "activity" => ("普法活动", Some("/activities/")),
        "distribution" => ("资料发放", None),
        "material" => ("普法资料", Some("/materials/")),
        "stock_receipt" => ("资料入库", None),
        "self_study" => ("自学记录", None),
        "village" => ("村(社区)", Some("/villages/")),
        "user" => ("账号", Some("/users/")),
        "import_batch" => ("导入批次", Some("/imports/batches/")),
        "study_requirement" => ("学法要求", None),
        "file" => ("文件", None),
        other => (other, None),
    }
}

fn status_label(value: Option<&Value>) -> String {
    value
        .and_then(Value::as_str)
        .and_then(|code| {
            AttendanceStatus::from_code(code)
                .map(|s| s.label_zh().to_string())
                .or_else(|| SessionStatus::from_code(code).map(|s| s.label_zh().to_string()))
        })
        .unwrap_or_else(|| "—".into())
}

/// One line of what changed, readable for attendance and status changes, JSON otherwise.
fn describe(record: &AuditRecord, names: &HashMap<i64, String>) -> String {
    let parse = |text: &Option<String>| {
        text.as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
    };
    let (before, after) = (parse(&record.before), parse(&record.after));
    match record.action.as_str() {
        "attendance" => {
            let person = after
                .as_ref()
                .and_then(|a| a.get("person_id"))
                .and_then(Value::as_i64)
                .map(|id| {
                    names
                        .get(&id)
                        .cloned()
                        .unwrap_or_else(|| format!("人员#{id}"))
                })
                .unwrap_or_default();
            let hours = |v: &Option<Value>| {
                v.as_ref()
                    .and_then(|v| v.get("hours_credited"))
                    .and_then(Value::as_f64)
                    .map(|h| format!("{h}学时"))
                    .unwrap_or_default()
            };
            let side = |v: &Option<Value>| {
                let status = status_label(v.as_ref().and_then(|x| x.get("status")));
                format!("{status} {}", hours(v)).trim_end().to_string()
            };
            format!("{person}：{} → {}", side(&before), side(&after))
        }
        "status" => format!(
            "{} → {}",
            status_label(before.as_ref().and_then(|b| b.get("status"))),
            status_label(after.as_ref().and_then(|a| a.get("status")))
        ),
        _ => match (&before, &after) {
            (Some(b), Some(a)) => changed_fields(b, a),
            _ => String::new(),
        },
    }
}

/// The fields that differ between two JSON objects, as “field: old → new”.
fn changed_fields(before: &Value, after: &Value) -> String {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return String::new();
    };
    a.iter()
        .filter(|(k, v)| b.get(*k) != Some(*v))
        .map(|(k, v)| format!("{k}: {} → {}", b.get(k).unwrap_or(&Value::Null), v))
        .collect::<Vec<_>>()
        .join("；")
}

/// One line of a record's history: when, who, what and what changed.
#[derive(Serialize)]
pub struct HistoryLine {
    at: String,
    who: String,
    action: String,
    detail: String,
}

pub fn history_views(records: &[AuditRecord], names: &HashMap<i64, String>) -> Vec<HistoryLine> {
    records
        .iter()
        .map(|r| HistoryLine {
            at: r
                .at
                .with_timezone(&chrono::Local)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            who: r.username.clone().unwrap_or_else(|| {
                if r.user_id.is_none() {
                    "扫码签到/系统".into()
                } else {
                    "—".into()
                }
            }),
            action: action_label(&r.action).to_string(),
            detail: describe(r, names),
        })
        .collect()
}
