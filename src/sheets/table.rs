//! A list as a worksheet: a bold, frozen header row with an autofilter, real dates and
//! numbers in the cells, column widths that fit Chinese text, a totals row, A4 print setup.

use chrono::NaiveDate;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, Worksheet};

use super::SheetError;

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    Number(f64),
    Date(NaiveDate),
    Empty,
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::Text(text.to_string())
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::Text(text)
    }
}

impl From<i64> for Cell {
    fn from(n: i64) -> Self {
        Cell::Int(n)
    }
}

impl From<NaiveDate> for Cell {
    fn from(date: NaiveDate) -> Self {
        Cell::Date(date)
    }
}

impl From<Option<String>> for Cell {
    fn from(text: Option<String>) -> Self {
        text.map_or(Cell::Empty, Cell::Text)
    }
}

/// A list to write: sheet name, headers, rows, and an optional totals row.
pub struct Table {
    pub sheet_name: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
    pub totals: Option<Vec<Cell>>,
}

/// Columns as wide as their widest text, counting a Chinese character as two.
pub fn display_width(text: &str) -> usize {
    text.chars()
        .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
        .sum()
}

pub fn cell_width(cell: &Cell) -> usize {
    match cell {
        Cell::Text(t) => display_width(t),
        Cell::Int(n) => n.to_string().len(),
        Cell::Number(n) => format!("{n:.1}").len(),
        Cell::Date(_) => 10,
        Cell::Empty => 0,
    }
}

pub struct Formats {
    pub header: Format,
    pub date: Format,
    pub number: Format,
    pub text: Format,
    pub total: Format,
    pub total_number: Format,
}

impl Formats {
    pub fn new() -> Self {
        let header = Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xF0F1F3))
            .set_border(FormatBorder::Thin)
            .set_text_wrap();
        Formats {
            header,
            date: Format::new().set_num_format("yyyy-mm-dd"),
            number: Format::new().set_num_format("0.0"),
            // Text cells stay text even when they look like a formula or a number.
            text: Format::new().set_num_format("@"),
            total: Format::new().set_bold(),
            total_number: Format::new().set_bold().set_num_format("0.0"),
        }
    }
}

impl Default for Formats {
    fn default() -> Self {
        Self::new()
    }
}

pub fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    cell: &Cell,
    formats: &Formats,
    bold: bool,
) -> Result<(), SheetError> {
    match cell {
        // write_string never interprets its text, so “=HYPERLINK(…)” stays text.
        Cell::Text(t) if bold => sheet.write_string_with_format(row, col, t, &formats.total)?,
        Cell::Text(t) => sheet.write_string_with_format(row, col, t, &formats.text)?,
        Cell::Int(n) if bold => {
            sheet.write_number_with_format(row, col, *n as f64, &formats.total)?
        }
        Cell::Int(n) => sheet.write_number(row, col, *n as f64)?,
        Cell::Number(n) if bold => {
            sheet.write_number_with_format(row, col, *n, &formats.total_number)?
        }
        Cell::Number(n) => sheet.write_number_with_format(row, col, *n, &formats.number)?,
        Cell::Date(d) => sheet.write_date_with_format(row, col, d, &formats.date)?,
        Cell::Empty => sheet,
    };
    Ok(())
}

/// Writes the table as a new worksheet of `workbook`.
/// Sheets longer than this are written row by row to a temporary file (rust_xlsxwriter's
/// constant-memory mode) instead of being held whole in memory until the workbook is saved.
const CONSTANT_MEMORY_ROWS: usize = 2_000;

pub fn add_table(workbook: &mut Workbook, table: &Table) -> Result<(), SheetError> {
    let formats = Formats::new();
    // Column widths first: a constant-memory sheet takes them before its first row.
    let mut widths: Vec<usize> = table.headers.iter().map(|h| display_width(h)).collect();
    for row in &table.rows {
        for (col, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(col) {
                *w = (*w).max(cell_width(cell));
            }
        }
    }
    let sheet = if table.rows.len() > CONSTANT_MEMORY_ROWS {
        workbook.add_worksheet_with_constant_memory()?
    } else {
        workbook.add_worksheet()
    };
    sheet.set_name(&table.sheet_name)?;
    for (col, width) in widths.iter().enumerate() {
        sheet.set_column_width(col as u16, (*width).clamp(6, 60) as f64 + 2.0)?;
    }
    for (col, header) in table.headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *header, &formats.header)?;
    }
    let mut row_index = 0u32;
    for row in &table.rows {
        row_index += 1;
        for (col, cell) in row.iter().enumerate() {
            write_cell(sheet, row_index, col as u16, cell, &formats, false)?;
        }
    }
    let last_col = table.headers.len().saturating_sub(1) as u16;
    sheet.set_freeze_panes(1, 0)?;
    sheet.autofilter(0, 0, row_index.max(1), last_col)?;
    if let Some(totals) = &table.totals {
        row_index += 1;
        for (col, cell) in totals.iter().enumerate() {
            write_cell(sheet, row_index, col as u16, cell, &formats, true)?;
        }
    }
    sheet.set_paper_size(9); // A4
    if table.headers.len() > 6 {
        sheet.set_landscape();
    }
    sheet.set_repeat_rows(0, 0)?;
    Ok(())
}

/// A workbook of one sheet, as bytes for a download.
pub fn table_workbook(table: &Table) -> Result<Vec<u8>, SheetError> {
    let mut workbook = Workbook::new();
    add_table(&mut workbook, table)?;
    Ok(workbook.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_table_is_written_row_by_row_and_reads_back_whole() {
        use calamine::{Data, Reader, Xlsx};
        let rows: Vec<Vec<Cell>> = (0..CONSTANT_MEMORY_ROWS as i64 + 500)
            .map(|i| vec![Cell::Text(format!("村民{i}")), Cell::Int(i)])
            .collect();
        let count = rows.len();
        let table = Table {
            sheet_name: "人员学时".into(),
            headers: vec!["姓名", "次数"],
            totals: Some(vec!["合计".into(), Cell::Int(7)]),
            rows,
        };
        let bytes = table_workbook(&table).unwrap();
        let mut book = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = book.worksheet_range("人员学时").unwrap();
        assert_eq!(range.height(), count + 2, "header, rows, totals");
        assert_eq!(range.get((1, 0)), Some(&Data::String("村民0".into())));
        assert_eq!(
            range.get((count, 1)),
            Some(&Data::Float((count - 1) as f64))
        );
        assert_eq!(
            range.get((count + 1, 0)),
            Some(&Data::String("合计".into()))
        );
    }

    #[test]
    fn chinese_characters_count_double() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("龙凤村"), 6);
        assert_eq!(display_width("A4纸"), 4);
    }
}
