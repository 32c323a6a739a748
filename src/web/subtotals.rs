//! Subtotal tables under the lists: keys (village names, months, codes) as Chinese labels.

use serde::Serialize;

use crate::services::Subtotal;

/// A row of a subtotal table.
#[derive(Serialize)]
pub struct SubtotalView {
    pub label: String,
    pub rows: i64,
    pub quantity: i64,
}

/// Rows of a subtotal table; `missing` names a row without a key (township level, not filled).
pub fn subtotal_views(
    subtotals: &[Subtotal],
    missing: &str,
    label: impl Fn(&str) -> String,
) -> Vec<SubtotalView> {
    subtotals
        .iter()
        .map(|s| {
            let label = s
                .key
                .as_deref()
                .map(&label)
                .unwrap_or_else(|| missing.to_string());
            SubtotalView {
                label,
                rows: s.rows,
                quantity: s.quantity,
            }
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
