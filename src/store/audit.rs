//! The audit log: who changed what, when, with the value before and after (as JSON).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{on_pool, Db, StoreResult, Tx};

const INSERT: &str =
    "INSERT INTO audit_log (at, user_id, action, entity, entity_id, before, after) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub user_id: Option<i64>,
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl AuditEntry {
    pub fn new(
        user_id: Option<i64>,
        action: &'static str,
        entity: &'static str,
        entity_id: i64,
    ) -> Self {
        AuditEntry {
            user_id,
            action,
            entity,
            entity_id: Some(entity_id),
            before: None,
            after: None,
        }
    }

    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_string(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_string(value).ok();
        self
    }
}

/// Writes an audit entry in the transaction, so that it commits or rolls back together
/// with the change it describes.
pub async fn record(tx: &mut Tx, entry: &AuditEntry) -> StoreResult<()> {
    on_pool!(Tx(tx), |conn| {
        sqlx::query(INSERT)
            .bind(super::now())
            .bind(entry.user_id)
            .bind(entry.action)
            .bind(entry.entity)
            .bind(entry.entity_id)
            .bind(entry.before.as_deref())
            .bind(entry.after.as_deref())
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Writes an audit entry on its own (an event that changes nothing else: a log-in).
pub async fn record_alone(db: &Db, entry: &AuditEntry) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    record(&mut tx, entry).await?;
    tx.commit().await
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub async fn for_entity(db: &Db, entity: &str, entity_id: i64) -> StoreResult<Vec<AuditRecord>> {
    const SQL: &str = "SELECT a.id, a.at, a.user_id, u.username, a.action, a.entity, a.entity_id, a.before, a.after \
         FROM audit_log a LEFT JOIN users u ON u.id = a.user_id \
         WHERE a.entity = $1 AND a.entity_id = $2 ORDER BY a.at DESC, a.id DESC";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, AuditRecord>(SQL)
        .bind(entity)
        .bind(entity_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// The audit log page's filter: who, what, and from when to when.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub user_id: Option<i64>,
    /// Entries about this village's records (people, sessions, activities, handouts,
    /// self-study, accounts, import batches), or by its clerks.
    pub village_id: Option<i64>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl AuditFilter {
    const CONDITION: &'static str =
        "($1 IS NULL OR a.user_id = $1) AND ($2 IS NULL OR a.action = $2) \
         AND a.at >= $3 AND a.at < $4 AND ($5 IS NULL OR $5 = CASE a.entity \
           WHEN 'person' THEN (SELECT village_id FROM people WHERE id = a.entity_id) \
           WHEN 'session' THEN (SELECT village_id FROM sessions WHERE id = a.entity_id) \
           WHEN 'activity' THEN (SELECT village_id FROM activities WHERE id = a.entity_id) \
           WHEN 'distribution' THEN (SELECT village_id FROM distributions WHERE id = a.entity_id) \
           WHEN 'self_study' THEN (SELECT p.village_id FROM self_study s JOIN people p ON p.id = s.person_id WHERE s.id = a.entity_id) \
           WHEN 'user' THEN (SELECT village_id FROM users WHERE id = a.entity_id) \
           WHEN 'import_batch' THEN (SELECT village_id FROM import_batches WHERE id = a.entity_id) \
           WHEN 'village' THEN a.entity_id \
           ELSE (SELECT village_id FROM users WHERE id = a.user_id) END)";

    fn params(&self) -> Vec<super::params::Param> {
        let far_past = DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default();
        let far_future = Utc::now() + chrono::Duration::days(365 * 100);
        vec![
            self.user_id.into(),
            self.action.as_deref().into(),
            self.from.unwrap_or(far_past).into(),
            self.to.unwrap_or(far_future).into(),
            self.village_id.into(),
        ]
    }
}

/// One page of the log, newest first.
pub async fn list(
    db: &Db,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<AuditRecord>> {
    use super::params::BindParams;
    let sql = format!(
        "SELECT a.id, a.at, a.user_id, u.username, a.action, a.entity, a.entity_id, a.before, a.after \
         FROM audit_log a LEFT JOIN users u ON u.id = a.user_id WHERE {} \
         ORDER BY a.at DESC, a.id DESC LIMIT $6 OFFSET $7",
        AuditFilter::CONDITION
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, AuditRecord>(&sql)
        .bind_params(&filter.params())
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn count(db: &Db, filter: &AuditFilter) -> StoreResult<i64> {
    use super::params::BindParams;
    let sql = format!(
        "SELECT COUNT(*) FROM audit_log a WHERE {}",
        AuditFilter::CONDITION
    );
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(&sql)
        .bind_params(&filter.params())
        .fetch_one(pool)
        .await?);
    Ok(n)
}

/// The kinds of entry the log holds (the filter's choices).
pub async fn actions(db: &Db) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT DISTINCT action FROM audit_log ORDER BY action";
    let rows = on_pool!(db, |pool| sqlx::query_scalar::<_, String>(SQL)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}
