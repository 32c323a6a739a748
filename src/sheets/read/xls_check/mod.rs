//! Checks of an .xls file before calamine opens it. calamine reads every sheet of an .xls
//! at open and lays each out from its extreme cell addresses (two cells at A1 and IV65536
//! are 16 million cells, forged column numbers up to 65535 make it billions), and its
//! compound-file reader panics on a sector chain that runs past a truncated file. So the
//! container is read first with the `cfb` crate, which checks every chain, and the
//! workbook stream's cell records are scanned for the area each sheet would take.
//!
//! calamine also reads the shared strings and parses every formula and defined name with
//! fixed-offset reads that panic past a record's end. The shared strings are walked here
//! as calamine walks them; formulas and defined names, which pufa never uses (it reads the
//! values Excel stored beside them), are emptied in a copy of the file before calamine sees
//! it, so their tokens are never parsed.

use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use super::{ReadError, MAX_FILE_CELLS};

mod container;
mod strings;

use container::container_links_are_within;
use strings::{continues, shared_strings_are_sound};

fn damaged(detail: impl std::fmt::Display) -> ReadError {
    ReadError::Damaged(detail.to_string())
}

/// Row and column of a cell record, and for MULRK its last column.
fn cell_span(kind: u16, data: &[u8]) -> Option<(u32, u32, u32)> {
    let u16_at = |i: usize| {
        data.get(i..i + 2)
            .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]])))
    };
    match kind {
        // NUMBER, LABEL, RSTRING, BOOLERR, RK, LABELSST, FORMULA (blank cells calamine skips).
        0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
            let (row, col) = (u16_at(0)?, u16_at(2)?);
            Some((row, col, col))
        }
        // MULRK: first column at 2, last column in the record's last two bytes.
        0x00BD => {
            let (row, first) = (u16_at(0)?, u16_at(2)?);
            let last = u16_at(data.len().checked_sub(2)?)?;
            Some((row, first, last.max(first)))
        }
        _ => None,
    }
}

#[derive(Default)]
struct Extent {
    rows: Option<(u32, u32)>,
    cols: Option<(u32, u32)>,
}

impl Extent {
    fn add(&mut self, row: u32, first: u32, last: u32) {
        let widen = |range: &mut Option<(u32, u32)>, lo: u32, hi: u32| {
            *range = Some(match *range {
                Some((a, b)) => (a.min(lo), b.max(hi)),
                None => (lo, hi),
            });
        };
        widen(&mut self.rows, row, row);
        widen(&mut self.cols, first, last);
    }

    fn area(&self) -> u64 {
        match (self.rows, self.cols) {
            (Some((r0, r1)), Some((c0, c1))) => {
                (u64::from(r1 - r0) + 1).saturating_mul(u64::from(c1 - c0) + 1)
            }
            _ => 0,
        }
    }
}

/// The records of a stream: (type, data); a record cut off by the stream's end is the last.
fn records(stream: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    records_at(stream).map(|(_, kind, data)| (kind, data))
}

/// The records of a stream with where each one's data starts.
fn records_at(stream: &[u8]) -> impl Iterator<Item = (usize, u16, &[u8])> {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let header = stream.get(at..at + 4)?;
        let kind = u16::from_le_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_le_bytes([header[2], header[3]]));
        let data = stream.get(at + 4..(at + 4 + len).min(stream.len()))?;
        at += 4 + len;
        Some((at - len, kind, data))
    })
}

/// Whether a record is too short for the fixed places calamine reads in it without a
/// length check (it would panic; the worker would catch it, but a damaged file deserves
/// the damaged-file message).
fn too_short(kind: u16, data: &[u8]) -> bool {
    let u16_at = |i: usize| {
        data.get(i..i + 2)
            .map_or(0, |b| usize::from(u16::from_le_bytes([b[0], b[1]])))
    };
    match kind {
        // BOF, FilePass, CodePage, DateMode, ExternSheet: a u16 first.
        0x0809 | 0x002F | 0x0042 | 0x0022 | 0x0017 => data.len() < 2,
        // BoundSheet8: position, state, type, then the name.
        0x0085 => data.len() < 8,
        // Lbl: the name's length at 3, the formula's at 4, the name from 14.
        0x0018 => data.len() < 15 || data.len() - 14 < u16_at(4) + data[3] as usize,
        // MergeCells: a count, then 8 bytes per region.
        0x00E5 => data.len() < 2 || data.len() < 2 + 8 * u16_at(0),
        // Formula: the value at 6..14, the formula's length at 20.
        0x0006 => data.len() < 22,
        _ => false,
    }
}

/// Where each sheet's records start (BOUNDSHEET records of the workbook globals, which end
/// at the first EOF).
fn sheet_positions(workbook: &[u8]) -> Vec<usize> {
    records(workbook)
        .take_while(|(kind, _)| *kind != 0x000A)
        .filter(|(kind, data)| *kind == 0x0085 && data.len() >= 4)
        .map(|(_, data)| u32::from_le_bytes([data[0], data[1], data[2], data[3]]) as usize)
        .collect()
}

/// The cells a DIMENSIONS record declares (calamine reserves room for them all).
fn declared_area(data: &[u8]) -> u64 {
    let u16_at = |i: usize| u64::from(u16::from_le_bytes([data[i], data[i + 1]]));
    let u32_at = |i: usize| {
        u64::from(u32::from_le_bytes([
            data[i],
            data[i + 1],
            data[i + 2],
            data[i + 3],
        ]))
    };
    let (first_row, last_row, mut first_col, last_col) = match data.len() {
        10 => (u16_at(0), u16_at(2), u16_at(4), u16_at(6)),
        14 | 16 => (u32_at(0), u32_at(4), u16_at(8), u16_at(10)),
        _ => return 0,
    };
    if first_col > 0xFF || last_col < first_col {
        first_col = 0;
    }
    if last_row == 0 || last_col == 0 {
        return 0;
    }
    // calamine computes (last - first) in u32 arithmetic: a first past the last wraps round
    // to some four billion rows.
    let rows = (last_row.wrapping_sub(1).wrapping_sub(first_row) & 0xFFFF_FFFF) + 1;
    let cols = (last_col.wrapping_sub(1).wrapping_sub(first_col) & 0xFFFF_FFFF) + 1;
    rows.saturating_mul(cols)
}

/// The cells a sheet starting here would take: the larger of the area its DIMENSIONS
/// records declare and the area its own cell records (not those of embedded charts) span,
/// up to its EOF.
fn sheet_area(sheet: &[u8]) -> u64 {
    let mut extent = Extent::default();
    let mut declared: u64 = 0;
    let mut depth = 0u32;
    for (kind, data) in records(sheet) {
        match kind {
            0x0200 if depth <= 1 => declared = declared.saturating_add(declared_area(data)),
            0x0809 => depth += 1,
            0x000A => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            _ if depth <= 1 => {
                if let Some((row, first, last)) = cell_span(kind, data) {
                    extent.add(row, first, last);
                }
            }
            _ => {}
        }
    }
    extent.area().max(declared)
}

/// Where the formula length of each FORMULA (at 20) and defined name (at 4) sits in the
/// stream, for those that are not empty, walking the records from `start`.
fn formula_lengths(workbook: &[u8], start: usize, into: &mut Vec<usize>) {
    for (at, kind, data) in records_at(&workbook[start..]) {
        let place = match kind {
            0x0006 => 20,
            0x0018 => 4,
            _ => continue,
        };
        if data.get(place..place + 2).is_some_and(|b| b != [0, 0]) {
            into.push(start + at + place);
        }
    }
}

/// A copy of the file with `value` written at each place `at` of the stream (formula
/// lengths: 0 empties the formulas, see the module's note).
fn with_u16_at(bytes: &[u8], stream: &str, at: &[usize], value: u16) -> Result<Vec<u8>, ReadError> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes.to_vec())).map_err(damaged)?;
    {
        let mut workbook = file.open_stream(stream).map_err(damaged)?;
        for &place in at {
            workbook
                .seek(SeekFrom::Start(place as u64))
                .and_then(|_| workbook.write_all(&value.to_le_bytes()))
                .map_err(damaged)?;
        }
        workbook.flush().map_err(damaged)?;
    }
    file.flush().map_err(damaged)?;
    Ok(file.into_inner().into_inner())
}

/// Refuses an .xls whose container is broken or whose sheets would be laid out past the
/// file's cell budget. Returns the file calamine should read: a copy without formulas when
/// the file has any.
pub fn check_xls(bytes: &[u8]) -> Result<Option<Vec<u8>>, ReadError> {
    let mut file = cfb::CompoundFile::open(Cursor::new(bytes)).map_err(damaged)?;
    if !container_links_are_within(bytes) {
        return Err(damaged("文件分配表指向文件以外"));
    }
    // A compound file stores its streams uncompressed: one declared longer than the file
    // is forged, and calamine would reserve its declared length.
    if file
        .walk()
        .any(|entry| entry.is_stream() && entry.len() > bytes.len() as u64)
    {
        return Err(damaged("数据流长度与文件不符"));
    }
    // calamine also reads the two summary streams: reading them here checks their chains.
    for summary in [
        "/\u{5}SummaryInformation",
        "/\u{5}DocumentSummaryInformation",
    ] {
        if file.is_stream(summary) {
            let mut stream = file.open_stream(summary).map_err(damaged)?;
            io::copy(&mut (&mut stream).take(bytes.len() as u64), &mut io::sink())
                .map_err(damaged)?;
        }
    }
    let stream = ["/Workbook", "/Book"]
        .into_iter()
        .find(|name| file.is_stream(name))
        .ok_or_else(|| damaged("没有工作簿数据"))?;
    let mut workbook = Vec::new();
    file.open_stream(stream)
        .map_err(damaged)?
        // The stream is within the 20 MB upload; a chain claiming more is cut off here.
        .take(super::MAX_UPLOAD_BYTES as u64 * 2)
        .read_to_end(&mut workbook)
        .map_err(damaged)?;
    if records(&workbook).any(|(kind, data)| too_short(kind, data)) {
        return Err(damaged("记录长度不足"));
    }
    // The globals end at their EOF; calamine reads the shared strings there.
    let shared_strings = records_at(&workbook)
        .take_while(|(_, kind, _)| *kind != 0x000A)
        .filter(|(_, kind, _)| *kind == 0x00FC);
    for (at, _, data) in shared_strings {
        if !shared_strings_are_sound(data, continues(&workbook, at + data.len())) {
            return Err(damaged("共享文字记录有误"));
        }
    }
    let mut formulas = Vec::new();
    formula_lengths(&workbook, 0, &mut formulas);
    // The sheets are where the globals' BOUNDSHEET records say, as calamine reads them.
    let mut laid_out: u64 = 0;
    for position in sheet_positions(&workbook) {
        if position >= workbook.len() {
            return Err(damaged("工作表位置超出文件范围"));
        }
        if records(&workbook[position..]).any(|(kind, data)| too_short(kind, data)) {
            return Err(damaged("记录长度不足"));
        }
        laid_out = laid_out.saturating_add(sheet_area(&workbook[position..]));
        if laid_out > MAX_FILE_CELLS {
            return Err(super::grid::too_many_cells_in_file());
        }
        // A forged position can start mid-record, where calamine finds other records.
        formula_lengths(&workbook, position, &mut formulas);
    }
    if formulas.is_empty() {
        return Ok(None);
    }
    formulas.sort_unstable();
    formulas.dedup();
    with_u16_at(bytes, stream, &formulas, 0).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        include_bytes!("../../../../tests/fixtures/attendance.xls").to_vec()
    }

    /// The fixture with the first LABELSST record's row and column set to `to`.
    fn moved_cell(to: [u8; 4]) -> Vec<u8> {
        let mut bytes = fixture();
        let at = bytes
            .windows(4)
            .position(|w| w == [0xFD, 0x00, 0x0A, 0x00])
            .expect("a LABELSST record");
        bytes[at + 4..at + 8].copy_from_slice(&to);
        bytes
    }

    #[test]
    fn the_fixture_passes() {
        check_xls(&fixture()).expect("a plain .xls");
    }

    /// An SST record (declared counts, then the strings) followed by CONTINUE records.
    fn sst(strings: &[u8], continued: &[&[u8]]) -> (Vec<u8>, Vec<Vec<u8>>) {
        let mut data = vec![0u8; 8];
        data.extend_from_slice(strings);
        (data, continued.iter().map(|c| c.to_vec()).collect())
    }

    fn sound(record: &(Vec<u8>, Vec<Vec<u8>>)) -> bool {
        shared_strings_are_sound(&record.0, record.1.iter().map(Vec::as_slice).collect())
    }

    #[test]
    fn shared_strings_are_walked_across_continue_records() {
        // "abc" narrow, then "中" wide split over a CONTINUE whose flag byte says wide.
        assert!(sound(&sst(
            b"\x03\x00\x00abc\x02\x00\x01\x2d\x4e",
            &[b"\x01\x87\x65"]
        )));
        // A rich string: two formatting runs (8 bytes) after its text.
        assert!(sound(&sst(b"\x01\x00\x08\x02\x00x12345678", &[])));
        // The run count cut off after the header (calamine's unchecked read_u16).
        assert!(!sound(&sst(b"\x01\x00\x08", &[])));
        // The phonetic size cut off (unchecked read_i32).
        assert!(!sound(&sst(b"\x01\x00\x04\x00\x00", &[])));
        // Text continued into an empty CONTINUE or none at all.
        assert!(!sound(&sst(b"\x05\x00\x00ab", &[])));
        assert!(!sound(&sst(b"\x05\x00\x00ab", &[b""])));
        // Runs that claim more than there is.
        assert!(!sound(&sst(b"\x01\x00\x08\xff\x00x", &[])));
    }

    #[test]
    fn formulas_are_emptied_and_their_values_kept() {
        // Saved by LibreOffice from a workbook with number, text and cross-sheet formulas
        // and a defined name.
        let bytes = include_bytes!("../../../../tests/fixtures/formulas.xls");
        let copy = check_xls(bytes)
            .expect("a sound file")
            .expect("a copy without formulas");
        assert_ne!(&copy[..], &bytes[..]);
        let original = super::super::read_workbook_grids(bytes).expect("original");
        let emptied = super::super::read_workbook_grids(&copy).expect("copy");
        assert_eq!(format!("{original:?}"), format!("{emptied:?}"));
        let shown = format!("{emptied:?}");
        for value in ["龙凤村村委会", "达标", "镇机关", "3.0", "0.17"] {
            assert!(shown.contains(value), "{value} missing from {shown}");
        }
        // Nothing is left to empty in the copy.
        assert_eq!(check_xls(&copy).expect("the copy passes"), None);
    }

    #[test]
    fn a_formula_whose_tokens_run_past_its_record_is_never_parsed() {
        let bytes = include_bytes!("../../../../tests/fixtures/formulas.xls");
        let mut workbook = Vec::new();
        cfb::CompoundFile::open(Cursor::new(&bytes[..]))
            .and_then(|mut file| file.open_stream("/Workbook")?.read_to_end(&mut workbook))
            .expect("the workbook stream");
        let mut formulas = Vec::new();
        formula_lengths(&workbook, 0, &mut formulas);
        // Cell formulas, not defined names (a name longer than its record is refused).
        formulas.retain(|&at| workbook[at - 24..at - 22] == [0x06, 0x00]);
        assert!(!formulas.is_empty());
        // Every formula claims 200 bytes of tokens, past its record.
        let forged = with_u16_at(bytes, "/Workbook", &formulas, 200).expect("forged");
        let unchecked = std::panic::catch_unwind(|| super::super::read_workbook_grids(&forged));
        assert!(unchecked.is_err(), "calamine read the forged formulas");
        let grids = super::super::read_grids("签到.xls", &forged).expect("read without them");
        assert!(format!("{grids:?}").contains("龙凤村村委会"));
    }

    #[test]
    fn a_cell_at_row_and_column_65535_is_refused_before_calamine_lays_it_out() {
        // calamine would ask for 4 billion cells (137 GB) and abort the process.
        let refused = check_xls(&moved_cell([0xFF; 4]));
        assert!(
            matches!(&refused, Err(ReadError::Damaged(m)) if m.contains("单元格太多")),
            "{refused:?}"
        );
        // Row 1000, column 3: a sheet calamine lays out in a few thousand cells.
        check_xls(&moved_cell([0xE8, 0x03, 0x03, 0x00])).expect("an ordinary address");
    }

    #[test]
    fn a_listed_allocation_sector_past_the_file_is_damaged_not_a_panic() {
        // An unused DIFAT entry of the header names the sector just past the end, which
        // calamine loads (and slices out of range) while the cfb crate ignores it.
        let mut bytes = fixture();
        let past_the_end = ((bytes.len() - 512) / 512 + 1) as u32;
        let entry = 76 + 4 * 100;
        assert_eq!(bytes[entry..entry + 4], [0xFF; 4], "an unused entry");
        bytes[entry..entry + 4].copy_from_slice(&past_the_end.to_le_bytes());
        let unchecked = std::panic::catch_unwind(|| super::super::read_workbook_grids(&bytes));
        assert!(unchecked.is_err(), "calamine read the forged table");
        let refused = check_xls(&bytes);
        assert!(
            matches!(&refused, Err(ReadError::Damaged(m)) if m.contains("文件分配表")),
            "{refused:?}"
        );
    }

    #[test]
    fn a_truncated_container_is_damaged_not_a_panic() {
        let bytes = fixture();
        for cut in [600, 1500, bytes.len() - 700, bytes.len() - 1] {
            let result = std::panic::catch_unwind(|| check_xls(&bytes[..cut]));
            let checked = result.expect("no panic");
            if checked.is_ok() {
                // A container whose cut-off part holds nothing calamine reads is fine
                // too; calamine must then read it without panicking.
                let read =
                    std::panic::catch_unwind(|| super::super::read_grids("x.xls", &bytes[..cut]));
                assert!(
                    read.is_ok(),
                    "calamine panicked on a file the check let through"
                );
            }
        }
    }
}
