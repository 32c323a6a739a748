//! Reads the central directory of a zip container (xlsx, xlsm, ods) to learn how large it
//! unpacks to, before anything is decompressed: a zip bomb is refused unread.

use super::ReadError;

const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const CENTRAL_DIRECTORY_ENTRY: u32 = 0x0201_4b50;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn truncated() -> ReadError {
    ReadError::Damaged("文件结构不完整（可能下载或传输中断）".into())
}

/// Sums the uncompressed sizes the central directory declares; refuses above `limit`.
pub fn check_unpacked_size(bytes: &[u8], limit: u64) -> Result<u64, ReadError> {
    // The end record is in the last 22 + 65535 (comment) bytes.
    let search_from = bytes.len().saturating_sub(22 + 65_535);
    let end = (search_from..bytes.len().saturating_sub(21))
        .rev()
        .find(|&i| u32_at(bytes, i) == Some(END_OF_CENTRAL_DIRECTORY))
        .ok_or_else(truncated)?;
    let entries = u16_at(bytes, end + 10).ok_or_else(truncated)? as usize;
    let directory_offset = u32_at(bytes, end + 16).ok_or_else(truncated)? as usize;
    if directory_offset == 0xFFFF_FFFF || entries == 0xFFFF {
        // ZIP64: no spreadsheet a clerk keeps needs it.
        return Err(ReadError::UnpacksTooLarge);
    }
    let mut at = directory_offset;
    let mut total: u64 = 0;
    for _ in 0..entries {
        if u32_at(bytes, at) != Some(CENTRAL_DIRECTORY_ENTRY) {
            return Err(truncated());
        }
        let uncompressed = u32_at(bytes, at + 24).ok_or_else(truncated)?;
        if uncompressed == 0xFFFF_FFFF {
            return Err(ReadError::UnpacksTooLarge);
        }
        total += uncompressed as u64;
        if total > limit {
            return Err(ReadError::UnpacksTooLarge);
        }
        let name_len = u16_at(bytes, at + 28).ok_or_else(truncated)? as usize;
        let extra_len = u16_at(bytes, at + 30).ok_or_else(truncated)? as usize;
        let comment_len = u16_at(bytes, at + 32).ok_or_else(truncated)? as usize;
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(total)
}
