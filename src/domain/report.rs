//! The annual report as a document: title, headings, paragraphs and the per-village
//! appendix, ready for a writer (the services draft it from the annual summary).

use serde::Serialize;

/// One block of the document, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Block {
    /// 一、二、… (黑体)
    Heading1(String),
    /// （一）（二）… (楷体)
    Heading2(String),
    Paragraph(String),
    /// Text the township writes itself; the document marks it as such.
    Placeholder(String),
}

/// The appendix table: one row per village, the township's own row, and the totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Appendix {
    pub title: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<AppendixRow>,
    pub total: AppendixRow,
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AppendixRow {
    pub name: String,
    pub sessions: i64,
    pub person_times: i64,
    pub hours: f64,
    pub copies: i64,
    pub activities: i64,
    pub legal_literates: i64,
    pub self_study_hours: f64,
}

impl AppendixRow {
    /// The cells as the table prints them.
    pub fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.sessions.to_string(),
            self.person_times.to_string(),
            format_hours(self.hours),
            self.copies.to_string(),
            self.activities.to_string(),
            self.legal_literates.to_string(),
            format_hours(self.self_study_hours),
        ]
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportDraft {
    pub title: String,
    /// The title as printed, broken where it reads well (official titles run to two lines).
    pub title_lines: Vec<String>,
    /// Under the title: that this is a draft and what it was counted from.
    pub subtitle: String,
    pub blocks: Vec<Block>,
    pub appendix: Appendix,
}

/// Hours as the report writes them: “341.5”, “12”.
pub fn format_hours(hours: f64) -> String {
    if hours.fract() == 0.0 {
        format!("{}", hours as i64)
    } else {
        format!("{hours:.1}")
    }
}
