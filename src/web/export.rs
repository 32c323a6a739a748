//! /export: the year-end workbook; /report.docx: the annual report's draft.

use rocket::{Route, State};

use super::download::{DocxDownload, XlsxDownload};
use super::error::AppResult;
use super::guards::CurrentUser;
use super::period::{chosen_year, today};
use crate::services::export::year_workbook;
use crate::services::report::annual_report;
use crate::services::Db;

#[rocket::get("/export?<year>&<village>")]
async fn export(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
) -> AppResult<XlsxDownload> {
    let (file_name, bytes) =
        year_workbook(db, &me.actor, chosen_year(year), village, today()).await?;
    Ok(XlsxDownload { file_name, bytes })
}

/// The annual report's draft as a Word document (a clerk's is their village's).
#[rocket::get("/report.docx?<year>&<village>")]
async fn report(
    me: CurrentUser,
    year: Option<i32>,
    village: Option<i64>,
    db: &State<Db>,
) -> AppResult<DocxDownload> {
    let (file_name, bytes) =
        annual_report(db, &me.actor, chosen_year(year), village, today()).await?;
    Ok(DocxDownload { file_name, bytes })
}

pub fn routes() -> Vec<Route> {
    rocket::routes![export, report]
}
