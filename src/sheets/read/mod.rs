//! Reading what clerks upload: the limits checked first, then the workbook (or CSV) as a
//! grid of cells with merged regions filled in, then the header row and the data rows.

mod grid;
pub mod header;
mod ods_check;
pub mod worker;
mod xls_check;
pub mod zip_check;

use calamine::{Reader, Sheets};
use chrono::NaiveDateTime;
use std::io::Cursor;

pub use grid::excel_serial_to_datetime;
pub use grid::MAX_FILE_CELLS;
use grid::{cell_of, grid_of, SheetBuilder};
pub use header::{find_table, SheetTable, SourceRow, TableSet};

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
        match self {
            CellValue::Empty => String::new(),
            CellValue::Text(t) => t.trim().to_string(),
            CellValue::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            CellValue::Number(n) => n.to_string(),
            CellValue::DateTime(d) if d.time() == chrono::NaiveTime::MIN => d.date().to_string(),
            CellValue::DateTime(d) => d.format("%Y-%m-%d %H:%M").to_string(),
            CellValue::Bool(b) => if *b { "是" } else { "否" }.to_string(),
        }
    }
}

/// A worksheet as rows of cells; `first_row`/`first_col` are where the range starts.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

/// Every worksheet of the file as a grid. Limits are checked before calamine is called.
pub fn read_grids(file_name: &str, bytes: &[u8]) -> Result<Vec<SheetGrid>, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() > MAX_UPLOAD_BYTES {
        return Err(ReadError::TooLarge(bytes.len() as f64 / 1024.0 / 1024.0));
    }
    match format_of(file_name, bytes)? {
        Format::Csv => read_csv(file_name, bytes).map(|g| vec![g]),
        Format::Zip => {
            zip_check::check_unpacked_size(bytes, MAX_UNPACKED_BYTES)?;
            // calamine lays out every sheet of an .ods when it opens it: the size is
            // checked first (an xlsx has no content.xml and scans as nothing).
            let ods = ods_check::scan(bytes);
            if ods.cells > MAX_FILE_CELLS {
                return Err(grid::too_many_cells("（全部工作表）"));
            }
            read_workbook(bytes, ods.merged)
        }
        Format::Xls => {
            xls_check::check_xls(bytes)?;
            read_workbook(bytes, Vec::new())
        }
    }
}

fn damaged(e: impl std::fmt::Display) -> ReadError {
    ReadError::Damaged(e.to_string())
}

/// `ods_regions`: the merged regions of an .ods file (see `ods_check`).
fn read_workbook(
    bytes: &[u8],
    mut ods_regions: Vec<(String, Vec<calamine::Dimensions>)>,
) -> Result<Vec<SheetGrid>, ReadError> {
    let mut workbook = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(damaged)?;
    let names = workbook.sheet_names().to_vec();
    let mut grids = Vec::new();
    let mut budget = MAX_FILE_CELLS;
    for name in names {
        let grid = match &mut workbook {
            // xlsx cells are read as a stream and stop at the limits: calamine's own range
            // would be laid out from the extreme addresses before pufa sees a cell.
            Sheets::Xlsx(x) => {
                let merged = x.merge_cells_by_sheet_name(&name).unwrap_or_default();
                let mut sheet = SheetBuilder::new(&name, &mut budget);
                match x.worksheet_cells_reader(&name) {
                    Ok(mut cells) => {
                        while let Some(cell) = cells.next_cell().map_err(damaged)? {
                            let (row, col) = cell.get_position();
                            sheet.push(row, col, cell_of(&cell.get_value().clone().into()))?;
                        }
                    }
                    // A chart sheet or dialog sheet has no cells.
                    Err(calamine::XlsxError::NotAWorksheet(_)) => {}
                    Err(e) => return Err(damaged(e)),
                }
                sheet.into_grid(&merged)?
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
        grids.push(grid);
    }
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
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(damaged)?;
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
    let name = file_name.rsplit(['/', '\\']).next().unwrap_or(file_name);
    let name = name
        .strip_suffix(".csv")
        .or_else(|| name.strip_suffix(".CSV"))
        .unwrap_or(name);
    Ok(SheetGrid {
        name: name.to_string(),
        first_row: 0,
        first_col: 0,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::grid::MAX_MERGED_REGIONS;
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn gb18030_csv_is_decoded() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("姓名,村(社区)\n张三,龙凤村\n");
        assert_eq!(decode_text(&bytes), "姓名,村(社区)\n张三,龙凤村\n");
        let with_bom = [&[0xEF, 0xBB, 0xBF][..], "姓名".as_bytes()].concat();
        assert_eq!(decode_text(&with_bom), "姓名");
    }

    #[test]
    fn excel_serials_are_dates() {
        let d = excel_serial_to_datetime(44260.0).unwrap();
        assert_eq!(d.date(), NaiveDate::from_ymd_opt(2021, 3, 5).unwrap());
        assert!(excel_serial_to_datetime(-3.0).is_none());
    }

    /// An xlsx whose first column holds these serial numbers formatted as dates, saved in
    /// the 1904 date system when `date1904`.
    fn dated_workbook(serials: &[f64], date1904: bool) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        let format = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
        for (row, serial) in serials.iter().enumerate() {
            sheet
                .write_number_with_format(row as u32, 0, *serial, &format)
                .unwrap();
        }
        let plain = book.save_to_buffer().unwrap();
        if !date1904 {
            return plain;
        }
        patch_entry(plain, "xl/workbook.xml", |xml| {
            assert!(xml.contains("<workbookPr"), "{xml}");
            xml.replacen("<workbookPr", "<workbookPr date1904=\"1\"", 1)
        })
    }

    /// The workbook with one of its XML parts rewritten by `edit`.
    fn patch_entry(plain: Vec<u8>, part: &str, edit: impl Fn(String) -> String) -> Vec<u8> {
        use std::io::{Read, Write};
        let mut archive = zip::ZipArchive::new(Cursor::new(plain)).unwrap();
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let name = entry.name().unwrap().to_string();
            let mut content = Vec::new();
            entry.read_to_end(&mut content).unwrap();
            if name == part {
                content = edit(String::from_utf8(content).unwrap()).into_bytes();
            }
            out.start_file(name, zip::write::SimpleFileOptions::default())
                .unwrap();
            out.write_all(&content).unwrap();
        }
        out.finish().unwrap().into_inner()
    }

    /// A two-row sheet whose worksheet part declares these merged regions.
    fn merged_workbook(regions: &[String]) -> Vec<u8> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        sheet.write_string(0, 1, "村(社区)").unwrap();
        sheet.write_string(1, 0, "张三").unwrap();
        sheet.write_string(1, 1, "龙凤村").unwrap();
        let plain = book.save_to_buffer().unwrap();
        let cells: String = regions
            .iter()
            .map(|r| format!("<mergeCell ref=\"{r}\"/>"))
            .collect();
        patch_entry(plain, "xl/worksheets/sheet1.xml", |xml| {
            let merges = format!(
                "</sheetData><mergeCells count=\"{}\">{cells}</mergeCells>",
                regions.len()
            );
            assert!(xml.contains("</sheetData>"), "{xml}");
            xml.replacen("</sheetData>", &merges, 1)
        })
    }

    #[test]
    fn a_forged_merged_region_is_clipped_to_the_sheet() {
        // Without clipping, filling A2:XFD1048576 walks 17 billion cells (minutes).
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let bytes = merged_workbook(&["A2:XFD1048576".to_string()]);
            let _ = sender.send(read_grids("名单.xlsx", &bytes));
        });
        let grids = receiver
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the sheet is read at once")
            .expect("a readable sheet");
        assert_eq!(grids[0].rows.len(), 2);
        assert_eq!(grids[0].cell(1, 1), &CellValue::Text("张三".into()));

        let many: Vec<String> = (1..=MAX_MERGED_REGIONS + 1)
            .map(|row| format!("A{row}:B{row}"))
            .collect();
        assert!(matches!(
            read_grids("名单.xlsx", &merged_workbook(&many)),
            Err(ReadError::Damaged(message)) if message.contains("合并单元格")
        ));
    }

    /// Runs `read` on its own thread and gives up after 30 s (a reader that lays a sheet
    /// out from its extreme addresses takes minutes, or aborts the process).
    fn within_30_s<T: Send + 'static>(read: impl FnOnce() -> T + Send + 'static) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = sender.send(read());
        });
        receiver
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("read at once")
    }

    #[test]
    fn one_cell_far_away_does_not_lay_out_the_whole_sheet() {
        // calamine's own range for A1 + XFD1048576 is 17 billion cells.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        sheet.write_string(1_048_575, 16_383, "远处").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let grids = within_30_s(move || read_grids("名单.xlsx", &bytes)).expect("readable");
        let grid = &grids[0];
        assert_eq!(grid.rows.len(), 1_048_576);
        assert_eq!(grid.rows[0], vec![CellValue::Text("姓名".into())]);
        assert_eq!(grid.rows[1].len(), 0, "empty rows hold no cells");
        assert_eq!(
            grid.cell(1_048_575, 16_383),
            &CellValue::Text("远处".into())
        );
    }

    #[test]
    fn cells_past_the_files_budget_are_refused_before_they_are_laid_out() {
        // 100,000 rows from column A to BA: 5.3 million cells laid out.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for row in 0..100_000 {
            sheet.write_number(row, 0, 1.0).unwrap();
            sheet.write_number(row, 52, 1.0).unwrap();
        }
        let bytes = book.save_to_buffer().unwrap();
        assert!(matches!(
            read_grids("名单.xlsx", &bytes),
            Err(ReadError::Damaged(message)) if message.contains("单元格太多")
        ));
        // The same cells in half the rows are read.
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for row in 0..50_000 {
            sheet.write_number(row, 0, 1.0).unwrap();
            sheet.write_number(row, 52, 1.0).unwrap();
        }
        let grids = read_grids("名单.xlsx", &book.save_to_buffer().unwrap()).expect("readable");
        assert_eq!(grids[0].rows.len(), 50_000);
    }

    /// A one-sheet .ods file whose table body is `rows`.
    fn ods(rows: &str) -> Vec<u8> {
        use std::io::Write;
        let content = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"><office:body><office:spreadsheet><table:table table:name="签到">{rows}</table:table></office:spreadsheet></office:body></office:document-content>"#
        );
        let manifest = r#"<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2"><manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>"#;
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        out.start_file("mimetype", stored).unwrap();
        out.write_all(b"application/vnd.oasis.opendocument.spreadsheet")
            .unwrap();
        out.start_file("META-INF/manifest.xml", stored).unwrap();
        out.write_all(manifest.as_bytes()).unwrap();
        out.start_file("content.xml", stored).unwrap();
        out.write_all(content.as_bytes()).unwrap();
        out.finish().unwrap().into_inner()
    }

    fn text_cell(text: &str, extra: &str) -> String {
        format!(
            r#"<table:table-cell office:value-type="string"{extra}><text:p>{text}</text:p></table:table-cell>"#
        )
    }

    #[test]
    fn ods_merged_regions_are_filled_like_xlsx_ones() {
        // A title over two columns, and a date merged down over two attendees' rows.
        let rows = [
            format!(
                "<table:table-row>{}<table:covered-table-cell/></table:table-row>",
                text_cell("学法签到表", r#" table:number-columns-spanned="2""#)
            ),
            format!(
                "<table:table-row>{}{}</table:table-row>",
                text_cell("日期", ""),
                text_cell("姓名", "")
            ),
            format!(
                "<table:table-row>{}{}</table:table-row>",
                text_cell("2021-03-05", r#" table:number-rows-spanned="2""#),
                text_cell("张三", "")
            ),
            format!(
                "<table:table-row><table:covered-table-cell/>{}</table:table-row>",
                text_cell("李四", "")
            ),
        ]
        .concat();
        let grids = read_grids("签到.ods", &ods(&rows)).expect("readable");
        let grid = &grids[0];
        let text = |r: usize, c: usize| grid.cell(r, c).display();
        assert_eq!(
            (text(0, 0), text(0, 1)),
            ("学法签到表".into(), "学法签到表".into())
        );
        assert_eq!(text(2, 0), "2021-03-05");
        assert_eq!(
            text(3, 0),
            "2021-03-05",
            "the merged date belongs to 李四 too"
        );
        assert_eq!(text(3, 1), "李四");
    }

    #[test]
    fn a_declared_string_count_cannot_make_the_reader_reserve_terabytes() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "姓名").unwrap();
        let plain = book.save_to_buffer().unwrap();
        let forged = patch_entry(plain, "xl/sharedStrings.xml", |xml| {
            let at = xml.find("uniqueCount=\"").expect("declared") + "uniqueCount=\"".len();
            let end = at + xml[at..].find('"').unwrap();
            format!("{}1000000000000{}", &xml[..at], &xml[end..])
        });
        assert!(matches!(
            read_grids("名单.xlsx", &forged),
            Err(ReadError::Damaged(message)) if message.contains("文字条目")
        ));
    }

    fn first_column(bytes: &[u8]) -> Vec<CellValue> {
        let grids = read_grids("dates.xlsx", bytes).unwrap();
        grids[0].rows.iter().map(|row| row[0].clone()).collect()
    }

    #[test]
    fn dates_of_1904_workbooks_are_read_in_their_own_system() {
        // 2021-03-05 is day 42798 of the 1904 system (44260 of the 1900 one).
        let cells = first_column(&dated_workbook(&[42798.0], true));
        let expected = NaiveDate::from_ymd_opt(2021, 3, 5).unwrap();
        assert_eq!(
            cells,
            vec![CellValue::DateTime(
                expected.and_time(chrono::NaiveTime::MIN)
            )]
        );
        let cells = first_column(&dated_workbook(&[44260.0], false));
        assert_eq!(
            cells,
            vec![CellValue::DateTime(
                expected.and_time(chrono::NaiveTime::MIN)
            )]
        );
    }

    #[test]
    fn excels_fictitious_29_february_1900_is_not_a_date() {
        let cells = first_column(&dated_workbook(&[59.0, 60.0, 61.0], false));
        let day = |m, d| {
            CellValue::DateTime(
                NaiveDate::from_ymd_opt(1900, m, d)
                    .unwrap()
                    .and_time(chrono::NaiveTime::MIN),
            )
        };
        assert_eq!(
            cells,
            vec![day(2, 28), CellValue::Text("1900-02-29".into()), day(3, 1)]
        );
        let err = crate::domain::dates::parse_cn_date("1900-02-29");
        assert!(err.is_err());
    }

    /// A one-entry zip of `content`, whose local and central headers then declare
    /// `declared` bytes unpacked.
    fn zip_declaring(content: &[u8], declared: u32) -> Vec<u8> {
        use std::io::Write;
        let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        out.start_file("xl/workbook.xml", options).unwrap();
        out.write_all(content).unwrap();
        let mut bytes = out.finish().unwrap().into_inner();
        let size = declared.to_le_bytes();
        bytes[22..26].copy_from_slice(&size);
        let central = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bytes[central + 24..central + 28].copy_from_slice(&size);
        bytes
    }

    #[test]
    fn a_zip_is_checked_by_its_content_whatever_its_name() {
        let bomb = zip_declaring(b"<workbook/>", 300 * 1024 * 1024);
        for name in ["表.xlsx", "表.xls", "表.csv", "表"] {
            assert_eq!(
                read_grids(name, &bomb).unwrap_err(),
                ReadError::UnpacksTooLarge,
                "{name}"
            );
        }
        assert!(matches!(
            read_grids("表.xls", b"not a spreadsheet at all"),
            Err(ReadError::Damaged(_))
        ));
    }

    #[test]
    fn an_entry_inflating_past_its_declared_size_is_refused() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let lying = zip_declaring(&zeros, 10);
        let refused = zip_check::check_unpacked_size(&lying, MAX_UNPACKED_BYTES).unwrap_err();
        assert!(
            matches!(refused, ReadError::UnpacksTooLarge | ReadError::Damaged(_)),
            "{refused:?}"
        );
        let honest = zip_declaring(&zeros, zeros.len() as u32);
        assert_eq!(
            zip_check::check_unpacked_size(&honest, MAX_UNPACKED_BYTES),
            Ok(zeros.len() as u64)
        );
    }

    #[test]
    fn unknown_types_and_empty_files_are_refused() {
        assert!(matches!(
            read_grids("a.pdf", b"%PDF"),
            Err(ReadError::Unsupported(_))
        ));
        assert_eq!(read_grids("a.xlsx", b"").unwrap_err(), ReadError::Empty);
        let big = vec![b'a'; MAX_UPLOAD_BYTES + 1];
        assert!(matches!(
            read_grids("a.csv", &big),
            Err(ReadError::TooLarge(_))
        ));
    }
}
