//! Where pufa keeps its files and which database it talks to.

use std::path::{Path, PathBuf};

use base64::Engine;

#[derive(Debug, Clone)]
pub struct AppConfig {
    pub database_url: String,
    pub data_dir: PathBuf,
}

impl AppConfig {
    /// `DATABASE_URL` (or the given override) and `PUFA_DATA_DIR`; with nothing set, a
    /// SQLite file `data/pufa.db` under the working directory.
    pub fn from_env(database_url: Option<String>) -> Self {
        let data_dir = std::env::var_os("PUFA_DATA_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("data"));
        let database_url = database_url
            .or_else(|| std::env::var("DATABASE_URL").ok())
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("pufa.db").display()));
        AppConfig {
            database_url,
            data_dir,
        }
    }
}

/// The key that encrypts login cookies. A release build refuses to start without one, so
/// when none is configured we make one on first start and keep it in the data directory.
pub fn load_or_create_secret_key(data_dir: &Path) -> std::io::Result<String> {
    let path = data_dir.join("secret.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if !existing.is_empty() {
            return Ok(existing);
        }
    }
    create_private_dir(data_dir)?;
    let key = base64::engine::general_purpose::STANDARD.encode(crate::random_bytes::<64>());
    write_private_file(&path, &key)?;
    Ok(key)
}

/// Creates the folder (and any missing parents) readable by the owner only: it holds the
/// database and the secret key. A folder that exists is left as its owner set it.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates an empty file readable by the owner only, unless it exists (a new SQLite
/// database: SQLite gives its journal files the database file's permissions).
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another instance created it at the same moment.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private_file(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_data_folder_and_key_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("a/data");
        load_or_create_secret_key(&data).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&data), 0o700);
        assert_eq!(mode(&data.join("secret.key")), 0o600);
        let db = data.join("pufa.db");
        create_private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn secret_key_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_secret_key(dir.path()).unwrap();
        let second = load_or_create_secret_key(dir.path()).unwrap();
        assert_eq!(first, second);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(&first)
                .unwrap()
                .len(),
            64
        );
    }
}
