//! View pieces several pages share: the delete confirmation and a list's query string.

use serde::Serialize;

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
