//! The reader's limits: containers checked by content, zip sizes and nesting, part and cell
//! sizes.

use super::*;

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
