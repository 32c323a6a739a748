//! Files compiled into the binary (listed by build.rs): the page templates and the demo
//! township's spreadsheets. The templates are written out to a folder of their own at start,
//! because the template engine loads them from a directory.

use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

include!(concat!(env!("OUT_DIR"), "/embedded.rs"));

/// The folder the pages' templates are read from: `PUFA_TEMPLATE_DIR` when set; in a debug
/// build run from the repository, its `templates/` (edits show without a rebuild);
/// otherwise a copy of the compiled-in templates in the system's temporary folder.
pub fn template_dir() -> io::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PUFA_TEMPLATE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    if cfg!(debug_assertions) && Path::new("templates/base.html.tera").is_file() {
        return Ok(PathBuf::from("templates"));
    }
    write_templates(&std::env::temp_dir())
}

/// Writes the compiled-in templates under `parent`, in a folder named by their content, so
/// that two versions of pufa never read each other's; returns that folder.
pub fn write_templates(parent: &Path) -> io::Result<PathBuf> {
    let mut digest = Sha256::new();
    for (name, text) in TEMPLATES {
        digest.update(name.as_bytes());
        digest.update(text.as_bytes());
    }
    let hash: String = digest.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let dir = parent.join(format!("pufa-templates-{hash}"));
    for (name, text) in TEMPLATES {
        let path = dir.join(name);
        if std::fs::read(&path).is_ok_and(|stored| stored == text.as_bytes()) {
            continue;
        }
        if let Some(folder) = path.parent() {
            std::fs::create_dir_all(folder)?;
        }
        // Written aside and renamed, so a second process starting at the same time never
        // reads half a file.
        let partial = path.with_extension(format!("part{}", std::process::id()));
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, &path)?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_and_demo_file_is_compiled_in() {
        assert!(TEMPLATES.iter().any(|(name, _)| *name == "base.html.tera"));
        assert!(TEMPLATES
            .iter()
            .any(|(name, _)| *name == "sessions/list.html.tera"));
        assert!(DEMO_FILES.len() >= 30, "{}", DEMO_FILES.len());
        assert!(DEMO_FILES
            .iter()
            .all(|(name, bytes)| name.ends_with(".xls") && !bytes.is_empty()));
    }

    #[test]
    fn templates_are_written_once_under_a_content_named_folder() {
        let parent = tempfile::tempdir().unwrap();
        let dir = write_templates(parent.path()).unwrap();
        assert!(dir.join("base.html.tera").is_file());
        assert!(dir.join("sessions/list.html.tera").is_file());
        assert_eq!(write_templates(parent.path()).unwrap(), dir);
    }
}
