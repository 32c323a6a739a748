//! An .ods file's content.xml read before calamine lays its sheets out, for two things
//! calamine does not do: the merged regions (a merged cell says how many columns and rows it
//! spans, `table:number-columns-spanned` / `-rows-spanned`), and the number of cells the
//! sheets would take once repeated rows and cells (`…-repeated`, up to a million each) are
//! laid out, which is refused past the file's cell budget. Positions are counted the way
//! calamine counts them, so the spans line up with its cells.

use std::io::{BufReader, Cursor};

use calamine::Dimensions;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::grid::MAX_MERGED_REGIONS;

fn number(e: &BytesStart<'_>, key: &str) -> u32 {
    e.try_get_attribute(key)
        .ok()
        .flatten()
        .and_then(|a| a.value.trim().parse().ok())
        .unwrap_or(1)
}

/// What content.xml says: each table's name and merged regions, in the order of the tables,
/// and an upper bound of the cells calamine would lay out.
#[derive(Default)]
pub(super) struct OdsScan {
    pub merged: Vec<(String, Vec<Dimensions>)>,
    pub cells: u64,
}

/// An unreadable content.xml gives nothing (calamine reports the damage when it reads).
pub(super) fn scan(bytes: &[u8]) -> OdsScan {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return OdsScan::default();
    };
    let Ok(content) = archive.by_name("content.xml") else {
        return OdsScan::default();
    };
    scan_content(BufReader::new(content))
}

/// The cells one table takes: calamine keeps a row's cells up to its last filled one, and
/// lays out every row, repeats included, from the first filled row to the last.
#[derive(Default)]
struct TableSize {
    width: u64,
    rows: u64,
    empty_rows_pending: u64,
    // The row being read.
    row_cells: u64,
    row_width: u64,
    row_filled: bool,
}

impl TableSize {
    fn end_row(&mut self, repeats: u64) {
        if self.row_filled {
            self.rows = self
                .rows
                .saturating_add(self.empty_rows_pending)
                .saturating_add(repeats);
            self.empty_rows_pending = 0;
            self.width = self.width.max(self.row_width);
        } else if self.rows > 0 {
            self.empty_rows_pending = self.empty_rows_pending.saturating_add(repeats);
        }
        self.row_cells = 0;
        self.row_width = 0;
        self.row_filled = false;
    }

    fn cells(&self) -> u64 {
        self.rows.saturating_mul(self.width.max(1))
    }
}

fn scan_content(content: impl std::io::BufRead) -> OdsScan {
    let mut reader = Reader::from_reader(content);
    let mut tables: Vec<(String, Vec<Dimensions>)> = Vec::new();
    let mut cells: u64 = 0;
    let mut size = TableSize::default();
    let mut buf = Vec::new();
    let (mut row, mut col) = (0u32, 0u32);
    let mut row_repeats = 1u32;
    // Cells inside a cell (a nested table, an annotation) are not the sheet's cells.
    let mut cell_depth = 0u32;
    loop {
        let event = match reader.read_event_into(&mut buf) {
            Ok(Event::Eof) | Err(_) => break,
            Ok(event) => event,
        };
        let empty = matches!(event, Event::Empty(_));
        match event {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "table:table" if cell_depth == 0 => {
                    let name = e
                        .try_get_attribute("table:name")
                        .ok()
                        .flatten()
                        .and_then(|a| {
                            quick_xml::escape::unescape(&a.value)
                                .ok()
                                .map(|v| v.into_owned())
                        })
                        .unwrap_or_default();
                    tables.push((name, Vec::new()));
                    row = 0;
                    cells = cells.saturating_add(std::mem::take(&mut size).cells());
                }
                "table:table-row" if cell_depth == 0 => {
                    col = 0;
                    row_repeats = number(&e, "table:number-rows-repeated").max(1);
                    if empty {
                        row = row.saturating_add(row_repeats);
                        size.end_row(u64::from(row_repeats));
                    }
                }
                "table:table-cell" | "table:covered-table-cell" if cell_depth == 0 => {
                    let columns = number(&e, "table:number-columns-spanned");
                    let rows = number(&e, "table:number-rows-spanned");
                    if (columns > 1 || rows > 1) && e.name().as_ref() == "table:table-cell" {
                        if let Some((_, regions)) = tables.last_mut() {
                            // One past the cap is kept, so that the grid refuses the sheet.
                            if regions.len() <= MAX_MERGED_REGIONS {
                                let end_row = row.saturating_add(rows.max(1) - 1);
                                let end_col = col.saturating_add(columns.max(1) - 1);
                                regions.push(Dimensions::new((row, col), (end_row, end_col)));
                            }
                        }
                    }
                    let repeats = number(&e, "table:number-columns-repeated").max(1);
                    col = col.saturating_add(repeats);
                    size.row_cells = size.row_cells.saturating_add(u64::from(repeats));
                    // A cell with a value or content is filled (counted generously: a
                    // formatted empty cell with children counts too).
                    if !empty
                        || e.try_get_attribute("office:value-type")
                            .ok()
                            .flatten()
                            .is_some()
                    {
                        size.row_filled = true;
                        size.row_width = size.row_cells;
                    }
                    if !empty {
                        cell_depth += 1;
                    }
                }
                "table:table-cell" | "table:covered-table-cell" if !empty => cell_depth += 1,
                _ => {}
            },
            Event::End(e) => match e.name().as_ref() {
                "table:table-cell" | "table:covered-table-cell" => {
                    cell_depth = cell_depth.saturating_sub(1);
                }
                "table:table-row" if cell_depth == 0 => {
                    row = row.saturating_add(row_repeats);
                    size.end_row(u64::from(row_repeats));
                }
                _ => {}
            },
            _ => {}
        }
        buf.clear();
    }
    OdsScan {
        merged: tables,
        cells: cells.saturating_add(size.cells()),
    }
}

/// The regions of the table called `name`.
pub(super) fn of_sheet(all: &mut [(String, Vec<Dimensions>)], name: &str) -> Vec<Dimensions> {
    all.iter_mut()
        .find(|(n, _)| n == name)
        .map(|(_, regions)| std::mem::take(regions))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_counted_with_repeated_rows_and_cells() {
        let xml = r#"<office:document-content><office:body><office:spreadsheet>
            <table:table table:name="签到">
              <table:table-row table:number-rows-repeated="2"><table:table-cell/></table:table-row>
              <table:table-row>
                <table:table-cell table:number-columns-repeated="3"/>
                <table:table-cell table:number-columns-spanned="2" table:number-rows-spanned="3"><text:p>宪法</text:p></table:table-cell>
                <table:covered-table-cell/>
              </table:table-row>
            </table:table>
            <table:table table:name="二"><table:table-row><table:table-cell table:number-columns-spanned="4"/></table:table-row></table:table>
        </office:spreadsheet></office:body></office:document-content>"#;
        let scan = scan_content(xml.as_bytes());
        // 签到: the one filled row, as wide as its filled cell (3 empty cells, then it);
        // 二: nothing filled.
        assert_eq!(scan.cells, 4);
        let mut all = scan.merged;
        assert_eq!(
            of_sheet(&mut all, "签到"),
            vec![Dimensions::new((2, 3), (4, 4))]
        );
        assert_eq!(
            of_sheet(&mut all, "二"),
            vec![Dimensions::new((0, 0), (0, 3))]
        );
    }
}
