//! Checks a zip container (xlsx, xlsm, ods) with the zip reader calamine itself uses (so
//! both see the same entries, ZIP64 included) before calamine reads it: the declared sizes
//! must sum below the limit, and no entry may inflate past the size it declares. A zip bomb
//! is refused after inflating at most the limit, without keeping anything in memory.

use std::io::{self, Cursor, Read};

use super::ReadError;

/// More entries than any workbook a clerk keeps (a sheet is one or two entries).
const MAX_ENTRIES: usize = 10_000;

/// More distinct texts than 200,000 rows of ten text columns. The reader reserves room for
/// as many as the file declares, so a larger declaration is refused before it is read.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;

/// The `uniqueCount` an xlsx's shared-strings part declares in its first bytes, if any.
fn declared_string_count(head: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(head);
    let start = text.find("uniqueCount=")? + "uniqueCount=".len();
    let digits: String = text[start..]
        .chars()
        .skip_while(|c| *c == '"' || *c == '\'')
        .take_while(char::is_ascii_digit)
        .collect();
    // More digits than a u64 holds is as absurd as a large number.
    Some(digits.parse().unwrap_or(u64::MAX))
}

fn damaged(e: impl std::fmt::Display) -> ReadError {
    ReadError::Damaged(format!("压缩结构有误：{e}"))
}

/// Sums the declared uncompressed sizes, refusing above `limit`, then inflates every entry
/// into nothing, refusing one that gives more than it declared. Returns the total.
pub fn check_unpacked_size(bytes: &[u8], limit: u64) -> Result<u64, ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if archive.len() > MAX_ENTRIES {
        return Err(ReadError::UnpacksTooLarge);
    }
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let entry = archive.by_index_raw(i).map_err(damaged)?;
        total = total.saturating_add(entry.size());
        if total > limit {
            return Err(ReadError::UnpacksTooLarge);
        }
    }
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(damaged)?;
        let declared = entry.size();
        let mut head = Vec::new();
        if entry.name_raw().ends_with(b"sharedStrings.xml") {
            (&mut entry)
                .take(4096.min(declared + 1))
                .read_to_end(&mut head)
                .map_err(damaged)?;
            if declared_string_count(&head).is_some_and(|n| n > MAX_SHARED_STRINGS) {
                return Err(ReadError::Damaged(
                    "文件声明的文字条目数量不合理（可能已损坏或被篡改）".into(),
                ));
            }
        }
        let rest = io::copy(
            &mut (&mut entry).take(declared + 1 - head.len() as u64),
            &mut io::sink(),
        )
        .map_err(damaged)?;
        if head.len() as u64 + rest > declared {
            return Err(ReadError::UnpacksTooLarge);
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_declared_string_count_is_read_from_the_head() {
        let head = br#"<?xml version="1.0"?><sst xmlns="x" count="3" uniqueCount="2"><si>"#;
        assert_eq!(declared_string_count(head), Some(2));
        let huge = br#"<sst uniqueCount="1000000000000">"#;
        assert_eq!(declared_string_count(huge), Some(1_000_000_000_000));
        let absurd = br#"<sst uniqueCount="99999999999999999999999999">"#;
        assert_eq!(declared_string_count(absurd), Some(u64::MAX));
        assert_eq!(declared_string_count(b"<sst>"), None);
    }
}
