//! The links of an .xls compound file that calamine's own container reader follows.

/// Whether every sector calamine's own container reader can be sent to lies within the
/// file. calamine slices a sector past the end of the file without a check (a panic), it
/// loads every sector the DIFAT lists (not only the `fat_len` the cfb crate reads), and it
/// finds streams by a walk of its own over the directory; so every link is checked here:
/// the DIFAT, each allocation table entry, the directory's start sectors, and the same for
/// the mini stream's 64-byte sectors.
pub(super) fn container_links_are_within(bytes: &[u8]) -> bool {
    const DIFSECT: u32 = 0xFFFF_FFFC;
    const RESERVED: u32 = 0xFFFF_FFFA;
    const MINI_CUTOFF: u64 = 4096;
    let u32_at = |b: &[u8], i: usize| {
        b.get(i..i + 4)
            .map(|w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]))
    };
    let size: usize = match bytes.get(30..32) {
        Some([0x09, 0x00]) => 512,
        Some([0x0C, 0x00]) => 4096,
        _ => return false,
    };
    // Sectors are counted from the end of the header (one sector).
    let Some(data) = bytes.get(size..) else {
        return false;
    };
    let sectors = data.len().div_ceil(size) as u64;
    let sector = |id: u32| -> Option<&[u8]> {
        let start = id as usize * size;
        data.get(start..(start + size).min(data.len()))
            .filter(|s| !s.is_empty())
    };
    let words = |part: &[u8]| -> Vec<u32> {
        (0..part.len() / 4)
            .filter_map(|i| u32_at(part, 4 * i))
            .collect()
    };
    // The DIFAT: the header's 109 entries, then its own sectors' (the last is the link).
    let mut listed: Vec<u32> = words(&bytes[76..512.min(bytes.len())]);
    let mut next = u32_at(bytes, 68).unwrap_or(RESERVED);
    let mut walked = 0u64;
    while next < RESERVED {
        walked += 1;
        let Some(part) = sector(next).filter(|_| walked <= sectors) else {
            return false;
        };
        listed.extend(words(part));
        next = listed.pop().unwrap_or(RESERVED);
    }
    let mut fat = Vec::new();
    for id in listed.into_iter().filter(|id| *id < DIFSECT) {
        let Some(part) = sector(id) else {
            return false;
        };
        fat.extend(words(part));
    }
    if fat
        .iter()
        .any(|&link| link < RESERVED && u64::from(link) >= sectors)
    {
        return false;
    }
    // The directory's chain (links already checked; a loop is cut at the sector count).
    let chain = |start: u32| -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut id = start;
        let mut steps = 0u64;
        while id < RESERVED {
            steps += 1;
            if steps > sectors {
                break;
            }
            out.extend_from_slice(sector(id)?);
            id = fat.get(id as usize).copied().unwrap_or(RESERVED);
        }
        Some(out)
    };
    let Some(directory) = chain(u32_at(bytes, 48).unwrap_or(RESERVED)) else {
        return false;
    };
    let entries: Vec<(u8, u32, u64)> = directory
        .chunks_exact(128)
        .map(|e| {
            let start = u32_at(e, 116).unwrap_or(RESERVED);
            let len = u64::from(u32_at(e, 120).unwrap_or(0));
            (e[66], start, len)
        })
        .collect();
    let Some(&(_, root_start, root_len)) = entries.first() else {
        return false;
    };
    let mini_sectors = root_len.div_ceil(64);
    let mini_fat = match u32_at(bytes, 60) {
        Some(start) if start < RESERVED => match chain(start) {
            Some(table) => words(&table),
            None => return false,
        },
        _ => Vec::new(),
    };
    if mini_fat
        .iter()
        .any(|&link| link < RESERVED && u64::from(link) >= mini_sectors)
    {
        return false;
    }
    // Streams (type 2) start in the mini stream below the cutoff; the root's is a sector.
    let root_ok = root_start >= RESERVED || u64::from(root_start) < sectors;
    root_ok
        && entries.iter().skip(1).all(|&(kind, start, len)| {
            kind != 2
                || start >= RESERVED
                || if len < MINI_CUTOFF {
                    u64::from(start) < mini_sectors
                } else {
                    u64::from(start) < sectors
                }
        })
}
