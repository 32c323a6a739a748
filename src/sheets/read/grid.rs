//! A worksheet as pufa's cells: calamine's values converted (dates in the workbook's own
//! system), merged regions filled in within bounds.

use calamine::{Data, Dimensions, Range};
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

/// More merged regions than any ledger a clerk keeps.
pub(super) const MAX_MERGED_REGIONS: usize = 50_000;
/// The most cells merged regions may fill in one sheet (after clipping to its cells).
const MAX_MERGED_CELLS: u64 = 10_000_000;

fn too_many_merges(sheet: &str) -> ReadError {
    ReadError::Damaged(format!(
        "工作表“{sheet}”的合并单元格数量或范围不合理（可能已损坏或被篡改），请取消合并后另存再上传"
    ))
}

pub(super) fn grid_of(
    name: &str,
    range: &Range<Data>,
    merged: &[Dimensions],
) -> Result<SheetGrid, ReadError> {
    let height = range.height();
    if height > MAX_DATA_ROWS + 20 {
        return Err(ReadError::TooManyRows {
            sheet: name.to_string(),
            rows: height.saturating_sub(1),
        });
    }
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let mut rows: Vec<Vec<CellValue>> = range
        .rows()
        .map(|r| r.iter().map(cell_of).collect())
        .collect();
    // A merged region's value belongs to every cell of it (calamine gives it to the first).
    // Regions are clipped to the cells the sheet has (a forged A1:XFD1048576 is not 17
    // billion steps), and their number and filled area are bounded.
    if merged.len() > MAX_MERGED_REGIONS {
        return Err(too_many_merges(name));
    }
    let last_row = first_row as u64 + rows.len() as u64;
    let last_col = first_col as u64 + rows.iter().map(Vec::len).max().unwrap_or(0) as u64;
    let mut filled: u64 = 0;
    for region in merged {
        let (r0, c0) = region.start;
        let (r1, c1) = region.end;
        if r0 as u64 >= last_row || c0 as u64 >= last_col || r1 < r0 || c1 < c0 {
            continue;
        }
        let r1 = r1.min((last_row - 1) as u32);
        let c1 = c1.min((last_col - 1) as u32);
        filled += (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
        if filled > MAX_MERGED_CELLS {
            return Err(too_many_merges(name));
        }
        let (Some(r0i), Some(c0i)) = (
            (r0 as usize).checked_sub(first_row as usize),
            (c0 as usize).checked_sub(first_col as usize),
        ) else {
            continue;
        };
        let value = rows
            .get(r0i)
            .and_then(|r| r.get(c0i))
            .cloned()
            .unwrap_or(CellValue::Empty);
        if value.is_empty() {
            continue;
        }
        for r in r0..=r1 {
            for c in c0..=c1 {
                let (ri, ci) = ((r - first_row) as usize, (c - first_col) as usize);
                if let Some(cell) = rows.get_mut(ri).and_then(|row| row.get_mut(ci)) {
                    *cell = value.clone();
                }
            }
        }
    }
    Ok(SheetGrid {
        name: name.to_string(),
        first_row,
        first_col,
        rows,
    })
}
