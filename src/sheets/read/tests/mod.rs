//! Reader tests: limits, dates, merged regions, hostile workbooks.
use super::grid::MAX_MERGED_REGIONS;
use super::*;
use chrono::NaiveDate;

mod limits;
mod stream;

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
    rewrite_entry(plain, part, part, edit)
}

/// [`patch_entry`], also storing the part under another name.
fn rewrite_entry(
    plain: Vec<u8>,
    part: &str,
    new_name: &str,
    edit: impl Fn(String) -> String,
) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut archive = zip::ZipArchive::new(Cursor::new(plain)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut name = entry.name().unwrap().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == part {
            content = edit(String::from_utf8(content).unwrap()).into_bytes();
            name = new_name.to_string();
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
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
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
    let declare = |xml: String| {
        let at = xml.find("uniqueCount=\"").expect("declared") + "uniqueCount=\"".len();
        let end = at + xml[at..].find('"').unwrap();
        format!("{}1000000000000{}", &xml[..at], &xml[end..])
    };
    // calamine finds a part whatever the case of its name and with `\` for `/`; so does
    // the check (before it did, these names skipped it and the reader asked for terabytes).
    for name in [
        "xl/sharedStrings.xml",
        "xl/SHAREDSTRINGS.XML",
        "XL\\SharedStrings.xml",
    ] {
        let forged = rewrite_entry(plain.clone(), "xl/sharedStrings.xml", name, declare);
        assert!(
            matches!(
                read_grids("名单.xlsx", &forged),
                Err(ReadError::Damaged(ref message)) if message.contains("文字条目")
            ),
            "{name}"
        );
    }
    // Spaces around `=` are XML too, and calamine reads them.
    let spaced = rewrite_entry(
        plain.clone(),
        "xl/sharedStrings.xml",
        "xl/sharedStrings.xml",
        |xml| declare(xml).replacen("uniqueCount=", "uniqueCount = ", 1),
    );
    assert!(matches!(
        read_grids("名单.xlsx", &spaced),
        Err(ReadError::Damaged(ref message)) if message.contains("文字条目")
    ));
    // Renamed but honest, the file is still read.
    let renamed = rewrite_entry(plain, "xl/sharedStrings.xml", "xl/SHAREDSTRINGS.XML", |x| x);
    assert_eq!(
        read_grids("名单.xlsx", &renamed).unwrap()[0].cell(0, 0),
        &CellValue::Text("姓名".into())
    );
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

#[test]
fn merged_regions_of_a_sheet_part_named_otherwise_are_filled() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet
        .merge_range(0, 0, 0, 2, "龙凤村签到表", &rust_xlsxwriter::Format::new())
        .unwrap();
    for (col, heading) in ["日期", "学习内容", "姓名"].iter().enumerate() {
        sheet.write_string(1, col as u16, *heading).unwrap();
    }
    let plain = book.save_to_buffer().unwrap();
    // The sheet's part renamed (upper-case extension), its relationship pointing there: the
    // reader finds the sheet by its relationship, so its merged regions must be seen too.
    let moved = rewrite_entry(
        plain,
        "xl/worksheets/sheet1.xml",
        "xl/worksheets/sheet1.XML",
        |xml| xml,
    );
    let renamed = patch_entry(moved, "xl/_rels/workbook.xml.rels", |rels| {
        assert!(rels.contains("worksheets/sheet1.xml"), "{rels}");
        rels.replace("worksheets/sheet1.xml", "worksheets/sheet1.XML")
    });
    let grids = read_grids("签到表.xlsx", &renamed).unwrap();
    for col in 0..3 {
        assert_eq!(
            grids[0].cell(0, col),
            &CellValue::Text("龙凤村签到表".into()),
            "column {col}"
        );
    }
}
