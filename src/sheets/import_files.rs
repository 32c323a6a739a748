//! Files of the import: the blank template per kind (header, an example row, drop-downs,
//! the ID column as text) and the rejected rows with a 错误说明 column.

use chrono::NaiveDate;
use rust_xlsxwriter::{DataValidation, DocProperties, Format, FormatBorder, Formula, Workbook};

use super::read::CellValue;
use super::table::{cell_width, display_width, write_cell, Cell, Formats};
use super::SheetError;
use crate::domain::activity::{ActivityForm, AudienceGroup, Place};
use crate::domain::import::{Field, ImportKind};
use crate::domain::material::MaterialKind;
use crate::domain::self_study::StudyForm;
use crate::domain::session::{AttendanceStatus, SessionKind};
use crate::domain::Category;

/// Data rows that carry the drop-down validations.
const TEMPLATE_ROWS: u32 = 1000;

fn example(kind: ImportKind, field: Field) -> Cell {
    let date = NaiveDate::from_ymd_opt(2021, 3, 5)
        .map(Cell::Date)
        .unwrap_or(Cell::Empty);
    match (kind, field) {
        (_, Field::Name) => "张三".into(),
        (_, Field::Village) => "龙凤村".into(),
        (_, Field::Gender) => "男".into(),
        (_, Field::Categories) => "村干部、法律明白人".into(),
        (_, Field::Post) => "村委会主任".into(),
        (_, Field::Phone) => "13812345678".into(),
        (_, Field::IdNumber) => "（18位，按文本填写）".into(),
        (_, Field::CertifiedOn) | (_, Field::Date) => date,
        (ImportKind::Attendance, Field::Topic) => "学习《中华人民共和国民法典》".into(),
        (ImportKind::SelfStudy, Field::Topic) => "《中华人民共和国民法典》第三编 合同".into(),
        (_, Field::StudyForm) => "读书".into(),
        (_, Field::Topic) => "民法典进农村宣传".into(),
        (_, Field::AttendanceStatus) => "出勤".into(),
        (_, Field::Hours) => Cell::Number(1.5),
        (_, Field::SessionKind) => "集中学法".into(),
        (_, Field::Speaker) => "王律师".into(),
        (_, Field::MaterialTitle) => "民法典宣传手册".into(),
        (_, Field::MaterialKind) => "手册".into(),
        (_, Field::Quantity) => Cell::Int(200),
        (_, Field::Unit) => "册".into(),
        (_, Field::Recipients) => "村民".into(),
        (_, Field::Place) => "村委会广场".into(),
        (_, Field::HandledBy) => "李四".into(),
        (_, Field::ActivityForm) => "宣传摊点".into(),
        (_, Field::SevenPlaces) => "乡村".into(),
        (_, Field::AudienceGroups) => "群众、青少年".into(),
        (_, Field::AudienceCount) => Cell::Int(80),
        (_, Field::Venue) => "村委会广场".into(),
        (_, Field::MaterialsHandedOut) => Cell::Int(120),
        (_, Field::Notes) | (_, Field::Signature) => Cell::Empty,
    }
}

/// The choices of a column with a drop-down, if it has one.
fn choices(field: Field, villages: &[String]) -> Option<Vec<String>> {
    let labels = |options: Vec<crate::domain::labels::CodeLabel>| {
        options.into_iter().map(|o| o.label.to_string()).collect()
    };
    match field {
        Field::Village if !villages.is_empty() => Some(villages.to_vec()),
        Field::Gender => Some(vec!["男".into(), "女".into()]),
        Field::Categories => Some(labels(Category::options())),
        Field::AttendanceStatus => Some(labels(AttendanceStatus::options())),
        Field::SessionKind => Some(labels(SessionKind::options())),
        Field::MaterialKind => Some(labels(MaterialKind::options())),
        Field::ActivityForm => Some(labels(ActivityForm::options())),
        Field::SevenPlaces => Some(labels(Place::options())),
        Field::AudienceGroups => Some(labels(AudienceGroup::options())),
        Field::StudyForm => Some(labels(StudyForm::options())),
        _ => None,
    }
}

/// The blank template of a kind. `villages` fills the village drop-down; the copies kept
/// in imports/templates/ are made with none. The file is the same bytes every time.
pub fn template(kind: ImportKind, villages: &[String]) -> Result<Vec<u8>, SheetError> {
    let mut workbook = Workbook::new();
    let fixed = NaiveDate::from_ymd_opt(2021, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or_default();
    workbook.set_properties(
        &DocProperties::new()
            .set_title(kind.label_zh())
            .set_author("普法台账")
            .set_creation_datetime(&fixed),
    );
    let columns: Vec<Field> = kind
        .columns()
        .iter()
        .filter(|c| c.0 != Field::Signature)
        .map(|c| c.0)
        .collect();
    let header = Format::new().set_bold().set_border(FormatBorder::Thin);
    let text = Format::new().set_num_format("@");
    let formats = Formats::new();
    // Lists longer than Excel's 255-character limit live on a hidden sheet.
    let mut lists: Vec<(u16, Vec<String>)> = Vec::new();
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name(kind.label_zh())?;
        for (col, field) in columns.iter().enumerate() {
            let col = col as u16;
            let title = kind.canonical_header(*field);
            let required = kind.columns().iter().any(|c| c.0 == *field && c.3);
            let title = if required {
                format!("{title}*")
            } else {
                title.to_string()
            };
            sheet.write_string_with_format(0, col, &title, &header)?;
            let width = display_width(&title)
                .max(cell_width(&example(kind, *field)))
                .clamp(8, 40) as f64
                + 2.0;
            sheet.set_column_width(col, width)?;
            if matches!(field, Field::IdNumber | Field::Phone) {
                sheet.set_column_format(col, &text)?;
            }
            write_cell(sheet, 1, col, &example(kind, *field), &formats, false)?;
            if let Some(options) = choices(*field, villages) {
                lists.push((col, options));
            }
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    if !lists.is_empty() {
        let options = workbook.add_worksheet();
        options.set_name("选项")?;
        for (index, (_, values)) in lists.iter().enumerate() {
            for (row, value) in values.iter().enumerate() {
                options.write_string(row as u32, index as u16, value)?;
            }
        }
        options.set_hidden(true);
    }
    let sheet = workbook.worksheet_from_index(0)?;
    for (index, (col, values)) in lists.iter().enumerate() {
        let letter = crate::domain::import::column_letter(index);
        let range = format!("=选项!${letter}$1:${letter}${}", values.len());
        let multi = matches!(
            columns.get(*col as usize),
            Some(Field::Categories | Field::AudienceGroups)
        );
        let mut validation = DataValidation::new().allow_list_formula(Formula::new(range));
        if multi {
            // Several values separated by 、 are allowed: the list only suggests.
            validation = validation
                .ignore_blank(true)
                .set_error_style(rust_xlsxwriter::DataValidationErrorStyle::Information);
        }
        sheet.add_data_validation(1, *col, TEMPLATE_ROWS, *col, &validation)?;
    }
    Ok(workbook.save_to_buffer()?)
}

fn cell_of(value: &CellValue) -> Cell {
    match value {
        CellValue::Empty => Cell::Empty,
        CellValue::Text(t) => Cell::Text(t.clone()),
        CellValue::Number(n) => Cell::Number(*n),
        CellValue::DateTime(d) if d.time() == chrono::NaiveTime::MIN => Cell::Date(d.date()),
        CellValue::DateTime(d) => Cell::Text(d.format("%Y-%m-%d %H:%M").to_string()),
        CellValue::Bool(b) => Cell::Text(if *b { "是" } else { "否" }.into()),
    }
}

/// One source sheet of rejected rows: name, header texts, and (cells, message) per row.
pub type RejectedSheet = (String, Vec<String>, Vec<(Vec<CellValue>, String)>);

/// The rejected rows as uploaded, one sheet per source sheet, plus 错误说明.
pub fn rejected_rows(sheets: &[RejectedSheet]) -> Result<Vec<u8>, SheetError> {
    let mut workbook = Workbook::new();
    let formats = Formats::new();
    let error_format = Format::new()
        .set_font_color(rust_xlsxwriter::Color::RGB(0xB3261E))
        .set_text_wrap();
    for (name, headers, rows) in sheets.iter().filter(|(_, _, rows)| !rows.is_empty()) {
        let sheet = workbook.add_worksheet();
        sheet.set_name(name.chars().take(31).collect::<String>())?;
        for (col, header) in headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, header, &formats.header)?;
            sheet.set_column_width(col as u16, (display_width(header).clamp(8, 30) + 2) as f64)?;
        }
        let error_col = headers.len() as u16;
        sheet.write_string_with_format(0, error_col, "错误说明", &formats.header)?;
        sheet.set_column_width(error_col, 60)?;
        for (index, (cells, message)) in rows.iter().enumerate() {
            let row = index as u32 + 1;
            for (col, value) in cells.iter().enumerate().take(headers.len()) {
                write_cell(sheet, row, col as u16, &cell_of(value), &formats, false)?;
            }
            sheet.write_string_with_format(row, error_col, message, &error_format)?;
        }
        sheet.set_freeze_panes(1, 0)?;
    }
    if workbook.worksheets().is_empty() {
        workbook.add_worksheet().write_string(0, 0, "没有错误行")?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// One line of an import's list of errors and notes (问题和提示).
pub struct IssueLine<'a> {
    /// 错误 or 提示.
    pub kind: &'static str,
    pub sheet: &'a str,
    pub row: usize,
    pub column: &'a str,
    pub header: &'a str,
    pub value: &'a str,
    pub message: &'a str,
}

/// Every error and note of an import, one per row (the page lists the first ones only).
pub fn issue_list(lines: &[IssueLine<'_>]) -> Result<Vec<u8>, SheetError> {
    let mut workbook = Workbook::new();
    let formats = Formats::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("问题和提示")?;
    let headers = ["类别", "工作表", "行", "列", "表头", "内容", "说明"];
    let widths = [8, 14, 8, 6, 14, 24, 60];
    for (col, (header, width)) in headers.iter().zip(widths).enumerate() {
        sheet.write_string_with_format(0, col as u16, *header, &formats.header)?;
        sheet.set_column_width(col as u16, width)?;
    }
    for (index, line) in lines.iter().enumerate() {
        let row = index as u32 + 1;
        sheet.write_string(row, 0, line.kind)?;
        sheet.write_string(row, 1, line.sheet)?;
        sheet.write_number(row, 2, line.row as f64)?;
        sheet.write_string(row, 3, line.column)?;
        sheet.write_string(row, 4, line.header)?;
        sheet.write_string(row, 5, line.value)?;
        sheet.write_string(row, 6, line.message)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(workbook.save_to_buffer()?)
}
