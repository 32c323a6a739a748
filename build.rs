//! Lists the templates and the demo spreadsheets for `include_str!`/`include_bytes!`, so the
//! release binary carries them and runs from any directory.

use std::fmt::Write;
use std::path::{Path, PathBuf};

fn files_under(dir: &Path, extensions: &[&str], found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, extensions, found);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| extensions.contains(&e))
        {
            found.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let mut out = String::new();
    for (name, dir, extensions, kind) in [
        ("TEMPLATES", "templates", &["tera"][..], "str"),
        (
            "DEMO_FILES",
            "imports/demo",
            &["xls", "xlsx", "ods", "csv"][..],
            "[u8]",
        ),
    ] {
        let base = root.join(dir);
        println!("cargo:rerun-if-changed={}", base.display());
        let mut files = Vec::new();
        files_under(&base, extensions, &mut files);
        files.sort();
        let include = if kind == "str" {
            "include_str"
        } else {
            "include_bytes"
        };
        writeln!(out, "pub static {name}: &[(&str, &{kind})] = &[").expect("string");
        for file in files {
            println!("cargo:rerun-if-changed={}", file.display());
            let relative = file
                .strip_prefix(&base)
                .expect("under base")
                .to_string_lossy()
                .replace('\\', "/");
            writeln!(
                out,
                "    ({relative:?}, {include}!({:?})),",
                file.display().to_string()
            )
            .expect("string");
        }
        writeln!(out, "];").expect("string");
    }
    let target =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("embedded.rs");
    std::fs::write(target, out).expect("OUT_DIR is writable");
}
