//! The year-end workbook the annual report is written from: 总览 (figures, a chart, the
//! draft paragraph), 各村汇总 (totals as formulas), and the lists behind every figure.
//! The lists are added one at a time, each written and let go before the next is read
//! (at county scale they are 150,000 rows together).

use rust_xlsxwriter::{Chart, ChartType, Format, Formula, Workbook};

use super::table::{add_table, display_width, Cell, Table};
use super::SheetError;

/// What the workbook's first two sheets show, already gathered (the annual summary).
pub struct Yearbook {
    pub title: String,
    /// (label, value) figures of 总览.
    pub figures: Vec<(String, Cell)>,
    pub paragraph: String,
    /// (month label, sessions, person-times) for the 总览 chart.
    pub months: Vec<(String, i64, i64)>,
    /// 各村汇总: headers and one row per village (numbers summed in the totals row).
    pub village_headers: Vec<&'static str>,
    pub village_rows: Vec<Vec<Cell>>,
}

/// The workbook being written: its first two sheets, then each list added in turn.
pub struct YearbookWriter {
    workbook: Workbook,
}

impl YearbookWriter {
    /// Adds one list behind the figures as a sheet of its own.
    pub fn add(&mut self, table: &Table) -> Result<(), SheetError> {
        add_table(&mut self.workbook, table)
    }

    /// The workbook's bytes.
    pub fn finish(mut self) -> Result<Vec<u8>, SheetError> {
        Ok(self.workbook.save_to_buffer()?)
    }
}

/// Starts the workbook with 总览 and 各村汇总.
pub fn yearbook_workbook(book: &Yearbook) -> Result<YearbookWriter, SheetError> {
    let mut workbook = Workbook::new();
    // Deflate level 2 instead of 6: at county scale compressing the sheets was a fifth of
    // the workbook's time; level 2 takes about half as long for a file about a tenth larger
    // (rust_xlsxwriter's own measurements).
    workbook.set_zip_compression_level(2);
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(14);
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("总览")?;
        sheet.write_string_with_format(0, 0, &book.title, &title)?;
        sheet.write_string_with_format(2, 0, "指标", &bold)?;
        sheet.write_string_with_format(2, 1, "数值", &bold)?;
        let mut row = 3;
        for (label, value) in &book.figures {
            sheet.write_string(row, 0, label)?;
            super::table::write_cell(sheet, row, 1, value, &super::table::Formats::new(), false)?;
            row += 1;
        }
        row += 1;
        sheet.write_string_with_format(row, 0, "年度报告参考段落", &bold)?;
        sheet.merge_range(row + 1, 0, row + 6, 5, &book.paragraph, &wrap)?;
        // The monthly table the chart is drawn from.
        let table_row = row + 8;
        sheet.write_string_with_format(table_row, 0, "月份", &bold)?;
        sheet.write_string_with_format(table_row, 1, "学法活动(场)", &bold)?;
        sheet.write_string_with_format(table_row, 2, "参学人次", &bold)?;
        for (i, (month, sessions, people)) in book.months.iter().enumerate() {
            let r = table_row + 1 + i as u32;
            sheet.write_string(r, 0, month)?;
            sheet.write_number(r, 1, *sessions as f64)?;
            sheet.write_number(r, 2, *people as f64)?;
        }
        let last = table_row + book.months.len() as u32;
        let mut chart = Chart::new(ChartType::Column);
        chart.title().set_name("各月学法活动与参学人次");
        chart
            .add_series()
            .set_name("学法活动(场)")
            .set_categories(("总览", table_row + 1, 0, last, 0))
            .set_values(("总览", table_row + 1, 1, last, 1));
        chart
            .add_series()
            .set_name("参学人次")
            .set_categories(("总览", table_row + 1, 0, last, 0))
            .set_values(("总览", table_row + 1, 2, last, 2));
        sheet.insert_chart(2, 3, &chart)?;
        let widest = book
            .figures
            .iter()
            .map(|(l, _)| display_width(l))
            .max()
            .unwrap_or(10);
        sheet.set_column_width(0, (widest + 4) as f64)?;
        sheet.set_column_width(1, 14)?;
        sheet.set_paper_size(9);
        sheet.set_landscape();
    }
    {
        let sheet = workbook.add_worksheet();
        sheet.set_name("各村汇总")?;
        let formats = super::table::Formats::new();
        for (col, header) in book.village_headers.iter().enumerate() {
            sheet.write_string_with_format(0, col as u16, *header, &formats.header)?;
            sheet.set_column_width(col as u16, (display_width(header).max(10) + 2) as f64)?;
        }
        for (i, row) in book.village_rows.iter().enumerate() {
            for (col, cell) in row.iter().enumerate() {
                super::table::write_cell(sheet, i as u32 + 1, col as u16, cell, &formats, false)?;
            }
        }
        let total_row = book.village_rows.len() as u32 + 1;
        sheet.write_string_with_format(total_row, 0, "合计", &formats.total)?;
        for col in 1..book.village_headers.len() as u16 {
            let letter = crate::domain::import::column_letter(col as usize);
            let formula = format!("=SUM({letter}2:{letter}{})", total_row.max(2));
            // The cached result lets readers that do not calculate (and the tests) see the total.
            let sum: f64 = book
                .village_rows
                .iter()
                .map(|r| match r.get(col as usize) {
                    Some(Cell::Int(n)) => *n as f64,
                    Some(Cell::Number(n)) => *n,
                    _ => 0.0,
                })
                .sum();
            sheet.write_formula_with_format(
                total_row,
                col,
                Formula::new(formula).set_result(sum.to_string()),
                &formats.total,
            )?;
        }
        sheet.set_freeze_panes(1, 1)?;
        sheet.autofilter(
            0,
            0,
            total_row.saturating_sub(1).max(1),
            book.village_headers.len().saturating_sub(1) as u16,
        )?;
        sheet.set_paper_size(9);
        sheet.set_repeat_rows(0, 0)?;
    }
    Ok(YearbookWriter { workbook })
}
