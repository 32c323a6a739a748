//! The printable sign-in sheet (签到表) of a session: a header block carrying the session
//! number (so the filled-in sheet imports back into the session), then one row per invitee
//! with room for a signature, sized for A4 portrait.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};

use super::SheetError;

/// The label in front of the session number; the import looks for it.
pub const NUMBER_LABEL: &str = "活动编号";
pub const HEADERS: [&str; 6] = ["序号", "姓名", "村(社区)", "职务", "签名", "备注"];
/// Row (0-based) of the column headers.
pub const HEADER_ROW: u32 = 5;

pub struct SigninSheet {
    pub number: String,
    pub topic: String,
    pub kind: String,
    pub time: String,
    pub venue: String,
    pub speaker: String,
    /// (name, village, post) per invitee.
    pub rows: Vec<(String, String, String)>,
}

/// Empty rows for walk-ins who sign on paper.
const SPARE_ROWS: usize = 5;

pub fn signin_workbook(sheet: &SigninSheet) -> Result<Vec<u8>, SheetError> {
    let mut workbook = Workbook::new();
    let ws = workbook.add_worksheet();
    ws.set_name("签到表")?;
    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let label = Format::new().set_bold().set_border(FormatBorder::Thin);
    let value = Format::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("@")
        .set_text_wrap();
    let header = Format::new()
        .set_bold()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center);
    let cell = Format::new()
        .set_border(FormatBorder::Thin)
        .set_num_format("@");
    let centered = Format::new()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center);

    ws.merge_range(0, 0, 0, 5, "学法签到表", &title)?;
    let block = [
        (
            1,
            NUMBER_LABEL,
            sheet.number.as_str(),
            "学习内容",
            sheet.topic.as_str(),
        ),
        (2, "时间", sheet.time.as_str(), "地点", sheet.venue.as_str()),
        (
            3,
            "主讲人",
            sheet.speaker.as_str(),
            "类型",
            sheet.kind.as_str(),
        ),
    ];
    for (row, left_label, left, right_label, right) in block {
        ws.write_string_with_format(row, 0, left_label, &label)?;
        ws.write_string_with_format(row, 1, left, &value)?;
        ws.write_string_with_format(row, 2, right_label, &label)?;
        ws.merge_range(row, 3, row, 5, right, &value)?;
        ws.set_row_height(row, 22)?;
    }
    for (col, text) in HEADERS.iter().enumerate() {
        ws.write_string_with_format(HEADER_ROW, col as u16, *text, &header)?;
    }
    let mut row = HEADER_ROW;
    for (index, (name, village, post)) in sheet.rows.iter().enumerate() {
        row += 1;
        ws.write_number_with_format(row, 0, (index + 1) as f64, &centered)?;
        ws.write_string_with_format(row, 1, name, &cell)?;
        ws.write_string_with_format(row, 2, village, &cell)?;
        ws.write_string_with_format(row, 3, post, &cell)?;
        ws.write_string_with_format(row, 4, "", &cell)?;
        ws.write_string_with_format(row, 5, "", &cell)?;
        ws.set_row_height(row, 28)?;
    }
    for _ in 0..SPARE_ROWS {
        row += 1;
        for col in 0..6u16 {
            ws.write_string_with_format(row, col, "", &cell)?;
        }
        ws.set_row_height(row, 28)?;
    }
    for (col, width) in [6.0, 12.0, 16.0, 16.0, 22.0, 14.0].into_iter().enumerate() {
        ws.set_column_width(col as u16, width)?;
    }
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_print_center_horizontally(true);
    ws.set_repeat_rows(HEADER_ROW, HEADER_ROW)?;
    ws.set_footer("&C第 &P 页，共 &N 页");
    Ok(workbook.save_to_buffer()?)
}
