//! File downloads: an .xlsx or .docx with a Chinese file name that every browser keeps.

use std::io::Cursor;

use rocket::http::{ContentType, Header};
use rocket::request::Request;
use rocket::response::{self, Responder, Response};

pub struct XlsxDownload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl<'r> Responder<'r, 'static> for XlsxDownload {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let xlsx = ContentType::new(
            "application",
            "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        );
        attachment(self.file_name, "export.xlsx", xlsx, self.bytes)
    }
}

/// A Word document (the annual report).
pub struct DocxDownload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl<'r> Responder<'r, 'static> for DocxDownload {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let docx = ContentType::new(
            "application",
            "vnd.openxmlformats-officedocument.wordprocessingml.document",
        );
        attachment(self.file_name, "report.docx", docx, self.bytes)
    }
}

fn attachment(
    file_name: String,
    fallback: &str,
    content_type: ContentType,
    bytes: Vec<u8>,
) -> response::Result<'static> {
    // RFC 6266: an ASCII fallback name plus the UTF-8 one, percent-encoded.
    let encoded: String = url::form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let disposition = format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}");
    Response::build()
        .header(content_type)
        .header(Header::new("Content-Disposition", disposition))
        .header(Header::new("Cache-Control", "no-store"))
        .sized_body(bytes.len(), Cursor::new(bytes))
        .ok()
}

/// A backup file (a SQLite database), streamed from a file that is already unlinked: it
/// is gone from the disk once the download ends, however it ends.
pub struct BackupDownload {
    pub file_name: String,
    pub file: tokio::fs::File,
    pub size: u64,
}

impl<'r> Responder<'r, 'static> for BackupDownload {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let disposition = format!("attachment; filename=\"{}\"", self.file_name);
        Response::build()
            .header(ContentType::new("application", "vnd.sqlite3"))
            .header(Header::new("Content-Disposition", disposition))
            .header(Header::new("Cache-Control", "no-store"))
            .sized_body(usize::try_from(self.size).ok(), self.file)
            .ok()
    }
}
