//! View pieces several pages share: the delete confirmation and a list's query string.

use chrono::{DateTime, Local, Utc};
use serde::Serialize;

/// A moment as the pages show it: local time to the minute.
pub fn local_minute(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The `confirm` page: what is about to be deleted, and where the buttons go.
#[derive(Serialize)]
pub struct ConfirmPage {
    pub title: String,
    pub message: String,
    pub items: Vec<String>,
    pub action: String,
    pub cancel: String,
}

/// A list's echoed filter as a query string, for the pager and export links.
pub fn query_string_of(echo: &impl Serialize) -> String {
    super::period::query_string(&serde_json::to_value(echo).unwrap_or_default())
}
