//! The reader fuzzer's inputs: a corpus of real ledgers (the demo township's .xls files, the
//! import templates, the test fixtures, and workbooks, CSVs and .ods made here) and the
//! mutations applied to them. Input `i` of seed `s` is the same on every machine, so a
//! reported input can be made again from its two numbers. Shared with the test that runs a
//! slice of it (tests/app/fuzz.rs).

use std::io::{Cursor, Read, Write};
use std::path::Path;

/// SplitMix64: small, fast and reproducible; enough to pick mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64, index: u64) -> Rng {
        let mut rng = Rng(seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.next();
        rng
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// One corpus file: its name (the extension matters to the reader) and bytes.
#[derive(Clone)]
pub struct Seed {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The corpus: files under `root` (the repository) and a few made here.
pub fn corpus(root: &Path) -> Vec<Seed> {
    let mut seeds = Vec::new();
    for dir in ["imports/demo", "imports/templates", "tests/fixtures"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        let mut paths: Vec<_> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "xls" | "xlsx" | "ods" | "csv") {
                continue;
            }
            if let Ok(bytes) = std::fs::read(&path) {
                let name = path.file_name().unwrap_or_default().to_string_lossy();
                seeds.push(Seed {
                    name: name.into_owned(),
                    bytes,
                });
            }
        }
    }
    seeds.extend(made_here());
    seeds
}

fn made_here() -> Vec<Seed> {
    let mut seeds = Vec::new();
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let headers = [
        "序号",
        "日期",
        "姓名",
        "村(社区)",
        "学习内容",
        "学时",
        "出勤",
    ];
    let _ = sheet.merge_range(0, 0, 0, 6, "龙凤村2021年学法签到表", &Default::default());
    for (c, h) in headers.iter().enumerate() {
        let _ = sheet.write_string(1, c as u16, *h);
    }
    for r in 0..40u32 {
        let _ = sheet.write_number(r + 2, 0, f64::from(r + 1));
        let _ = sheet.write_number_with_format(r + 2, 1, 44260.0 + f64::from(r % 5), &date);
        let _ = sheet.write_string(r + 2, 2, format!("张{r}"));
        let _ = sheet.write_string(r + 2, 3, "龙凤村");
        let _ = sheet.write_string(r + 2, 4, "宪法学习");
        let _ = sheet.write_number(r + 2, 5, 1.5);
        let _ = sheet.write_string(r + 2, 6, "出勤");
    }
    let _ = sheet.merge_range(42, 0, 42, 4, "合计", &Default::default());
    if let Ok(bytes) = book.save_to_buffer() {
        seeds.push(Seed {
            name: "made.xlsx".into(),
            bytes,
        });
    }
    let csv = "日期,姓名,村(社区),学习内容,学时\n2021-03-05,张三,龙凤村,宪法,1.5\n2021-03-05,李四,石桥村,民法典,2\n";
    seeds.push(Seed {
        name: "made.csv".into(),
        bytes: csv.as_bytes().to_vec(),
    });
    let (gb, _, _) = encoding_rs::GB18030.encode(csv);
    seeds.push(Seed {
        name: "made_gbk.csv".into(),
        bytes: gb.into_owned(),
    });
    seeds
}

/// Numbers that have broken readers: sizes, counts and addresses at their limits.
const HUGE: &[&str] = &[
    "0",
    "-1",
    "65535",
    "65536",
    "1048576",
    "1048577",
    "2147483647",
    "4294967295",
    "4294967296",
    "1000000000000",
    "18446744073709551615",
    "99999999999999999999999",
    "1e308",
    "NaN",
];

/// Attribute edits that ask a reader to lay out or repeat far too much.
const XML_EDITS: &[(&str, &str)] = &[
    ("<dimension ref=\"", "<dimension ref=\"A1:XFD1048576\" x=\""),
    ("<c r=\"", "<c r=\"XFD1048576\" x=\""),
    ("<row r=\"", "<row r=\"1048576\" x=\""),
    ("uniqueCount=\"", "uniqueCount=\"4294967295\" x=\""),
    ("count=\"", "count=\"4294967295\" x=\""),
    ("<mergeCell ref=\"", "<mergeCell ref=\"A1:XFD1048576\" x=\""),
    (
        "<table:table-row",
        "<table:table-row table:number-rows-repeated=\"1048576\"",
    ),
    (
        "<table:table-cell",
        "<table:table-cell table:number-columns-repeated=\"16384\"",
    ),
    (
        "<table:table-cell",
        "<table:table-cell table:number-columns-spanned=\"16384\" table:number-rows-spanned=\"1048576\"",
    ),
    ("encoding=\"UTF-8\"", "encoding=\"UTF-16\""),
    ("encoding=\"UTF-8\"", "encoding=\"GB18030\""),
    ("t=\"s\"", "t=\"d\""),
    ("t=\"s\"", "t=\"inlineStr\""),
    ("<v>", "<v>1e308"),
    ("date1904=\"", "date1904=\"1\" x=\""),
];

fn mutate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>, corpus: &[Seed]) {
    if bytes.is_empty() {
        bytes.push(rng.next() as u8);
        return;
    }
    match rng.below(8) {
        0 | 1 => {
            for _ in 0..1 + rng.below(8) {
                let i = rng.below(bytes.len());
                bytes[i] ^= 1 << rng.below(8);
            }
        }
        2 => {
            let i = rng.below(bytes.len());
            bytes[i] = [0x00, 0xFF, 0x7F, 0x80, 0xFE][rng.below(5)];
        }
        3 => {
            let keep = rng.below(bytes.len());
            bytes.truncate(keep);
        }
        4 => {
            let at = rng.below(bytes.len());
            let len = rng.below(bytes.len() - at + 1).min(4096);
            bytes.drain(at..at + len);
        }
        5 => {
            let at = rng.below(bytes.len());
            let len = rng.below(bytes.len() - at + 1).min(4096);
            let chunk: Vec<u8> = bytes[at..at + len].to_vec();
            let to = rng.below(bytes.len());
            for _ in 0..1 + rng.below(4) {
                bytes.splice(to..to, chunk.iter().copied());
            }
        }
        6 => {
            let other = &corpus[rng.below(corpus.len())].bytes;
            if !other.is_empty() {
                let from = rng.below(other.len());
                let len = rng.below(other.len() - from + 1).min(8192);
                let at = rng.below(bytes.len());
                bytes.splice(at..at, other[from..from + len].iter().copied());
            }
        }
        _ => {
            // A little-endian number somewhere made huge (xls record lengths, row counts).
            let i = rng.below(bytes.len().saturating_sub(4).max(1));
            let value = [0xFFFF_FFFFu32, 0x0001_0000, 0x7FFF_FFFF, 0xFFFF][rng.below(4)];
            for (k, b) in value.to_le_bytes().iter().enumerate() {
                if let Some(slot) = bytes.get_mut(i + k) {
                    *slot = *b;
                }
            }
        }
    }
}

fn mutate_text(rng: &mut Rng, text: &mut Vec<u8>) {
    let s = String::from_utf8_lossy(text).into_owned();
    let out = match rng.below(5) {
        0 => {
            let (from, to) = XML_EDITS[rng.below(XML_EDITS.len())];
            let hits: Vec<usize> = s.match_indices(from).map(|(i, _)| i).collect();
            if hits.is_empty() {
                return;
            }
            let at = hits[rng.below(hits.len())];
            format!("{}{}{}", &s[..at], to, &s[at + from.len()..])
        }
        1 => {
            // A number in the part replaced with one at a limit.
            let digits: Vec<usize> = s
                .char_indices()
                .filter(|(_, c)| c.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            if digits.is_empty() {
                return;
            }
            let at = digits[rng.below(digits.len())];
            let end = s[at..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(s.len(), |n| at + n);
            format!("{}{}{}", &s[..at], HUGE[rng.below(HUGE.len())], &s[end..])
        }
        2 => {
            // Deep nesting just inside the first element that closes.
            let Some(at) = s.find("><").map(|i| i + 1) else {
                return;
            };
            let depth = 1 + rng.below(100_000);
            let mut deep = String::with_capacity(depth * 7);
            for _ in 0..depth {
                deep.push_str("<a>");
            }
            format!("{}{}{}", &s[..at], deep, &s[at..])
        }
        3 => {
            // The part said again many times.
            let times = 2 + rng.below(50);
            s.repeat(times)
        }
        _ => {
            // Re-encoded as UTF-16 with its declaration unchanged.
            let mut utf16 = vec![0xFF, 0xFE];
            for unit in s.encode_utf16() {
                utf16.extend_from_slice(&unit.to_le_bytes());
            }
            *text = utf16;
            return;
        }
    };
    *text = out.into_bytes();
}

/// The entries of a zip container, or `None` when it is not one.
fn entries(bytes: &[u8]) -> Option<Vec<(String, Vec<u8>)>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if archive.len() > 200 {
        return None;
    }
    let mut out = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).ok()?;
        let name = entry.name().ok()?.to_string();
        let mut content = Vec::new();
        entry
            .by_ref()
            .take(8 << 20)
            .read_to_end(&mut content)
            .ok()?;
        out.push((name, content));
    }
    Some(out)
}

fn pack(entries: &[(String, Vec<u8>)]) -> Option<Vec<u8>> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, content) in entries {
        out.start_file(name.as_str(), zip::write::SimpleFileOptions::default())
            .ok()?;
        out.write_all(content).ok()?;
    }
    Some(out.finish().ok()?.into_inner())
}

fn mutate_zip(rng: &mut Rng, bytes: &[u8], corpus: &[Seed]) -> Option<Vec<u8>> {
    let mut parts = entries(bytes)?;
    if parts.is_empty() {
        return None;
    }
    match rng.below(6) {
        0..=2 => {
            // Prefer the parts a reader trusts most: sheets, shared strings, content.
            let xml: Vec<usize> = (0..parts.len())
                .filter(|&i| parts[i].0.ends_with(".xml"))
                .collect();
            let i = if xml.is_empty() || rng.chance(4) {
                rng.below(parts.len())
            } else {
                xml[rng.below(xml.len())]
            };
            mutate_text(rng, &mut parts[i].1);
        }
        3 => {
            let i = rng.below(parts.len());
            mutate_bytes(rng, &mut parts[i].1, corpus);
        }
        4 => {
            // An entry spliced in from another workbook, or one dropped, or one said twice.
            match rng.below(3) {
                0 => {
                    let other = &corpus[rng.below(corpus.len())].bytes;
                    if let Some(mut theirs) = entries(other) {
                        if !theirs.is_empty() {
                            let j = rng.below(theirs.len());
                            let i = rng.below(parts.len());
                            parts[i].1 = std::mem::take(&mut theirs[j].1);
                        }
                    }
                }
                1 => {
                    parts.remove(rng.below(parts.len()));
                }
                _ => {
                    let i = rng.below(parts.len());
                    let twin = parts[i].clone();
                    parts.push((format!("{}x", twin.0), twin.1));
                }
            }
        }
        _ => {
            let i = rng.below(parts.len());
            let n = 1 + rng.below(3);
            for _ in 0..n {
                mutate_text(rng, &mut parts[i].1);
            }
        }
    }
    pack(&parts)
}

/// Input `index` of run `seed`: a corpus file with one to three mutations.
pub fn input(seed: u64, index: u64, corpus: &[Seed]) -> Seed {
    let mut rng = Rng::new(seed, index);
    let base = &corpus[rng.below(corpus.len())];
    let mut bytes = base.bytes.clone();
    for _ in 0..1 + rng.below(3) {
        let zipped = bytes.starts_with(b"PK\x03\x04");
        if zipped && !rng.chance(4) {
            if let Some(mutated) = mutate_zip(&mut rng, &bytes, corpus) {
                bytes = mutated;
                continue;
            }
        }
        if base.name.ends_with(".csv") && rng.chance(2) {
            mutate_text(&mut rng, &mut bytes);
        } else {
            mutate_bytes(&mut rng, &mut bytes, corpus);
        }
    }
    // Now and then the name lies about the content.
    let name = if rng.chance(10) {
        ["x.xls", "x.xlsx", "x.ods", "x.csv"][rng.below(4)].to_string()
    } else {
        base.name.clone()
    };
    Seed { name, bytes }
}

/// Whether a refusal is a message a clerk can read (it says something in Chinese).
pub fn is_chinese(message: &str) -> bool {
    message
        .chars()
        .any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
}
