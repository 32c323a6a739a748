//! Reading what clerks upload: the limits checked first, then the workbook (or CSV) as a
//! grid of cells with merged regions filled in, then the header row and the data rows.

mod grid;
pub mod header;
mod ods_check;
mod stream;
pub mod worker;
mod xls_check;
pub mod zip_check;

use calamine::{Reader, Sheets};
use chrono::NaiveDateTime;
use std::io::Cursor;

pub use grid::excel_serial_to_datetime;
pub use grid::MAX_FILE_CELLS;
use grid::{cell_of_ref, grid_of, SheetBuilder};
pub use header::{find_table, SheetTable, SourceRow, TableSet};
pub use stream::read_streamed;

/// Uploads larger than this are refused before they are read.
pub const MAX_UPLOAD_BYTES: usize = 20 * 1024 * 1024;
/// Workbooks (zip containers) that unpack to more than this are refused unread.
pub const MAX_UNPACKED_BYTES: u64 = 200 * 1024 * 1024;
/// Sheets with more data rows than this are refused.
pub const MAX_DATA_ROWS: usize = 200_000;

#[derive(Debug, Clone, PartialEq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum ReadError {
    #[error("文件太大（{0:.1} MB），单个文件不能超过 20 MB，请按月或按村拆分后再上传")]
    TooLarge(f64),
    #[error("文件解压后超过 200 MB，可能已损坏或不是正常的表格文件，已拒绝读取")]
    UnpacksTooLarge,
    #[error("工作表“{sheet}”有 {rows} 行数据，超过 200000 行的上限，请拆分后再上传")]
    TooManyRows { sheet: String, rows: usize },
    #[error("文件不完整或已损坏，无法读取。请用 Excel 或 WPS 打开这个文件，确认内容正常后另存为 .xlsx 再上传（技术信息：{0}）")]
    Damaged(String),
    #[error("不支持的文件类型“{0}”，请上传 .xlsx、.xlsm、.xls、.ods 或 .csv 文件")]
    Unsupported(String),
    #[error("没有找到可识别的表头。请确认表头中有这些列：{0}")]
    NoHeader(String),
    #[error("文件是空的")]
    Empty,
    /// The reader ran out of its memory or time, or failed, in its worker process.
    #[error("这个文件无法读取：读取时超出了内存或时间限制，文件可能已损坏或结构异常。请用 Excel 或 WPS 打开，确认内容正常后另存为新的 .xlsx 文件再上传")]
    Unreadable,
    /// Too many files are being read at the moment.
    #[error("{0}")]
    Busy(String),
}

/// A cell as pufa sees it (serialised with an import batch's rejected rows).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum CellValue {
    Empty,
    Text(String),
    Number(f64),
    DateTime(NaiveDateTime),
    Bool(bool),
}

impl CellValue {
    pub fn is_empty(&self) -> bool {
        match self {
            CellValue::Empty => true,
            CellValue::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The value as the clerk sees it, for messages and the rejected-rows file.
    pub fn display(&self) -> String {
        self.shown().into_owned()
    }

    /// [`CellValue::display`], borrowing a text cell's own text.
    pub fn shown(&self) -> std::borrow::Cow<'_, str> {
        use std::borrow::Cow;
        match self {
            CellValue::Empty => Cow::Borrowed(""),
            CellValue::Text(t) => Cow::Borrowed(t.trim()),
            CellValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => {
                Cow::Owned(format!("{}", *n as i64))
            }
            CellValue::Number(n) => Cow::Owned(n.to_string()),
            CellValue::DateTime(d) if d.time() == chrono::NaiveTime::MIN => {
                Cow::Owned(d.date().to_string())
            }
            CellValue::DateTime(d) => Cow::Owned(d.format("%Y-%m-%d %H:%M").to_string()),
            CellValue::Bool(b) => Cow::Borrowed(if *b { "是" } else { "否" }),
        }
    }
}

/// A worksheet as rows of cells; `first_row`/`first_col` are where the range starts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SheetGrid {
    pub name: String,
    pub first_row: u32,
    pub first_col: u32,
    pub rows: Vec<Vec<CellValue>>,
}

impl SheetGrid {
    pub fn cell(&self, row: usize, col: usize) -> &CellValue {
        self.rows
            .get(row)
            .and_then(|r| r.get(col))
            .unwrap_or(&CellValue::Empty)
    }

    /// The row number as Excel shows it (1-based) for an index into `rows`.
    pub fn excel_row(&self, row: usize) -> usize {
        self.first_row as usize + row + 1
    }

    /// The column index as Excel counts it (0 = A) for an index into a row.
    pub fn excel_col(&self, col: usize) -> usize {
        self.first_col as usize + col
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Zip,
    Xls,
    Csv,
}

/// The format by the file's first bytes, not its name: a zip renamed .xls is still checked
/// as a zip. Only text without either signature may be CSV, and only when it is named so.
fn format_of(file_name: &str, bytes: &[u8]) -> Result<Format, ReadError> {
    let extension = file_name
        .rsplit('.')
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Ok(Format::Zip);
    }
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Ok(Format::Xls);
    }
    match extension.as_str() {
        "csv" => Ok(Format::Csv),
        "xlsx" | "xlsm" | "ods" | "xls" => Err(ReadError::Damaged(
            "文件内容不是表格文件（可能只是改了扩展名）".into(),
        )),
        other => Err(ReadError::Unsupported(if other.is_empty() {
            file_name.to_string()
        } else {
            format!(".{other}")
        })),
    }
}

/// Where a file's sheets go as they are read.
pub(super) trait SheetOut {
    /// A sheet laid out whole.
    fn sheet(&mut self, grid: SheetGrid) -> Result<(), ReadError>;
    /// Where the cells of an xlsx sheet without merged regions go as they are read, when
    /// they are handed on at once (the worker sends them to the server); `None`: the sheet
    /// is laid out first.
    fn cells(&mut self) -> Option<&mut dyn CellOut>;
}

/// Cells handed on as they are read, each checked and counted first (see [`grid::Shape`]).
pub(super) trait CellOut {
    /// The cells that follow are the named sheet's.
    fn begin(&mut self, name: &str) -> Result<(), ReadError>;
    fn cell(&mut self, row: u32, col: u32, value: CellValue) -> Result<(), ReadError>;
}

impl SheetOut for Vec<SheetGrid> {
    fn sheet(&mut self, grid: SheetGrid) -> Result<(), ReadError> {
        self.push(grid);
        Ok(())
    }

    fn cells(&mut self) -> Option<&mut dyn CellOut> {
        None
    }
}

/// Every worksheet of the file as a grid. Limits are checked before calamine is called.
pub fn read_grids(file_name: &str, bytes: &[u8]) -> Result<Vec<SheetGrid>, ReadError> {
    let mut grids = Vec::new();
    read_sheets(file_name, bytes, &mut grids)?;
    Ok(grids)
}

/// [`read_grids`], each sheet put to `out` as it is read.
pub(super) fn read_sheets(
    file_name: &str,
    bytes: &[u8],
    out: &mut dyn SheetOut,
) -> Result<(), ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ReadError::TooLarge(bytes.len() as f64 / 1024.0 / 1024.0));
    }
    match format_of(file_name, bytes)? {
        Format::Csv => out.sheet(read_csv(file_name, bytes)?),
        Format::Zip => {
            // Checked whole before calamine opens the file. Checking the worksheets on a
            // second thread beside the read was faster but, under a tight address space, let
            // the second thread's memory kill the process (README, "Benchmarks").
            let unpacked = zip_check::check_unpacked_size(bytes, MAX_UNPACKED_BYTES)?;
            // calamine lays out every sheet of an .ods when it opens it: the size is
            // checked first (an xlsx has no content.xml and scans as nothing).
            let ods = ods_check::scan(bytes);
            if ods.cells > MAX_FILE_CELLS {
                return Err(grid::too_many_cells_in_file());
            }
            read_workbook(bytes, ods.merged, unpacked.merges, out)
        }
        Format::Xls => {
            let copy = xls_check::check_xls(bytes)?;
            read_workbook(copy.as_deref().unwrap_or(bytes), Vec::new(), true, out)
        }
    }
}

fn damaged(e: impl std::fmt::Display) -> ReadError {
    ReadError::Damaged(e.to_string())
}

/// `ods_regions`: the merged regions of an .ods file (see `ods_check`); `merges`: whether
/// an xlsx names any merged regions at all (else they are not looked for, see `zip_check`).
fn read_workbook(
    bytes: &[u8],
    mut ods_regions: Vec<(String, Vec<calamine::Dimensions>)>,
    merges: bool,
    out: &mut dyn SheetOut,
) -> Result<(), ReadError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(damaged)?;
    let names = workbook.sheet_names().to_vec();
    let mut budget = grid::Budget::default();
    for name in names {
        let grid = match &mut workbook {
            // xlsx cells are read as a stream and stop at the limits: calamine's own range
            // would be laid out from the extreme addresses before pufa sees a cell.
            Sheets::Xlsx(x) => {
                let merged = if merges {
                    x.merge_cells_by_sheet_name(&name).unwrap_or_default()
                } else {
                    Vec::new()
                };
                let mut cells = match x.worksheet_cells_reader(&name) {
                    Ok(cells) => Some(cells),
                    // A chart sheet or dialog sheet has no cells.
                    Err(calamine::XlsxError::NotAWorksheet(_)) => None,
                    Err(e) => return Err(damaged(e)),
                };
                let mut each_cell =
                    |put: &mut dyn FnMut(u32, u32, CellValue) -> Result<(), ReadError>| {
                        if let Some(cells) = &mut cells {
                            while let Some(cell) = cells.next_cell().map_err(damaged)? {
                                let (row, col) = cell.get_position();
                                put(row, col, cell_of_ref(cell.get_value()))?;
                            }
                        }
                        Ok::<(), ReadError>(())
                    };
                match out.cells() {
                    // Merged regions are filled in a laid-out sheet only.
                    Some(stream) if merged.is_empty() => {
                        stream.begin(&name)?;
                        let mut shape = grid::Shape::new(&name);
                        each_cell(&mut |row, col, value| {
                            if shape.admit(&mut budget, row, col, &value)? {
                                stream.cell(row, col, value)?;
                            }
                            Ok(())
                        })?;
                        continue;
                    }
                    _ => {
                        let mut sheet = SheetBuilder::new(&name);
                        each_cell(&mut |row, col, value| sheet.push(&mut budget, row, col, value))?;
                        sheet.into_grid(&merged, &mut budget)?
                    }
                }
            }
            Sheets::Xls(x) => {
                let merged = x.merge_cells_by_sheet_name(&name).unwrap_or_default();
                let range = x.worksheet_range(&name).map_err(damaged)?;
                grid_of(&name, &range, &merged, &mut budget)?
            }
            // calamine does not report merged regions of .ods files: they come from the
            // file's content.xml (none for .xlsb).
            other => {
                let range = other.worksheet_range(&name).map_err(damaged)?;
                let merged = ods_check::of_sheet(&mut ods_regions, &name);
                grid_of(&name, &range, &merged, &mut budget)?
            }
        };
        out.sheet(grid)?;
    }
    Ok(())
}

/// [`read_workbook`] of an .xls or .xlsx as grids, without the checks before it.
#[cfg(test)]
fn read_workbook_grids(bytes: &[u8]) -> Result<Vec<SheetGrid>, ReadError> {
    let mut grids = Vec::new();
    read_workbook(bytes, Vec::new(), true, &mut grids)?;
    Ok(grids)
}

/// UTF-8 (with or without BOM), else GB18030 — what Excel and WPS on Chinese Windows save.
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return String::from_utf8_lossy(rest).into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn read_csv(file_name: &str, bytes: &[u8]) -> Result<SheetGrid, ReadError> {
    let text = decode_text(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let name = name
        .strip_suffix(".csv")
        .or_else(|| name.strip_suffix(".CSV"))
        .unwrap_or(name);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(damaged)?;
        for field in record.iter() {
            grid::check_cell_text(name, field)?;
        }
        rows.push(
            record
                .iter()
                .map(|v| CellValue::Text(v.to_string()))
                .collect(),
        );
        if rows.len() > MAX_DATA_ROWS + 20 {
            return Err(ReadError::TooManyRows {
                sheet: file_name.to_string(),
                rows: rows.len(),
            });
        }
    }
    Ok(SheetGrid {
        name: name.to_string(),
        first_row: 0,
        first_col: 0,
        rows,
    })
}

#[cfg(test)]
mod tests;
