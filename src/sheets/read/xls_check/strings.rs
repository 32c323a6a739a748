//! The shared strings of an .xls (an SST record and its CONTINUE records), walked as
//! calamine walks them, to find the reads it would make past a record without a check.

/// The CONTINUE records that follow the record ending at `end`, as calamine joins them.
pub(super) fn continues(stream: &[u8], end: usize) -> Vec<&[u8]> {
    super::records(stream.get(end..).unwrap_or_default())
        .take_while(|(kind, data)| *kind == 0x003C && !data.is_empty())
        .map(|(_, data)| data)
        .collect()
}

/// A record's data and its CONTINUE records, read as calamine reads an SST.
struct Joined<'a> {
    data: &'a [u8],
    rest: std::vec::IntoIter<&'a [u8]>,
}

impl<'a> Joined<'a> {
    fn next_part(&mut self) -> bool {
        match self.rest.next() {
            Some(part) => {
                self.data = part;
                true
            }
            None => false,
        }
    }

    /// Takes `n` bytes of the current part, or says it holds fewer.
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (taken, rest) = self.data.split_at_checked(n)?;
        self.data = rest;
        Some(taken)
    }

    fn skip(&mut self, mut n: usize) -> bool {
        while n > 0 {
            if self.data.is_empty() && !self.next_part() {
                return false;
            }
            let step = n.min(self.data.len());
            self.data = &self.data[step..];
            n -= step;
        }
        true
    }
}

/// Whether calamine can read every string of a shared-strings (SST) record and its
/// CONTINUE records without reading past a part (MS-XLS XLUnicodeRichExtendedString).
pub(super) fn shared_strings_are_sound(data: &[u8], parts: Vec<&[u8]>) -> bool {
    let Some(strings) = data.get(8..) else {
        return false;
    };
    let mut r = Joined {
        data: strings,
        rest: parts.into_iter(),
    };
    while !r.data.is_empty() || r.next_part() {
        if r.data.is_empty() {
            continue;
        }
        let Some(head) = r.take(3) else {
            return false;
        };
        let mut chars = usize::from(u16::from_le_bytes([head[0], head[1]]));
        let flags = head[2];
        let mut runs = 0usize;
        let mut extra = 0usize;
        if flags & 0x8 != 0 {
            let Some(b) = r.take(2) else { return false };
            runs = usize::from(u16::from_le_bytes([b[0], b[1]]));
        }
        if flags & 0x4 != 0 {
            let Some(b) = r.take(4) else { return false };
            extra = i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        }
        let mut wide = flags & 0x1 != 0;
        while chars > 0 {
            let width = if wide { 2 } else { 1 };
            let here = chars.min(r.data.len() / width);
            r.data = &r.data[here * width..];
            chars -= here;
            if chars > 0 {
                // calamine reads the next part's first byte (its width flag) unchecked.
                if !r.next_part() || r.data.is_empty() {
                    return false;
                }
                wide = r.data[0] & 0x1 != 0;
                r.data = &r.data[1..];
            }
        }
        if !r.skip(runs * 4) || !r.skip(extra) {
            return false;
        }
    }
    true
}
