//! What the planner matches rows with, each loaded with one query per upload.

use std::collections::HashMap;

use chrono::NaiveDate;

use crate::domain::Category;
use crate::store::people::PersonRecord;
use crate::store::{on_pool, Db, StoreResult};

#[derive(sqlx::FromRow)]
struct StoredPerson {
    id: i64,
    name: String,
    gender: Option<String>,
    village_id: Option<i64>,
    post: String,
    phone: Option<String>,
    id_number: Option<String>,
    notes: String,
}

#[derive(sqlx::FromRow)]
struct StoredHolding {
    person_id: i64,
    #[sqlx(try_from = "String")]
    category: Category,
    since: Option<NaiveDate>,
    until: Option<NaiveDate>,
}

/// Every person's stored columns and categories, by id: what a re-uploaded roster row is
/// compared with, in two queries instead of one per row.
pub async fn person_records(db: &Db) -> StoreResult<HashMap<i64, PersonRecord>> {
    const PEOPLE: &str =
        "SELECT id, name, gender, village_id, post, phone, id_number, notes FROM people";
    const HOLDINGS: &str =
        "SELECT person_id, category, since, until FROM person_categories ORDER BY id";
    let people: Vec<StoredPerson> =
        on_pool!(db, |pool| sqlx::query_as(PEOPLE).fetch_all(pool).await?);
    let holdings: Vec<StoredHolding> =
        on_pool!(db, |pool| sqlx::query_as(HOLDINGS).fetch_all(pool).await?);
    let mut records: HashMap<i64, PersonRecord> = people
        .into_iter()
        .map(|p| {
            let record = PersonRecord {
                name: p.name,
                gender: p.gender,
                village_id: p.village_id,
                post: p.post,
                phone: p.phone,
                id_number: p.id_number,
                notes: p.notes,
                categories: Vec::new(),
            };
            (p.id, record)
        })
        .collect();
    for h in holdings {
        if let Some(record) = records.get_mut(&h.person_id) {
            record.categories.push((h.category, h.since, h.until));
        }
    }
    Ok(records)
}

/// A person as the planner matches rows to them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonKey {
    pub id: i64,
    pub village_id: Option<i64>,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// Everyone in the registry, for matching rows to people without a query per row.
pub async fn people_index(db: &Db) -> StoreResult<Vec<PersonKey>> {
    const SQL: &str = "SELECT id, village_id, name, phone, id_number FROM people ORDER BY id";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// A session as the planner finds it by date and topic.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionKey {
    pub id: i64,
    pub starts_at: chrono::NaiveDateTime,
    pub topic: String,
    pub village_id: Option<i64>,
    pub hours_credited: f64,
}

/// Sessions starting in [from, to).
pub async fn sessions_index(
    db: &Db,
    from: chrono::NaiveDateTime,
    to: chrono::NaiveDateTime,
) -> StoreResult<Vec<SessionKey>> {
    const SQL: &str = "SELECT id, starts_at, topic, village_id, hours_credited FROM sessions \
         WHERE starts_at >= $1 AND starts_at < $2 ORDER BY id";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// A stored attendance row of a session.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredMark {
    pub id: i64,
    pub person_id: i64,
    pub status: String,
    pub hours_credited: f64,
}

pub async fn attendance_of(db: &Db, session_id: i64) -> StoreResult<Vec<StoredMark>> {
    const SQL: &str =
        "SELECT id, person_id, status, hours_credited FROM attendance WHERE session_id = $1";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(session_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// A distribution an earlier import created, found again by its key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportedDistribution {
    pub import_key: String,
    pub id: i64,
    pub material_id: i64,
    pub distributed_on: NaiveDate,
    pub village_id: Option<i64>,
    pub quantity: i64,
    pub recipients: String,
    pub place: String,
    pub handled_by: String,
    pub activity_id: Option<i64>,
    pub notes: String,
}

pub async fn distribution_keys(db: &Db) -> StoreResult<Vec<ImportedDistribution>> {
    const SQL: &str = "SELECT import_key, id, material_id, distributed_on, village_id, quantity, recipients, place, \
         handled_by, activity_id, notes FROM distributions WHERE import_key IS NOT NULL";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// An activity an earlier import created, found again by its key (groups loaded apart).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportedActivity {
    pub import_key: String,
    pub id: i64,
    pub held_on: NaiveDate,
    pub village_id: Option<i64>,
    pub topic: String,
    pub form: String,
    pub place: Option<String>,
    pub audience_count: i64,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
}

pub async fn activity_keys(db: &Db) -> StoreResult<Vec<ImportedActivity>> {
    const SQL: &str = "SELECT import_key, id, held_on, village_id, topic, form, place, audience_count, speaker, venue, notes \
         FROM activities WHERE import_key IS NOT NULL";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}

/// Audience groups of every imported activity: (activity id, group code), in one query.
pub async fn imported_audience_groups(db: &Db) -> StoreResult<Vec<(i64, String)>> {
    const SQL: &str = "SELECT g.activity_id, g.audience_group FROM activity_audience_groups g \
         JOIN activities a ON a.id = g.activity_id WHERE a.import_key IS NOT NULL ORDER BY g.audience_group";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL).fetch_all(pool).await?);
    Ok(rows)
}
