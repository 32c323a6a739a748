//! A worksheet as pufa's cells: calamine's values converted (dates in the workbook's own
//! system), merged regions filled in within bounds.

use calamine::{Data, DataRef, Dimensions, Range};
use chrono::{NaiveDate, NaiveDateTime};

use super::{CellValue, ReadError, SheetGrid, MAX_DATA_ROWS};

/// An Excel serial day number (1900 system) as a date and time.
pub fn excel_serial_to_datetime(serial: f64) -> Option<NaiveDateTime> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    let seconds = (serial * 86_400.0).round() as i64;
    base.checked_add_signed(chrono::Duration::seconds(seconds))
}

/// An Excel date cell, in the workbook's own date system (1900, or 1904 as old Excel for
/// Mac saved them). Excel's fictitious 1900-02-29 stays text, so that it is reported as an
/// invalid date instead of becoming a neighbouring day.
fn date_cell(dt: &calamine::ExcelDateTime) -> CellValue {
    let serial = dt.as_f64();
    if dt.is_duration() || serial < 1.0 {
        return CellValue::Number(serial);
    }
    let (year, month, day, ..) = dt.to_ymd_hms_milli();
    if (year, month, day) == (1900, 2, 29) {
        return CellValue::Text("1900-02-29".into());
    }
    dt.as_datetime()
        .map(CellValue::DateTime)
        .unwrap_or(CellValue::Number(serial))
}

fn cell_of(data: &Data) -> CellValue {
    match data {
        Data::Empty => CellValue::Empty,
        Data::String(s) => CellValue::Text(s.clone()),
        Data::Float(f) => CellValue::Number(*f),
        Data::Int(i) => CellValue::Number(*i as f64),
        Data::Bool(b) => CellValue::Bool(*b),
        Data::DateTime(dt) => date_cell(dt),
        Data::DateTimeIso(s) => NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
            .or_else(|_| {
                NaiveDate::parse_from_str(s, "%Y-%m-%d").map(|d| d.and_time(chrono::NaiveTime::MIN))
            })
            .map(CellValue::DateTime)
            .unwrap_or_else(|_| CellValue::Text(s.clone())),
        Data::DurationIso(s) => CellValue::Text(s.clone()),
        Data::Error(_) => CellValue::Empty,
    }
}

/// [`cell_of`] for a cell of calamine's streaming reader, copying a shared text once.
pub(super) fn cell_of_ref(data: &DataRef<'_>) -> CellValue {
    match data {
        DataRef::SharedString(s) => CellValue::Text((*s).to_string()),
        DataRef::String(s) => CellValue::Text(s.clone()),
        DataRef::Empty => CellValue::Empty,
        other => cell_of(&Data::from(other.clone())),
    }
}

/// Excel's own limit on one cell's text. A longer one in a workbook (a forged file) is
/// refused in the reader, so that it never reaches the server; so is one in a .csv.
pub const MAX_CELL_CHARS: usize = 32_767;

/// Refuses a cell longer than Excel allows.
pub(super) fn check_cell_text(sheet: &str, text: &str) -> Result<(), ReadError> {
    // Characters are counted only past the limit in bytes (never fewer bytes).
    if text.len() > MAX_CELL_CHARS && text.chars().count() > MAX_CELL_CHARS {
        return Err(ReadError::Damaged(format!(
            "工作表“{sheet}”中有单元格超过 {MAX_CELL_CHARS} 个字符（Excel 的上限），文件可能已损坏或被篡改"
        )));
    }
    Ok(())
}

/// More merged regions than any ledger a clerk keeps.
pub(super) const MAX_MERGED_REGIONS: usize = 50_000;
/// The most cells merged regions may fill in one sheet (after clipping to its cells).
const MAX_MERGED_CELLS: u64 = 10_000_000;
/// The most cells one file may hold once laid out as rows (each row as wide as its last
/// filled cell, an empty row counting as one): 200,000 rows of 20 columns. About 32 bytes
/// each, so the grids stay under ~130 MB however the cells are scattered over the sheets.
pub const MAX_FILE_CELLS: u64 = 4_000_000;
/// The most text (UTF-8 bytes) the cells of one file may hold: 200,000 rows of 20 columns
/// of 25 bytes. The worker sends the cells it reads on at once, so this, not the worker's
/// memory, bounds what the server is sent; a forged file whose cells each name one long
/// shared text would otherwise send gigabytes.
const MAX_FILE_TEXT_BYTES: u64 = 100_000_000;

/// What one file may still lay out: cells, and bytes of text in them.
#[derive(Debug)]
pub(super) struct Budget {
    cells: u64,
    text: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            cells: MAX_FILE_CELLS,
            text: MAX_FILE_TEXT_BYTES,
        }
    }
}
/// Excel's own bounds; a cell address past them is a forged file.
const EXCEL_ROWS: u32 = 1_048_576;
const EXCEL_COLS: u32 = 16_384;

fn too_many_merges(sheet: &str) -> ReadError {
    ReadError::Damaged(format!(
        "工作表“{sheet}”的合并单元格数量或范围不合理（可能已损坏或被篡改），请取消合并后另存再上传"
    ))
}

pub(super) fn too_many_cells(sheet: &str) -> ReadError {
    ReadError::Damaged(format!(
        "工作表“{sheet}”的单元格太多或分布范围过大（全部工作表合计不能超过 400 万个单元格），\
         请删除表格以外的内容（如远处的空格、格式）后另存再上传"
    ))
}

fn too_much_text(sheet: &str) -> ReadError {
    ReadError::Damaged(format!(
        "表格中的文字太多：全部工作表的单元格文字合计超过 100 MB（读到工作表“{sheet}”时超出），\
         文件可能已损坏或被篡改，请删除多余内容后另存再上传"
    ))
}

/// The same refusal when the whole file is counted before its sheets are read.
pub(super) fn too_many_cells_in_file() -> ReadError {
    ReadError::Damaged(
        "表格的单元格太多或分布范围过大（全部工作表合计不能超过 400 万个单元格），\
         请删除表格以外的内容（如远处的空格、格式）后另存再上传"
            .into(),
    )
}

/// A sheet's layout as its cells are read (each row as wide as its last filled cell), each
/// row and cell taken off the file's cell budget before anything is made for it, so that no
/// count or address in the file sizes an allocation. The worker checks a sheet it hands on
/// cell by cell with it; [`SheetBuilder`] lays cells out with it.
pub(super) struct Shape {
    name: String,
    /// Each row's width so far.
    widths: Vec<u32>,
    rows_seen: u64,
    last_row: Option<u32>,
}

impl Shape {
    pub(super) fn new(name: &str) -> Self {
        Shape {
            name: name.to_string(),
            widths: Vec::new(),
            rows_seen: 0,
            last_row: None,
        }
    }

    fn take(&self, budget: &mut Budget, cells: usize) -> Result<(), ReadError> {
        let cells = cells as u64;
        if cells > budget.cells {
            return Err(too_many_cells(&self.name));
        }
        budget.cells -= cells;
        Ok(())
    }

    /// Checks a cell and makes room for it in the layout; false for an empty cell, which
    /// takes none.
    pub(super) fn admit(
        &mut self,
        budget: &mut Budget,
        row: u32,
        col: u32,
        value: &CellValue,
    ) -> Result<bool, ReadError> {
        if value.is_empty() {
            return Ok(false);
        }
        if let CellValue::Text(text) = value {
            check_cell_text(&self.name, text)?;
            let bytes = text.len() as u64;
            if bytes > budget.text {
                return Err(too_much_text(&self.name));
            }
            budget.text -= bytes;
        }
        if row >= EXCEL_ROWS || col >= EXCEL_COLS {
            return Err(ReadError::Damaged(format!(
                "工作表“{}”中有超出 Excel 范围的单元格地址",
                self.name
            )));
        }
        if self.last_row != Some(row) {
            self.last_row = Some(row);
            self.rows_seen += 1;
            if self.rows_seen > (MAX_DATA_ROWS + 20) as u64 {
                return Err(ReadError::TooManyRows {
                    sheet: self.name.clone(),
                    rows: self.rows_seen as usize,
                });
            }
        }
        let (row, col) = (row as usize, col as usize);
        if row >= self.widths.len() {
            // An empty row costs one cell of the budget.
            self.take(budget, row + 1 - self.widths.len())?;
            self.widths.resize(row + 1, 0);
        }
        let width = self.widths[row] as usize;
        if col >= width {
            self.take(budget, col + 1 - width)?;
            self.widths[row] = col as u32 + 1;
        }
        Ok(true)
    }
}

/// Lays a sheet's filled cells out as rows as they are read, within its [`Shape`].
pub(super) struct SheetBuilder {
    shape: Shape,
    rows: Vec<Vec<CellValue>>,
    /// How many cells the last row started had: a new row is given room for as many at
    /// once (at most [`ROW_ROOM`]) instead of growing cell by cell.
    last_width: usize,
}

/// The most cells a new row is given room for before it has them.
const ROW_ROOM: usize = 64;

impl SheetBuilder {
    pub(super) fn new(name: &str) -> Self {
        SheetBuilder {
            shape: Shape::new(name),
            rows: Vec::new(),
            last_width: 0,
        }
    }

    pub(super) fn push(
        &mut self,
        budget: &mut Budget,
        row: u32,
        col: u32,
        value: CellValue,
    ) -> Result<(), ReadError> {
        let last_row = self.shape.last_row;
        if !self.shape.admit(budget, row, col, &value)? {
            return Ok(());
        }
        if last_row != Some(row) {
            if let Some(last) = last_row.and_then(|r| self.rows.get(r as usize)) {
                self.last_width = last.len();
            }
        }
        let (row, col) = (row as usize, col as usize);
        if row >= self.rows.len() {
            self.rows.resize_with(row + 1, Vec::new);
        }
        let cells = &mut self.rows[row];
        if col >= cells.len() {
            if cells.capacity() == 0 {
                cells.reserve_exact((col + 1).max(self.last_width.min(ROW_ROOM)));
            }
            cells.resize(col + 1, CellValue::Empty);
        }
        cells[col] = value;
        Ok(())
    }

    /// The rows from the first filled one, merged regions filled in.
    pub(super) fn into_grid(
        self,
        merged: &[Dimensions],
        budget: &mut Budget,
    ) -> Result<SheetGrid, ReadError> {
        let SheetBuilder {
            shape: Shape { name, .. },
            mut rows,
            ..
        } = self;
        let first_row = rows.iter().position(|r| !r.is_empty()).unwrap_or(0);
        rows.drain(..first_row);
        let first_row = first_row as u32;
        fill_merged(&name, &mut rows, first_row, 0, merged, budget)?;
        Ok(SheetGrid {
            name,
            first_row,
            first_col: 0,
            rows,
        })
    }
}

/// A sheet calamine has already laid out (xls, ods), through the same limits.
pub(super) fn grid_of(
    name: &str,
    range: &Range<Data>,
    merged: &[Dimensions],
    budget: &mut Budget,
) -> Result<SheetGrid, ReadError> {
    let mut sheet = SheetBuilder::new(name);
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    for (row, col, data) in range.used_cells() {
        let (Some(row), Some(col)) = (
            u32::try_from(row)
                .ok()
                .and_then(|r| r.checked_add(first_row)),
            u32::try_from(col)
                .ok()
                .and_then(|c| c.checked_add(first_col)),
        ) else {
            return Err(too_many_cells(name));
        };
        sheet.push(budget, row, col, cell_of(data))?;
    }
    sheet.into_grid(merged, budget)
}

/// A merged region's value belongs to every cell of it (the reader gives it to the first).
/// Regions are clipped to the cells the sheet has (a forged A1:XFD1048576 is not 17 billion
/// steps), and their number and filled area are bounded, as is the sheet's size after. The
/// copies of a text a region makes are not charged to the file's text here: they are made in
/// the worker, whose memory bounds them (a forged region over a long text kills it), and
/// the server charges them when it lays them out.
fn fill_merged(
    name: &str,
    rows: &mut [Vec<CellValue>],
    first_row: u32,
    first_col: u32,
    merged: &[Dimensions],
    budget: &mut Budget,
) -> Result<(), ReadError> {
    if merged.len() > MAX_MERGED_REGIONS {
        return Err(too_many_merges(name));
    }
    let last_row = first_row as u64 + rows.len() as u64;
    let last_col = first_col as u64 + rows.iter().map(Vec::len).max().unwrap_or(0) as u64;
    let mut filled: u64 = 0;
    for region in merged {
        let (r0, c0) = region.start;
        let (r1, c1) = region.end;
        if r0 < first_row || c0 < first_col {
            continue;
        }
        if r0 as u64 >= last_row || c0 as u64 >= last_col || r1 < r0 || c1 < c0 {
            continue;
        }
        let r1 = r1.min((last_row - 1) as u32);
        let c1 = c1.min((last_col - 1) as u32);
        filled += (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
        if filled > MAX_MERGED_CELLS {
            return Err(too_many_merges(name));
        }
        let (r0i, c0i) = ((r0 - first_row) as usize, (c0 - first_col) as usize);
        let value = rows
            .get(r0i)
            .and_then(|r| r.get(c0i))
            .cloned()
            .unwrap_or(CellValue::Empty);
        if value.is_empty() {
            continue;
        }
        let width = (c1 - first_col + 1) as usize;
        for r in r0..=r1 {
            let row = &mut rows[(r - first_row) as usize];
            if row.len() < width {
                let more = (width - row.len()) as u64;
                if more > budget.cells {
                    return Err(too_many_cells(name));
                }
                budget.cells -= more;
                row.resize(width, CellValue::Empty);
            }
            for cell in &mut row[(c0 - first_col) as usize..width] {
                *cell = value.clone();
            }
        }
    }
    Ok(())
}
