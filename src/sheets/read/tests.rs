//! Reader tests: limits, dates, merged regions, hostile workbooks.
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
    zip_declaring_part("xl/workbook.xml", content, declared)
}

/// A zip of one part, `name`, whose header declares `declared` bytes unpacked.
fn zip_declaring_part(name: &str, content: &[u8], declared: u32) -> Vec<u8> {
    use std::io::Write;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    out.start_file(name, options).unwrap();
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
    // A worksheet's lie is found before calamine opens the file.
    let lying_sheet = zip_declaring_part("xl/worksheets/sheet1.xml", &zeros, 10);
    let refused = read_grids("表.xlsx", &lying_sheet).unwrap_err();
    assert!(
        matches!(&refused, ReadError::UnpacksTooLarge)
            || matches!(&refused, ReadError::Damaged(m) if m.starts_with("压缩结构有误")),
        "{refused:?}"
    );
    let honest = zip_declaring(&zeros, zeros.len() as u32);
    assert_eq!(
        zip_check::check_unpacked_size(&honest, MAX_UNPACKED_BYTES).map(|u| u.bytes),
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

#[test]
fn xml_nested_past_any_real_workbook_is_refused_before_calamine_reads_it() {
    // calamine's XML reader keeps every open element: nested tens of millions deep, the
    // few bytes per level (which compress to nothing) grow it past the worker's 1 GiB.
    let plain = dated_workbook(&[45000.0], false);
    let nested = patch_entry(plain.clone(), "xl/worksheets/sheet1.xml", |xml| {
        let depth = 100_000;
        let deep = format!("{}{}", "<x>".repeat(depth), "</x>".repeat(depth));
        xml.replacen("<sheetData>", &format!("<sheetData>{deep}"), 1)
    });
    let refused = read_grids("深.xlsx", &nested);
    assert!(
        matches!(&refused, Err(ReadError::Damaged(m)) if m.contains("嵌套超过 256 层")),
        "{refused:?}"
    );
    // Nested a little, as real parts are, it reads.
    let shallow = patch_entry(plain, "xl/worksheets/sheet1.xml", |xml| {
        xml.replacen("<sheetData>", "<sheetData><x><y><z/></y></x>", 1)
    });
    read_grids("浅.xlsx", &shallow).expect("a shallow part reads");
}

#[test]
fn a_relationships_part_the_size_of_a_sheet_is_refused() {
    // calamine parses it whole before the first cell (190 MB took 3 s in the fuzzer).
    let plain = dated_workbook(&[45000.0], false);
    let padded = patch_entry(plain, "xl/_rels/workbook.xml.rels", |xml| {
        xml.replacen(
            "<Relationships",
            &format!("{}<Relationships", " ".repeat(17 << 20)),
            1,
        )
    });
    let refused = read_grids("大.xlsx", &padded);
    assert!(
        matches!(&refused, Err(ReadError::Damaged(m)) if m.contains("workbook.xml.rels")),
        "{refused:?}"
    );
}

#[test]
fn a_cell_longer_than_excel_allows_is_refused_in_the_reader() {
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet()
        .write_string(0, 0, "PLACEHOLDER")
        .unwrap();
    let plain = book.save_to_buffer().unwrap();
    let with = |text: String| {
        patch_entry(plain.clone(), "xl/sharedStrings.xml", |xml| {
            assert!(xml.contains("PLACEHOLDER"), "{xml}");
            xml.replacen("PLACEHOLDER", &text, 1)
        })
    };
    // Excel's limit itself is read.
    let grids = read_grids("表.xlsx", &with("法".repeat(grid::MAX_CELL_CHARS))).unwrap();
    assert!(
        matches!(grids[0].cell(0, 0), CellValue::Text(t) if t.chars().count() == grid::MAX_CELL_CHARS)
    );
    // One character more is a forged file, refused before the text reaches the server.
    match read_grids("表.xlsx", &with("法".repeat(grid::MAX_CELL_CHARS + 1))) {
        Err(ReadError::Damaged(message)) => assert!(message.contains("32767"), "{message}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_csv_cell_longer_than_excel_allows_is_refused_in_the_reader() {
    let csv = |text: String| format!("姓名,备注\n王明,{text}\n").into_bytes();
    let grids = read_grids("名册.csv", &csv("法".repeat(grid::MAX_CELL_CHARS))).unwrap();
    assert_eq!(grids[0].rows.len(), 2);
    match read_grids("名册.csv", &csv("法".repeat(grid::MAX_CELL_CHARS + 1))) {
        Err(ReadError::Damaged(message)) => {
            assert!(
                message.contains("32767") && message.contains("名册"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_answer_of_many_dates_and_the_longest_cell_decodes() {
    // A date cell travels as text; 20,000 of them once outgrew a streaming decoder's buffer.
    let day = NaiveDate::from_ymd_opt(2021, 3, 5)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let longest = "𠀀".repeat(grid::MAX_CELL_CHARS);
    let mut rows = vec![vec![
        CellValue::Text(longest.clone()),
        CellValue::Number(1.5),
    ]];
    rows.extend((0..20_000).map(|_| vec![CellValue::DateTime(day)]));
    let answer: Result<Vec<SheetGrid>, ReadError> = Ok(vec![SheetGrid {
        name: "表".into(),
        first_row: 0,
        first_col: 0,
        rows,
    }]);
    let encoded = postcard::to_stdvec(&answer).unwrap();
    let decoded = worker::decode_answer(&encoded).expect("decoded").unwrap();
    assert!(matches!(&decoded[0].rows[0][0], CellValue::Text(t) if *t == longest));
    assert_eq!(decoded[0].rows.len(), 20_001);
    assert!(decoded[0].rows[1..]
        .iter()
        .all(|r| r[0] == CellValue::DateTime(day)));
    // An answer cut short is not an answer.
    assert!(worker::decode_answer(&encoded[..encoded.len() - 1]).is_none());
    let refusal: Result<Vec<SheetGrid>, ReadError> = Err(ReadError::Empty);
    let encoded = postcard::to_stdvec(&refusal).unwrap();
    assert!(matches!(
        worker::decode_answer(&encoded),
        Some(Err(ReadError::Empty))
    ));
}

#[test]
fn merged_regions_of_a_sheet_part_named_otherwise_are_filled() {
    use std::io::{Read, Write};
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
    let mut archive = zip::ZipArchive::new(Cursor::new(plain)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut name = entry.name().unwrap().to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            name = "xl/worksheets/sheet1.XML".into();
        }
        if name == "xl/_rels/workbook.xml.rels" {
            let rels = String::from_utf8(content).unwrap();
            assert!(rels.contains("worksheets/sheet1.xml"), "{rels}");
            content = rels
                .replace("worksheets/sheet1.xml", "worksheets/sheet1.XML")
                .into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        out.write_all(&content).unwrap();
    }
    let renamed = out.finish().unwrap().into_inner();
    let grids = read_grids("签到表.xlsx", &renamed).unwrap();
    for col in 0..3 {
        assert_eq!(
            grids[0].cell(0, col),
            &CellValue::Text("龙凤村签到表".into()),
            "column {col}"
        );
    }
}
