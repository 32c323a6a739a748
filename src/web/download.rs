//! File downloads: an .xlsx with a Chinese file name that every browser keeps.

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
        // RFC 6266: an ASCII fallback name plus the UTF-8 one, percent-encoded.
        let encoded: String = url::form_urlencoded::byte_serialize(self.file_name.as_bytes())
            .collect::<String>()
            .replace('+', "%20");
        let disposition =
            format!("attachment; filename=\"export.xlsx\"; filename*=UTF-8''{encoded}");
        let xlsx = ContentType::new(
            "application",
            "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        );
        Response::build()
            .header(xlsx)
            .header(Header::new("Content-Disposition", disposition))
            .header(Header::new("Cache-Control", "no-store"))
            .sized_body(self.bytes.len(), Cursor::new(self.bytes))
            .ok()
    }
}
