//! Subtotal tables under the lists: keys (village names, months, codes) as Chinese labels.

use serde_json::{json, Value};

use crate::store::Subtotal;

/// Rows of a subtotal table; `missing` names a row without a key (township level, not filled).
pub fn subtotal_views(
    subtotals: &[Subtotal],
    missing: &str,
    label: impl Fn(&str) -> String,
) -> Vec<Value> {
    subtotals
        .iter()
        .map(|s| {
            let key = s
                .key
                .as_deref()
                .map(&label)
                .unwrap_or_else(|| missing.to_string());
            json!({ "label": key, "rows": s.rows, "quantity": s.quantity })
        })
        .collect()
}

/// "03" → 3月
pub fn month_label(key: &str) -> String {
    format!("{}月", key.trim_start_matches('0'))
}

/// A stored code as its Chinese label (the code itself if unknown).
pub fn code_label<T: Copy>(
    code: &str,
    from_code: fn(&str) -> Option<T>,
    label: fn(T) -> &'static str,
) -> String {
    from_code(code).map(label).unwrap_or(code).to_string()
}
