//! Spreadsheets in and out: turning uploaded sheets into typed rows (calamine) and lists
//! and summaries into workbooks (rust_xlsxwriter); and the one document pufa writes, the
//! annual report (docx-rs). Nothing here knows HTTP or SQL.

pub mod import_files;
pub mod read;
pub mod report_doc;
pub mod signin;
pub mod table;
pub mod yearbook;

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("生成表格失败：{0}")]
    Write(#[from] rust_xlsxwriter::XlsxError),
}
