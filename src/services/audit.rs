//! The audit log as an admin reads it, and the entries no other change writes: downloads of
//! workbooks and documents (which carry personal data).

use super::{Actor, ServiceResult};
use crate::store::audit::{self, AuditEntry};
pub use crate::store::audit::{AuditFilter, AuditRecord};
use crate::store::Db;

pub const PAGE_SIZE: i64 = 100;

pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    /// The kinds of entry, for the filter.
    pub actions: Vec<String>,
}

/// One page of the log (admins only).
pub async fn audit_log(
    db: &Db,
    actor: &Actor,
    filter: &AuditFilter,
    page: i64,
) -> ServiceResult<AuditPage> {
    actor.require(actor.role.can_administer())?;
    let total = audit::count(db, filter).await?;
    let pages = ((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let page = page.clamp(1, pages);
    let records = audit::list(db, filter, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    Ok(AuditPage {
        records,
        total,
        page,
        pages,
        actions: audit::actions(db).await?,
    })
}

/// Who downloaded which file, from which address (the address it was asked at).
pub async fn record_download(
    db: &Db,
    actor: &Actor,
    file_name: &str,
    path: &str,
) -> ServiceResult<()> {
    let entry = AuditEntry {
        user_id: actor.user_id,
        action: "download",
        entity: "file",
        entity_id: None,
        before: None,
        after: serde_json::to_string(&serde_json::json!({ "file": file_name, "path": path })).ok(),
    };
    Ok(audit::record_alone(db, &entry).await?)
}
