//! Finds the header row (any of the first 20 rows; the one matching the most known headers
//! and all required ones), the kind of table, defaults from the title rows above it, and
//! the data rows below it (without empty, total and footer rows).

use std::borrow::Cow;
use std::sync::Arc;

use super::{CellValue, ReadError, SheetGrid, MAX_DATA_ROWS};
use crate::domain::import::{is_total_or_footer, normalise_header, Field, ImportKind};
use crate::sheets::signin::NUMBER_LABEL;

const HEADER_SEARCH_ROWS: usize = 20;

/// A recognised cell of a row: its field, where it is and what it holds.
#[derive(Debug, Clone, Copy)]
pub struct SourceCell<'r> {
    pub field: Field,
    /// Excel column index (0 = A).
    pub col: usize,
    pub header: &'r str,
    pub value: &'r CellValue,
}

/// A recognised column of a sheet, shared by all its rows.
#[derive(Debug)]
struct SheetColumn {
    field: Field,
    /// Excel column index (0 = A).
    col: usize,
    /// Where its cells are in a row as uploaded.
    index: usize,
    header: Arc<str>,
}

/// One data row: where it is, and every cell as uploaded; the recognised cells are read
/// through the sheet's columns (one copy per sheet, not per row: 100,000 rows each holding
/// their own copies of six cells were half of what a read upload took).
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub sheet: Arc<str>,
    /// Row number as Excel shows it.
    pub row: usize,
    columns: Arc<[SheetColumn]>,
    pub raw: Vec<CellValue>,
}

impl SourceRow {
    pub fn cell(&self, field: Field) -> Option<SourceCell<'_>> {
        static EMPTY: CellValue = CellValue::Empty;
        let column = self.columns.iter().find(|c| c.field == field)?;
        Some(SourceCell {
            field,
            col: column.col,
            header: &column.header,
            value: self.raw.get(column.index).unwrap_or(&EMPTY),
        })
    }

    /// The recognised cell as shown (see [`CellValue::shown`]); "" when there is none.
    pub fn shown(&self, field: Field) -> Cow<'_, str> {
        self.cell(field)
            .map_or(Cow::Borrowed(""), |c| c.value.shown())
    }
}

#[derive(Debug, Clone)]
pub struct SheetTable {
    pub name: String,
    /// Row number of the header as Excel shows it.
    pub header_row: usize,
    /// The header row's texts, one per column of the grid.
    pub headers: Vec<String>,
    pub title_village: Option<String>,
    pub title_year: Option<i32>,
    /// pufa's own sign-in sheet: the session number in its header block.
    pub session_number: Option<i64>,
    pub rows: Vec<SourceRow>,
}

#[derive(Debug, Clone)]
pub struct TableSet {
    pub kind: ImportKind,
    pub sheets: Vec<SheetTable>,
}

fn text_of(cell: &CellValue) -> String {
    cell.display()
}

/// pufa's sign-in sheet carries “活动编号 | XF-000123” in its header block.
fn session_number_in(grid: &SheetGrid) -> Option<i64> {
    for row in grid.rows.iter().take(HEADER_SEARCH_ROWS) {
        let mut cells = row.iter().map(text_of).filter(|t| !t.is_empty());
        while let Some(text) = cells.next() {
            if normalise_header(&text).trim_end_matches(':') == NUMBER_LABEL {
                return cells
                    .next()
                    .and_then(|n| crate::store::sessions::parse_session_number(&n));
            }
        }
    }
    None
}

/// A recognised column: (field, grid column, header text).
type Column = (Field, usize, String);

/// The fields a row names for a kind.
fn match_row(row: &[CellValue], kind: ImportKind) -> Vec<Column> {
    let mut found: Vec<Column> = Vec::new();
    for (col, cell) in row.iter().enumerate() {
        let header = text_of(cell);
        if header.is_empty() {
            continue;
        }
        if let Some(field) = kind.field_for(&normalise_header(&header)) {
            if !found.iter().any(|(f, ..)| *f == field) {
                found.push((field, col, header));
            }
        }
    }
    found
}

fn required(kind: ImportKind, sign_in_sheet: bool) -> Vec<Field> {
    if sign_in_sheet && kind == ImportKind::Attendance {
        vec![Field::Name]
    } else {
        kind.required()
    }
}

/// The best header row of a grid for the candidate kinds: (kind, row index, columns).
fn best_header(
    grid: &SheetGrid,
    kinds: &[ImportKind],
    sign_in_sheet: bool,
) -> Option<(ImportKind, usize, Vec<Column>)> {
    let mut best: Option<(ImportKind, usize, Vec<Column>)> = None;
    for (index, row) in grid.rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        for kind in kinds {
            let columns = match_row(row, *kind);
            let complete = required(*kind, sign_in_sheet)
                .iter()
                .all(|f| columns.iter().any(|(c, ..)| c == f));
            if complete
                && best
                    .as_ref()
                    .is_none_or(|(_, _, b)| columns.len() > b.len())
            {
                best = Some((*kind, index, columns));
            }
        }
    }
    best
}

/// A sign-in sheet's columns and a self-study register's are the same words (日期, 姓名,
/// 学习内容, 学习形式, 学时); a sheet or title that says 自学 is the register.
fn self_study_if_named(
    grid: &SheetGrid,
    hint: Option<ImportKind>,
    found: ImportKind,
    header_index: usize,
    columns: Vec<Column>,
) -> (ImportKind, Vec<Column>) {
    if hint.is_some() || found != ImportKind::Attendance {
        return (found, columns);
    }
    let named = grid.name.contains("自学")
        || grid
            .rows
            .iter()
            .take(header_index)
            .flatten()
            .any(|c| text_of(c).contains("自学"));
    let register = match_row(&grid.rows[header_index], ImportKind::SelfStudy);
    let complete = required(ImportKind::SelfStudy, false)
        .iter()
        .all(|f| register.iter().any(|(c, ..)| c == f));
    if named && complete {
        (ImportKind::SelfStudy, register)
    } else {
        (found, columns)
    }
}

/// A village name or a year (“2021年”) in the title rows above the header.
fn title_defaults(
    grid: &SheetGrid,
    header_index: usize,
    villages: &[String],
) -> (Option<String>, Option<i32>) {
    let title: String = grid
        .rows
        .iter()
        .take(header_index)
        .flatten()
        .map(text_of)
        .collect::<Vec<_>>()
        .join(" ");
    let village = villages
        .iter()
        .filter(|v| !v.is_empty() && title.contains(v.as_str()))
        .max_by_key(|v| v.chars().count())
        .cloned();
    let half = crate::domain::text::to_half_width(&title);
    let chars: Vec<char> = half.chars().collect();
    let year = chars.windows(5).find_map(|w| {
        let digits: String = w[..4].iter().collect();
        // “1982年宪法” in a title is not the ledger's year: only a year of EVENT_YEARS is.
        (w[4] == '年' && digits.chars().all(|c| c.is_ascii_digit()))
            .then(|| digits.parse().ok())
            .flatten()
            .filter(|y| crate::domain::dates::EVENT_YEARS.contains(y))
    });
    (village, year)
}

/// The tables of the workbook: every sheet with a recognisable header of one kind.
pub fn find_table(
    grids: Vec<SheetGrid>,
    hint: Option<ImportKind>,
    villages: &[String],
) -> Result<TableSet, ReadError> {
    let mut kind = hint;
    let mut sheets = Vec::new();
    // The grids are consumed: each data row moves into its SourceRow instead of being copied.
    for mut grid in grids {
        let session_number = session_number_in(&grid);
        let kinds: Vec<ImportKind> = match kind {
            Some(k) => vec![k],
            None if session_number.is_some() => vec![ImportKind::Attendance],
            None => ImportKind::ALL.to_vec(),
        };
        let Some((found, header_index, columns)) =
            best_header(&grid, &kinds, session_number.is_some())
        else {
            continue;
        };
        let (found, columns) = self_study_if_named(&grid, hint, found, header_index, columns);
        kind = Some(found);
        let (title_village, title_year) = title_defaults(&grid, header_index, villages);
        let columns: Arc<[SheetColumn]> = columns
            .into_iter()
            .map(|(field, index, header)| SheetColumn {
                field,
                col: grid.excel_col(index),
                index,
                header: Arc::from(header),
            })
            .collect();
        let sheet_name: Arc<str> = Arc::from(grid.name.as_str());
        let headers: Vec<String> = grid.rows[header_index].iter().map(text_of).collect();
        let total_rows = grid.rows.len();
        let mut rows = Vec::with_capacity(total_rows.saturating_sub(header_index + 1));
        for index in header_index + 1..total_rows {
            let row = std::mem::take(&mut grid.rows[index]);
            let first = row.iter().map(CellValue::shown).find(|t| !t.is_empty());
            let Some(first) = first else { continue };
            if is_total_or_footer(&first) {
                continue;
            }
            let recognised = |c: &SheetColumn| row.get(c.index).is_some_and(|v| !v.is_empty());
            if !columns.iter().any(recognised) {
                continue;
            }
            rows.push(SourceRow {
                sheet: Arc::clone(&sheet_name),
                row: grid.excel_row(index),
                columns: Arc::clone(&columns),
                raw: row,
            });
            if rows.len() > MAX_DATA_ROWS {
                return Err(ReadError::TooManyRows {
                    sheet: grid.name.clone(),
                    rows: total_rows - header_index - 1,
                });
            }
        }
        sheets.push(SheetTable {
            name: grid.name.clone(),
            header_row: grid.excel_row(header_index),
            headers,
            title_village,
            title_year,
            session_number,
            rows,
        });
    }
    match kind {
        Some(kind) if !sheets.is_empty() => Ok(TableSet { kind, sheets }),
        _ => {
            let expected = match hint {
                Some(k) => required(k, false).iter().map(|f| k.canonical_header(*f)).collect::<Vec<_>>().join("、"),
                None => "花名册（姓名、身份类别）、签到表（日期、学习内容、姓名）、资料发放（发放日期、资料名称、数量）、活动台账（日期、活动主题、参与人数）或自学登记表（日期、姓名、学习内容、学时）".into(),
            };
            Err(ReadError::NoHeader(expected))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: Vec<Vec<&str>>) -> SheetGrid {
        SheetGrid {
            name: "Sheet1".into(),
            first_row: 0,
            first_col: 0,
            rows: rows
                .into_iter()
                .map(|r| {
                    r.into_iter()
                        .map(|c| {
                            if c.is_empty() {
                                CellValue::Empty
                            } else {
                                CellValue::Text(c.into())
                            }
                        })
                        .collect()
                })
                .collect(),
        }
    }

    #[test]
    fn title_rows_two_row_headers_totals_and_footers() {
        let g = grid(vec![
            vec!["龙凤村2021年普法资料发放登记表", "", "", ""],
            vec!["填报单位：龙凤村村委会", "", "", ""],
            vec!["发放信息", "", "资料", ""],
            vec!["发放日期", "发放对象", "资料名称", "数量（份）"],
            vec!["2021-03-05", "村民", "民法典手册", "200"],
            vec!["", "", "", ""],
            vec!["2021-04-01", "学生", "禁毒折页", "150份"],
            vec!["合计", "", "", "350"],
            vec!["填表人：张三", "", "", ""],
        ]);
        let villages = vec!["龙凤村".to_string(), "凤凰社区".to_string()];
        let set = find_table(vec![g], None, &villages).unwrap();
        assert_eq!(set.kind, ImportKind::Materials);
        let sheet = &set.sheets[0];
        assert_eq!(sheet.header_row, 4);
        assert_eq!(sheet.title_village.as_deref(), Some("龙凤村"));
        assert_eq!(sheet.title_year, Some(2021));
        // A year the title only mentions is passed over for the ledger's own.
        let mentioned = grid(vec![
            vec!["学习1982年宪法 2021年签到表", "", ""],
            vec!["日期", "学习内容", "姓名"],
            vec!["3月5日", "宪法", "张三"],
        ]);
        let set = find_table(vec![mentioned], None, &villages).unwrap();
        assert_eq!(set.sheets[0].title_year, Some(2021));
        let rows: Vec<(usize, String)> = sheet
            .rows
            .iter()
            .map(|r| (r.row, r.shown(Field::Quantity).into_owned()))
            .collect();
        assert_eq!(rows, vec![(5, "200".to_string()), (7, "150份".to_string())]);
        assert_eq!(sheet.rows[0].cell(Field::Quantity).unwrap().col, 3);
    }

    #[test]
    fn kind_is_detected_from_headers() {
        let roster = grid(vec![
            vec!["序号", "姓名", "性别", "身份类别", "联系电话"],
            vec!["1", "张三", "男", "村干部", ""],
        ]);
        assert_eq!(
            find_table(vec![roster], None, &[]).unwrap().kind,
            ImportKind::Roster
        );
        let activities = grid(vec![
            vec!["活动日期", "活动主题", "受众人次"],
            vec!["2021-1-1", "宣传", "30"],
        ]);
        assert_eq!(
            find_table(vec![activities], None, &[]).unwrap().kind,
            ImportKind::Activities
        );
        let nothing = grid(vec![vec!["甲", "乙"], vec!["1", "2"]]);
        assert!(matches!(
            find_table(vec![nothing], None, &[]),
            Err(ReadError::NoHeader(_))
        ));
    }

    #[test]
    fn a_self_study_register_is_told_from_a_sign_in_sheet_by_its_name() {
        let rows = vec![
            vec!["日期", "姓名", "村(社区)", "学习内容", "学习形式", "学时"],
            vec![
                "2021-3-5",
                "张三",
                "龙凤村",
                "《民法典》第三编",
                "读书",
                "2",
            ],
        ];
        let unnamed = grid(rows.clone());
        assert_eq!(
            find_table(vec![unnamed], None, &[]).unwrap().kind,
            ImportKind::Attendance
        );
        let mut named = grid(rows.clone());
        named.name = "自学登记表".into();
        let set = find_table(vec![named], None, &[]).unwrap();
        assert_eq!(set.kind, ImportKind::SelfStudy);
        assert_eq!(set.sheets[0].rows[0].shown(Field::StudyForm), "读书");
        let mut titled = vec![vec!["2021年龙凤村干部自学登记表", "", "", "", "", ""]];
        titled.extend(rows);
        assert_eq!(
            find_table(vec![grid(titled)], None, &[]).unwrap().kind,
            ImportKind::SelfStudy
        );
    }

    #[test]
    fn the_printed_sign_in_sheet_is_attendance_by_its_number() {
        let g = grid(vec![
            vec!["学法签到表", "", "", "", "", ""],
            vec!["活动编号", "XF-000042", "学习内容", "宪法", "", ""],
            vec!["时间", "2021-03-01 09:00—10:00", "地点", "", "", ""],
            vec!["", "", "", "", "", ""],
            vec!["", "", "", "", "", ""],
            vec!["序号", "姓名", "村(社区)", "职务", "签名", "备注"],
            vec!["1", "张三", "龙凤村", "主任", "张三", ""],
        ]);
        let set = find_table(vec![g], None, &[]).unwrap();
        assert_eq!(set.kind, ImportKind::Attendance);
        assert_eq!(set.sheets[0].session_number, Some(42));
        assert_eq!(set.sheets[0].rows[0].shown(Field::Signature), "张三");
    }
}
