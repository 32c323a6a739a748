//! Checks a zip container (xlsx, xlsm, ods) with the zip reader calamine itself uses (so
//! both see the same entries, ZIP64 included) before calamine reads it: the declared sizes
//! must sum below the limit, and no entry may inflate past the size it declares. A zip bomb
//! is refused after inflating at most the limit, without keeping anything in memory.
//!
//! The same pass bounds what calamine's XML reader would keep: it remembers every element
//! still open, so a part nested millions deep (a few bytes per level, and it compresses to
//! nothing) is refused, and the small parts it reads whole (relationships, workbook,
//! styles) may not be the size of a sheet.

use std::io::{self, Cursor, Read};

use super::ReadError;

/// More entries than any workbook a clerk keeps (a sheet is one or two entries).
const MAX_ENTRIES: usize = 10_000;

/// More distinct texts than 200,000 rows of ten text columns. The reader reserves room for
/// as many as the file declares, so a larger declaration is refused before it is read.
pub const MAX_SHARED_STRINGS: u64 = 2_000_000;

/// How much of the shared-strings part is read for its `<sst>` tag: Excel, WPS and
/// LibreOffice put it in the first few hundred bytes.
const SHARED_STRINGS_HEAD: u64 = 64 * 1024;

/// The `uniqueCount` of the shared-strings part's `<sst>` tag, read as calamine reads it
/// (an XML reader, so spaces around `=`, a namespace prefix or a decoy in a comment do not
/// hide it); `Ok(None)` without one. `complete`: whether `head` is the whole part. A head
/// that ends, or is not XML, before the tag is an error: calamine would read on and reserve
/// what the tag declares unchecked.
fn declared_string_count(head: &[u8], complete: bool) -> Result<Option<u64>, ()> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(head);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(tag) | Event::Empty(tag)) if tag.local_name().as_ref() == "sst" => {
                let count = tag.try_get_attribute("uniqueCount").map_err(|_| ())?;
                return Ok(count.and_then(|attr| {
                    let digits = attr.value;
                    // More digits than a u64 holds is as absurd as a large number.
                    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| digits.parse().unwrap_or(u64::MAX))
                }));
            }
            Ok(Event::Eof) if complete => return Ok(None),
            Ok(Event::Eof) | Err(_) => return Err(()),
            Ok(_) => buf.clear(),
        }
    }
}

/// Deeper than any part Excel, WPS or LibreOffice writes (a sheet is four levels, a chart
/// about twenty).
const MAX_XML_DEPTH: u32 = 256;

/// Relationships, the workbook part and styles of a workbook of a few hundred sheets are
/// well under a megabyte; calamine parses them whole before the first cell.
const MAX_SMALL_PART_BYTES: u64 = 16 * 1024 * 1024;

/// A part's name as calamine looks parts up: `\` read as `/`, ASCII letters in lower case
/// (so `XL\SharedStrings.XML` is the shared strings, and is checked as such).
fn normalized_name(raw: &[u8]) -> Vec<u8> {
    raw.iter()
        .map(|b| match b {
            b'\\' => b'/',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether a part (its normalised name) is one calamine reads whole and a real workbook
/// keeps small.
fn is_small_part(name: &[u8]) -> bool {
    name.ends_with(b".rels")
        || name.starts_with(b"xl/theme/")
        || [
            &b"xl/workbook.xml"[..],
            b"xl/styles.xml",
            b"[content_types].xml",
        ]
        .contains(&name)
}

/// Where the depth scanner is between two chunks of a part.
#[derive(Clone, Copy, PartialEq)]
enum Markup {
    Text,
    /// Just after `<`.
    TagStart,
    /// Inside a start tag; whether the last byte was `/`, and the quote being read, if any.
    Open {
        slash: bool,
        quote: Option<u8>,
    },
    /// Just after `<!`.
    Bang,
    /// Inside a comment or a CDATA section; how many of the closing `-->` or `]]>` bytes
    /// (`close`) were just read.
    Quoted {
        close: u8,
        seen: u8,
    },
    /// Inside an end tag, a declaration or a processing instruction.
    Other,
}

/// An `io::Write` that counts how deep the elements of the XML written to it nest, without
/// keeping any of it. A rough tokenizer is enough: a real part's depth is far below the
/// limit, and a forged one only has to be caught somewhere above it.
struct DepthScanner {
    /// Whether depth is counted (XML parts); merged regions are looked for in any part.
    xml: bool,
    state: Markup,
    depth: u32,
    deepest: u32,
    merges: MergeMarks,
}

impl DepthScanner {
    fn new(xml: bool) -> Self {
        DepthScanner {
            xml,
            state: Markup::Text,
            depth: 0,
            deepest: 0,
            merges: MergeMarks::default(),
        }
    }

    fn scan(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.state == Markup::Text {
                match memchr::memchr(b'<', bytes) {
                    Some(at) => {
                        self.state = Markup::TagStart;
                        bytes = &bytes[at + 1..];
                    }
                    None => return,
                }
                continue;
            }
            let byte = bytes[0];
            bytes = &bytes[1..];
            self.state = match self.state {
                Markup::TagStart => match byte {
                    b'/' => {
                        self.depth = self.depth.saturating_sub(1);
                        Markup::Other
                    }
                    b'!' => Markup::Bang,
                    b'?' => Markup::Other,
                    _ => {
                        self.depth += 1;
                        self.deepest = self.deepest.max(self.depth);
                        Markup::Open {
                            slash: false,
                            quote: None,
                        }
                    }
                },
                Markup::Open {
                    quote: Some(q),
                    slash,
                } => Markup::Open {
                    slash,
                    quote: (byte != q).then_some(q),
                },
                Markup::Open { slash, quote: None } => match byte {
                    b'>' => {
                        if slash {
                            self.depth = self.depth.saturating_sub(1);
                        }
                        Markup::Text
                    }
                    b'"' | b'\'' => Markup::Open {
                        slash: false,
                        quote: Some(byte),
                    },
                    _ => Markup::Open {
                        slash: byte == b'/',
                        quote: None,
                    },
                },
                Markup::Bang => match byte {
                    b'-' => Markup::Quoted {
                        close: b'-',
                        seen: 0,
                    },
                    b'[' => Markup::Quoted {
                        close: b']',
                        seen: 0,
                    },
                    b'>' => Markup::Text,
                    _ => Markup::Other,
                },
                Markup::Quoted { close, seen } => match byte {
                    b'>' if seen >= 2 => Markup::Text,
                    _ if byte == close => Markup::Quoted {
                        close,
                        seen: seen.saturating_add(1),
                    },
                    _ => Markup::Quoted { close, seen: 0 },
                },
                Markup::Other if byte == b'>' => Markup::Text,
                other => other,
            };
        }
    }
}

/// Whether the XML written so far names `mergeCell` (a worksheet's merged regions),
/// also when the name is split between two writes. Without it the reader skips looking
/// for merged regions, which is a second parse of every sheet (a third of a large read).
#[derive(Default)]
struct MergeMarks {
    seen: bool,
    /// The last bytes before this write, shorter than the name.
    tail: Vec<u8>,
}

impl MergeMarks {
    const NAME: &'static [u8] = b"mergeCell";

    fn feed(&mut self, bytes: &[u8]) {
        if self.seen || bytes.is_empty() {
            return;
        }
        let keep = Self::NAME.len() - 1;
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(&bytes[..bytes.len().min(keep)]);
        if memchr::memmem::find(&window, Self::NAME).is_some()
            || memchr::memmem::find(bytes, Self::NAME).is_some()
        {
            self.seen = true;
            return;
        }
        self.tail = if bytes.len() >= keep {
            bytes[bytes.len() - keep..].to_vec()
        } else {
            window[window.len().saturating_sub(keep)..].to_vec()
        };
    }
}

/// What the scan of a zip container found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unpacked {
    /// The entries' declared sizes added up.
    pub bytes: u64,
    /// Whether any XML part names merged regions (`mergeCell`).
    pub merges: bool,
}

impl io::Write for DepthScanner {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.xml {
            self.scan(buf);
        }
        self.merges.feed(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn damaged(e: impl std::fmt::Display) -> ReadError {
    ReadError::Damaged(format!("压缩结构有误：{e}"))
}

/// Sums the declared uncompressed sizes, refusing above `limit`, then inflates every entry
/// into nothing, refusing one that gives more than it declared. Returns the total, and
/// whether any part has merged regions.
pub fn check_unpacked_size(bytes: &[u8], limit: u64) -> Result<Unpacked, ReadError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(damaged)?;
    if archive.len() > MAX_ENTRIES {
        return Err(ReadError::UnpacksTooLarge);
    }
    let mut total: u64 = 0;
    let mut merges = false;
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
        let name = normalized_name(entry.name_raw());
        let mut head = Vec::new();
        if name.ends_with(b"sharedstrings.xml") {
            (&mut entry)
                .take(SHARED_STRINGS_HEAD.min(declared + 1))
                .read_to_end(&mut head)
                .map_err(damaged)?;
            let complete = (head.len() as u64) < SHARED_STRINGS_HEAD.min(declared + 1);
            match declared_string_count(&head, complete) {
                Ok(count) if count.is_none_or(|n| n <= MAX_SHARED_STRINGS) => {}
                Ok(_) => {
                    return Err(ReadError::Damaged(
                        "文件声明的文字条目数量不合理（可能已损坏或被篡改）".into(),
                    ))
                }
                Err(()) => {
                    return Err(ReadError::Damaged(
                        "文件中的文字表（sharedStrings）开头结构异常（可能已损坏或被篡改）".into(),
                    ))
                }
            }
        }
        if is_small_part(&name) && declared > MAX_SMALL_PART_BYTES {
            return Err(ReadError::Damaged(format!(
                "文件中的“{}”部分大得不合理（可能已损坏或被篡改）",
                String::from_utf8_lossy(entry.name_raw())
            )));
        }
        // Only XML parts are scanned for depth; every part is looked at for merged regions
        // (the reader finds a sheet by its relationship, whatever its part is named).
        let is_xml = name.ends_with(b".xml") || name.ends_with(b".rels");
        let mut scanner = DepthScanner::new(is_xml);
        io::Write::write_all(&mut scanner, &head).map_err(damaged)?;
        let rest = io::copy(
            &mut (&mut entry).take(declared + 1 - head.len() as u64),
            &mut scanner,
        )
        .map_err(damaged)?;
        if head.len() as u64 + rest > declared {
            return Err(ReadError::UnpacksTooLarge);
        }
        if scanner.deepest > MAX_XML_DEPTH {
            return Err(ReadError::Damaged(format!(
                "文件中的“{}”部分层层嵌套超过 {MAX_XML_DEPTH} 层（可能已损坏或被篡改）",
                String::from_utf8_lossy(entry.name_raw())
            )));
        }
        merges |= scanner.merges.seen;
    }
    Ok(Unpacked {
        bytes: total,
        merges,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_regions_are_noticed_across_writes() {
        let xml = b"<worksheet><sheetData/><mergeCells count=\"1\"><mergeCell ref=\"A1:C1\"/></mergeCells></worksheet>";
        let at = memchr::memmem::find(xml, b"mergeCell").unwrap();
        // Every split of the document into two writes, and one byte at a time.
        for split in 0..xml.len() {
            let mut marks = MergeMarks::default();
            marks.feed(&xml[..split]);
            marks.feed(&xml[split..]);
            assert!(marks.seen, "split at {split}");
        }
        let mut marks = MergeMarks::default();
        xml.iter().for_each(|b| marks.feed(std::slice::from_ref(b)));
        assert!(marks.seen);
        // Without the name, nothing is seen, however it is split.
        let mut plain = xml[..at].to_vec();
        plain.extend_from_slice(b"mergeCel/>");
        let mut marks = MergeMarks::default();
        plain.chunks(3).for_each(|c| marks.feed(c));
        assert!(!marks.seen);
    }

    fn depth_of(parts: &[&[u8]]) -> u32 {
        let mut scanner = DepthScanner::new(true);
        for part in parts {
            scanner.scan(part);
        }
        scanner.deepest
    }

    #[test]
    fn nesting_is_counted_across_chunks_and_past_empty_tags_and_quotes() {
        let sheet: &[u8] = br#"<?xml version="1.0"?><!-- <a><b> --><worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" s="1"/></row><row/></sheetData></worksheet>"#;
        assert_eq!(depth_of(&[sheet]), 5);
        // The same bytes cut into every pair of chunks give the same depth.
        for cut in 0..sheet.len() {
            assert_eq!(depth_of(&[&sheet[..cut], &sheet[cut..]]), 5, "cut at {cut}");
        }
        // A `>` or `/>` inside a quoted attribute does not end the tag.
        assert_eq!(depth_of(&[br#"<a t="x/>"><b v='>'><c/></b></a>"#]), 3);
        // Nor do tags inside a comment or a CDATA section.
        assert_eq!(
            depth_of(&[b"<a><!-- <b> -> --><![CDATA[<c>]>]]><d/></a>"]),
            2
        );
        let deep = b"<a>".repeat(10_000);
        assert_eq!(depth_of(&[&deep]), 10_000);
    }

    #[test]
    fn the_declared_string_count_is_read_from_the_head() {
        let count = |head: &[u8]| declared_string_count(head, true);
        let head = br#"<?xml version="1.0"?><sst xmlns="x" count="3" uniqueCount="2"><si>"#;
        assert_eq!(declared_string_count(head, false), Ok(Some(2)));
        let huge = br#"<sst uniqueCount="1000000000000">"#;
        assert_eq!(count(huge), Ok(Some(1_000_000_000_000)));
        let absurd = br#"<sst uniqueCount="99999999999999999999999999">"#;
        assert_eq!(count(absurd), Ok(Some(u64::MAX)));
        assert_eq!(count(b"<sst>"), Ok(None));
        // What an XML reader (calamine's) sees, not the first matching bytes.
        let spaced = br#"<sst uniqueCount = "1000000000000">"#;
        assert_eq!(count(spaced), Ok(Some(1_000_000_000_000)));
        let decoy = br#"<!-- uniqueCount="1" --><x:sst xmlns:x="x" uniqueCount='5000000'/>"#;
        assert_eq!(count(decoy), Ok(Some(5_000_000)));
        // A head that ends before the tag is not let through; a whole part without one is
        // calamine's own error to report.
        let late = [b"<!--".as_slice(), &[b'x'; 100], b"-->"].concat();
        assert_eq!(declared_string_count(&late, false), Err(()));
        assert_eq!(declared_string_count(&late, true), Ok(None));
    }
}
