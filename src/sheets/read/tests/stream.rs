//! The worker's answer as frames: what the server lays out from them is what the reader
//! would have laid out itself, and an answer that is cut short or forged is no answer.

use super::super::stream::{receive_all, Frame, FrameWriter};
use super::*;

/// A workbook of two sheets: a sign-in sheet whose table starts on row 3 below a title, and
/// an empty one.
fn two_sheets() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet().set_name("签到").unwrap();
    sheet.write_string(2, 0, "龙凤场镇学法签到表").unwrap();
    for (col, header) in ["日期", "姓名", "学时"].iter().enumerate() {
        sheet.write_string(3, col as u16, *header).unwrap();
    }
    for row in 4..3000 {
        sheet.write_string(row, 0, "2021年3月5日").unwrap();
        sheet.write_string(row, 1, format!("人员{row}")).unwrap();
        sheet.write_number(row, 2, 1.5).unwrap();
    }
    sheet.write_string(3100, 5, "远处的备注").unwrap();
    book.add_worksheet().set_name("空表").unwrap();
    book.save_to_buffer().unwrap()
}

fn too_long_a_cell() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "姓名").unwrap();
    let long = "法".repeat(grid::MAX_CELL_CHARS + 1);
    let plain = book.save_to_buffer().unwrap();
    // rust_xlsxwriter itself refuses to write more than Excel allows.
    patch_entry(plain, "xl/sharedStrings.xml", |xml| {
        xml.replace("姓名", &long)
    })
}

#[test]
fn a_streamed_read_gives_what_the_reader_lays_out() {
    let dated = dated_workbook(&[44260.0, 44261.5], true);
    let merged = merged_workbook(&["A1:B1".to_string(), "B2:B3".to_string()]);
    let ods = ods(&format!(
        "<table:table-row>{}{}</table:table-row>",
        text_cell("日期", r#" table:number-columns-spanned="2""#),
        text_cell("姓名", "")
    ));
    let inputs: Vec<(&str, Vec<u8>)> = vec![
        ("签到.xlsx", two_sheets()),
        ("日期.xlsx", dated),
        ("合并.xlsx", merged),
        ("签到.ods", ods),
        (
            "名册.csv",
            "姓名,村(社区)\n张三,龙凤村\n".as_bytes().to_vec(),
        ),
        ("超长.xlsx", too_long_a_cell()),
        ("空.xlsx", Vec::new()),
        ("改名.xls", b"not a workbook".to_vec()),
    ];
    for (name, bytes) in inputs {
        let laid_out = read_grids(name, &bytes);
        assert_eq!(read_streamed(name, &bytes), laid_out, "{name}");
        match (name, laid_out) {
            ("签到.xlsx", Ok(grids)) => {
                assert_eq!(grids.len(), 2);
                assert_eq!(grids[0].first_row, 2);
                assert_eq!(grids[0].cell(2, 1), &CellValue::Text("人员4".into()));
                assert_eq!(grids[1].rows.len(), 0);
            }
            ("超长.xlsx", Err(ReadError::Damaged(m))) => assert!(m.contains("32767"), "{m}"),
            ("签到.xlsx" | "超长.xlsx", other) => panic!("{name}: {other:?}"),
            _ => {}
        }
    }
}

#[test]
fn an_answer_of_many_dates_and_the_longest_cell_arrives_whole() {
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
    let grid = SheetGrid {
        name: "表".into(),
        first_row: 0,
        first_col: 0,
        rows,
    };
    let mut writer = FrameWriter::new(Vec::new());
    writer.sheet(grid.clone()).unwrap();
    let answer = writer.finish(Ok(())).unwrap();
    assert_eq!(receive_all(&answer), Some(Ok(vec![grid])));
    // An answer cut short, or with anything after its end, is not an answer.
    assert_eq!(receive_all(&answer[..answer.len() - 1]), None);
    assert_eq!(receive_all(&[&answer[..], &[0]].concat()), None);
    // A refusal ends the answer, whatever came before it.
    let mut writer = FrameWriter::new(Vec::new());
    writer.begin("表").unwrap();
    writer.cell(0, 0, CellValue::Number(1.0)).unwrap();
    let refused = writer.finish(Err(ReadError::Empty)).unwrap();
    assert_eq!(receive_all(&refused), Some(Err(ReadError::Empty)));
}

/// Frames as a forged worker might send them.
fn framed(frames: &[Frame]) -> Vec<u8> {
    let mut answer = Vec::new();
    for frame in frames {
        let encoded = postcard::to_stdvec(frame).unwrap();
        answer.extend_from_slice(&(encoded.len() as u32).to_le_bytes());
        answer.extend_from_slice(&encoded);
    }
    answer
}

#[test]
fn the_server_holds_no_more_than_the_reader_would() {
    // Five sheets each reaching row 1,048,576 lay out over 5 million cells: past the file's
    // budget, whoever sends them.
    let far = |sheet: usize| {
        [
            Frame::Sheet(format!("表{sheet}")),
            Frame::Cells(vec![(1_048_575, 0, CellValue::Number(1.0))]),
        ]
    };
    let mut frames: Vec<Frame> = (0..5).flat_map(far).collect();
    frames.push(Frame::End(Ok(())));
    assert!(matches!(
        receive_all(&framed(&frames)),
        Some(Err(ReadError::Damaged(message))) if message.contains("单元格太多")
    ));
    // Cells before any sheet, and a frame longer than a worker sends, are no answer.
    let cells_first = framed(&[
        Frame::Cells(vec![(0, 0, CellValue::Number(1.0))]),
        Frame::End(Ok(())),
    ]);
    assert_eq!(receive_all(&cells_first), None);
    let mut huge = framed(&[Frame::Sheet("表".repeat(400_000)), Frame::End(Ok(()))]);
    assert_eq!(receive_all(&huge), None);
    // The same frame within the length a worker may send is read.
    huge = framed(&[Frame::Sheet("表".repeat(1000)), Frame::End(Ok(()))]);
    assert!(matches!(receive_all(&huge), Some(Ok(grids)) if grids.len() == 1));
}
