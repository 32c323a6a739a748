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
