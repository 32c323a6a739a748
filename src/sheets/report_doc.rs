//! The annual report as a Word document laid out like an official document (GB/T 9704):
//! A4, margins 37/35/28/26 mm, title in 小标宋 2号, body in 仿宋 3号 at a fixed 29 pt line,
//! level-1 headings in 黑体, level-2 in 楷体, page numbers “— 1 —” at the foot.

use std::io::Cursor;

use docx_rs::{
    AlignmentType, Docx, Footer, LineSpacing, LineSpacingType, PageMargin, PageNum, Paragraph, Run,
    RunFonts, SpecialIndentType, Table, TableAlignmentType, TableCell, TableRow, VAlignType,
    WidthType,
};

use crate::domain::report::{AppendixRow, Block, ReportDraft};

#[derive(Debug, thiserror::Error)]
#[error("生成年度报告失败：{0}")]
pub struct DocumentError(String);

/// Twips (1/20 pt) per millimetre.
fn mm(value: f64) -> i32 {
    (value * 1440.0 / 25.4).round() as i32
}

const PAGE_WIDTH: u32 = 11906;
const PAGE_HEIGHT: u32 = 16838;
/// 3号 (16 pt) body and headings; half-points.
const SIZE_3: usize = 32;
/// 2号 (22 pt) title.
const SIZE_2: usize = 44;
/// 4号 (14 pt) page numbers.
const SIZE_4: usize = 28;
/// 小四 (12 pt) in the appendix table.
const SIZE_SMALL_4: usize = 24;
/// 22 lines to the 225 mm type area: a fixed line of 28.95 pt.
const BODY_LINE: i32 = 579;
/// Two 3号 characters.
const FIRST_LINE_INDENT: i32 = 640;

/// The fonts as official documents name them. Machines without the GB2312 fonts fall back
/// to the ones every Windows and WPS has (the font table names them as alternatives).
const TITLE_FONT: &str = "方正小标宋简体";
const BODY_FONT: &str = "仿宋_GB2312";
const HEADING1_FONT: &str = "黑体";
const HEADING2_FONT: &str = "楷体_GB2312";
const NUMBER_FONT: &str = "宋体";
const LATIN_FONT: &str = "Times New Roman";

/// (name, alternative, family, pitch) of the font table.
const FONTS: &[(&str, &str, &str, &str)] = &[
    (LATIN_FONT, "Liberation Serif", "roman", "variable"),
    (TITLE_FONT, "华文中宋", "roman", "variable"),
    (BODY_FONT, "仿宋", "modern", "fixed"),
    (HEADING1_FONT, "SimHei", "modern", "fixed"),
    (HEADING2_FONT, "楷体", "modern", "fixed"),
    (NUMBER_FONT, "SimSun", "auto", "variable"),
];

fn font_table() -> Vec<u8> {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n\
         <w:fonts xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">",
    );
    for (name, alternative, family, pitch) in FONTS {
        // GB2312 (charset 0x86) for the Chinese fonts, ANSI for the Latin one.
        let charset = if *name == LATIN_FONT { "00" } else { "86" };
        xml.push_str(&format!(
            "<w:font w:name=\"{name}\"><w:altName w:val=\"{alternative}\"/><w:charset w:val=\"{charset}\"/>\
             <w:family w:val=\"{family}\"/><w:pitch w:val=\"{pitch}\"/></w:font>"
        ));
    }
    xml.push_str("</w:fonts>");
    xml.into_bytes()
}

fn fonts(east_asian: &str) -> RunFonts {
    RunFonts::new()
        .east_asia(east_asian)
        .ascii(LATIN_FONT)
        .hi_ansi(LATIN_FONT)
        .hint("eastAsia")
}

fn run(text: &str, font: &str, size: usize) -> Run {
    Run::new().add_text(text).fonts(fonts(font)).size(size)
}

fn exact_line(twips: i32) -> LineSpacing {
    LineSpacing::new()
        .line_rule(LineSpacingType::Exact)
        .line(twips)
        .before(0)
        .after(0)
}

/// A body-width paragraph: indented by two characters, justified, on the fixed line.
fn body_paragraph(run: Run) -> Paragraph {
    Paragraph::new()
        .add_run(run)
        .align(AlignmentType::Both)
        .line_spacing(exact_line(BODY_LINE))
        .indent(
            None,
            Some(SpecialIndentType::FirstLine(FIRST_LINE_INDENT)),
            None,
            None,
        )
}

fn centered(run: Run, line: i32) -> Paragraph {
    Paragraph::new()
        .add_run(run)
        .align(AlignmentType::Center)
        .line_spacing(exact_line(line))
}

fn block_paragraph(block: &Block) -> Paragraph {
    match block {
        Block::Heading1(text) => body_paragraph(run(text, HEADING1_FONT, SIZE_3))
            .outline_lvl(0)
            .keep_next(true),
        Block::Heading2(text) => body_paragraph(run(text, HEADING2_FONT, SIZE_3))
            .outline_lvl(1)
            .keep_next(true),
        Block::Paragraph(text) => body_paragraph(run(text, BODY_FONT, SIZE_3)),
        // Text for the township to write is highlighted until somebody does.
        Block::Placeholder(text) => {
            body_paragraph(run(text, BODY_FONT, SIZE_3).highlight("yellow"))
        }
    }
}

/// The appendix table's column widths (twips): the village name, then the figures,
/// together the type area's 156 mm.
fn column_widths(columns: usize) -> Vec<usize> {
    let total = (PAGE_WIDTH as i32 - mm(28.0) - mm(26.0)) as usize;
    let figures = columns.saturating_sub(1).max(1);
    let figure = total * 4 / (5 * figures);
    let mut widths = vec![total - figures * figure];
    widths.extend(std::iter::repeat_n(figure, figures));
    widths
}

fn table_cell(text: &str, width: usize, font: &str) -> TableCell {
    TableCell::new()
        .add_paragraph(centered(run(text, font, SIZE_SMALL_4), 400))
        .width(width, WidthType::Dxa)
        .vertical_align(VAlignType::Center)
}

fn table_row(cells: &[String], widths: &[usize], font: &str) -> TableRow {
    TableRow::new(
        cells
            .iter()
            .zip(widths)
            .map(|(text, width)| table_cell(text, *width, font))
            .collect(),
    )
    .cant_split()
}

fn appendix_table(headers: &[&str], rows: &[AppendixRow], total: &AppendixRow) -> Table {
    let widths = column_widths(headers.len());
    let header: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    let mut table_rows = vec![table_row(&header, &widths, HEADING1_FONT)];
    table_rows.extend(
        rows.iter()
            .map(|r| table_row(&r.cells(), &widths, BODY_FONT)),
    );
    table_rows.push(table_row(&total.cells(), &widths, HEADING1_FONT));
    Table::new(table_rows)
        .set_grid(widths.clone())
        .width(widths.iter().sum(), WidthType::Dxa)
        .align(TableAlignmentType::Center)
}

/// The page number “— 1 —”, centred at the foot of every page.
fn page_number_footer() -> Footer {
    let dash = |text: &str| run(text, NUMBER_FONT, SIZE_4);
    Footer::new().add_paragraph(
        Paragraph::new()
            .add_run(dash("— "))
            .add_page_num(PageNum::new())
            .add_run(dash(" —"))
            .align(AlignmentType::Center),
    )
}

/// The report as .docx bytes.
pub fn report_document(report: &ReportDraft) -> Result<Vec<u8>, DocumentError> {
    let margins = PageMargin::new()
        .top(mm(37.0))
        .bottom(mm(35.0))
        .left(mm(28.0))
        .right(mm(26.0))
        .header(mm(15.0))
        .footer(mm(23.0));
    let mut docx = Docx::new()
        .page_size(PAGE_WIDTH, PAGE_HEIGHT)
        .page_margin(margins)
        // What runs without their own font and size use: the page number field.
        .default_fonts(fonts(NUMBER_FONT))
        .default_size(SIZE_4)
        .footer(page_number_footer())
        .add_paragraph(centered(run("", BODY_FONT, SIZE_3), BODY_LINE));
    for line in &report.title_lines {
        docx = docx.add_paragraph(centered(run(line, TITLE_FONT, SIZE_2), 700));
    }
    docx = docx
        .add_paragraph(centered(
            run(&report.subtitle, HEADING2_FONT, SIZE_3),
            BODY_LINE,
        ))
        .add_paragraph(centered(run("", BODY_FONT, SIZE_3), BODY_LINE));
    for block in &report.blocks {
        docx = docx.add_paragraph(block_paragraph(block));
    }
    let appendix = &report.appendix;
    docx = docx
        .add_paragraph(
            Paragraph::new()
                .add_run(run("附表", HEADING1_FONT, SIZE_3))
                .line_spacing(exact_line(BODY_LINE))
                .page_break_before(true),
        )
        .add_paragraph(centered(run(&appendix.title, TITLE_FONT, SIZE_3), 700))
        .add_table(appendix_table(
            &appendix.headers,
            &appendix.rows,
            &appendix.total,
        ))
        .add_paragraph(
            Paragraph::new()
                .add_run(run(&appendix.note, BODY_FONT, SIZE_SMALL_4))
                .line_spacing(exact_line(400)),
        );
    let mut xml = docx.build();
    xml.font_table = font_table();
    let mut buffer = Cursor::new(Vec::new());
    xml.pack(&mut buffer)
        .map_err(|e| DocumentError(e.to_string()))?;
    Ok(buffer.into_inner())
}
