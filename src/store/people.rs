//! The registry of people (cadres, 法律明白人, mediators, villagers, …).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditEntry};
use super::params::{insert_returning_ids, values_rows, BindParams, Param};
use super::{now, on_pool, Db, StoreResult, Tx};
use crate::domain::person::{CategoryHolding, PersonDraft};
use crate::domain::{Category, VillageScope};

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Person {
    pub id: i64,
    pub name: String,
    pub gender: Option<String>,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub post: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub active: bool,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct HeldCategory {
    pub person_id: i64,
    #[sqlx(try_from = "String")]
    pub category: Category,
    pub since: Option<NaiveDate>,
    pub until: Option<NaiveDate>,
}

/// One line of the people list: the person and their categories as stored codes.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct PersonListRow {
    #[sqlx(flatten)]
    pub person: Person,
    pub category_codes: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// A clerk's village, or a chosen filter.
    pub village: VillageScope,
    pub category: Option<Category>,
    pub active: Option<bool>,
    pub name_contains: Option<String>,
}

const SELECT: &str =
    "SELECT p.id, p.name, p.gender, p.village_id, v.name AS village_name, p.post, p.phone, \
     p.id_number, p.active, p.notes, p.created_at, p.updated_at";
const FROM: &str = "FROM people p LEFT JOIN villages v ON v.id = p.village_id";
const FILTER: &str = "WHERE ($1 = 'any' OR ($1 = 'township' AND p.village_id IS NULL) OR ($1 = 'village' AND p.village_id = $2)) \
     AND ($3 IS NULL OR EXISTS (SELECT 1 FROM person_categories c WHERE c.person_id = p.id AND c.category = $3)) \
     AND ($4 IS NULL OR p.active = $4) \
     AND ($5 IS NULL OR p.name LIKE '%' || $5 || '%')";

pub async fn list(
    db: &Db,
    filter: &PersonFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<PersonListRow>> {
    // The one place where the two backends differ: the name of the string aggregate.
    let aggregate = match db {
        Db::Sqlite(_) => "group_concat(c.category, ',')",
        Db::Postgres(_) => "string_agg(c.category, ',')",
    };
    let sql = format!(
        "{SELECT}, (SELECT {aggregate} FROM person_categories c WHERE c.person_id = p.id) AS category_codes \
         {FROM} {FILTER} ORDER BY v.display_order, p.village_id, p.name, p.id LIMIT $6 OFFSET $7"
    );
    let category = filter.category.map(Category::code);
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, PersonListRow>(&sql)
        .bind(filter.village.code())
        .bind(filter.village.village())
        .bind(category)
        .bind(filter.active)
        .bind(filter.name_contains.as_deref())
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn count(db: &Db, filter: &PersonFilter) -> StoreResult<i64> {
    let sql = format!("SELECT COUNT(*) {FROM} {FILTER}");
    let category = filter.category.map(Category::code);
    let n = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(&sql)
        .bind(filter.village.code())
        .bind(filter.village.village())
        .bind(category)
        .bind(filter.active)
        .bind(filter.name_contains.as_deref())
        .fetch_one(pool)
        .await?);
    Ok(n)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<Person>> {
    let sql = format!("{SELECT} {FROM} WHERE p.id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Person>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

pub async fn categories(db: &Db, person_id: i64) -> StoreResult<Vec<HeldCategory>> {
    const SQL: &str = "SELECT person_id, category, since, until FROM person_categories \
         WHERE person_id = $1 ORDER BY id";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, HeldCategory>(SQL)
        .bind(person_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// The person already holding this ID number, if any.
pub async fn find_by_id_number(db: &Db, id_number: &str) -> StoreResult<Option<i64>> {
    const SQL: &str = "SELECT id FROM people WHERE id_number = $1";
    let id = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
        .bind(id_number)
        .fetch_optional(pool)
        .await?);
    Ok(id)
}

/// People of this village (`None`: the township organ) with exactly this name.
pub async fn named_in_village(
    db: &Db,
    village_id: Option<i64>,
    name: &str,
) -> StoreResult<Vec<Person>> {
    let sql = format!(
        "{SELECT} {FROM} WHERE p.name = $1 \
         AND (p.village_id = $2 OR (p.village_id IS NULL AND $2 IS NULL)) ORDER BY p.id"
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Person>(&sql)
        .bind(name)
        .bind(village_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// The stored columns of a person, as a form or an import writes them (and as an import's
/// undo restores them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonRecord {
    pub name: String,
    pub gender: Option<String>,
    pub village_id: Option<i64>,
    pub post: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub notes: String,
    pub categories: Vec<(Category, Option<NaiveDate>, Option<NaiveDate>)>,
}

impl PersonRecord {
    pub fn holdings(&self) -> Vec<CategoryHolding> {
        self.categories
            .iter()
            .map(|(category, since, until)| CategoryHolding {
                category: *category,
                since: *since,
                until: *until,
            })
            .collect()
    }
}

impl From<&PersonDraft> for PersonRecord {
    fn from(draft: &PersonDraft) -> Self {
        PersonRecord {
            name: draft.name.clone(),
            gender: draft.gender.map(|g| g.code().to_string()),
            village_id: draft.village_id,
            post: draft.post.clone(),
            phone: draft.phone.as_ref().map(|p| p.as_str().to_string()),
            id_number: draft.id_number.as_ref().map(|i| i.as_str().to_string()),
            notes: draft.notes.clone(),
            categories: draft
                .categories
                .iter()
                .map(|held| (held.category, held.since, held.until))
                .collect(),
        }
    }
}

/// The values of the columns `insert` and `overwrite` both write, in their order.
fn columns(person: &PersonRecord) -> Vec<Param> {
    vec![
        person.name.as_str().into(),
        person.gender.as_deref().into(),
        person.village_id.into(),
        person.post.as_str().into(),
        person.phone.as_deref().into(),
        person.id_number.as_deref().into(),
        person.notes.as_str().into(),
    ]
}

/// Inserts a person with their categories; `batch_id` marks what an import created.
pub async fn insert(tx: &mut Tx, person: &PersonRecord, batch_id: Option<i64>) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO people (name, gender, village_id, post, phone, id_number, active, notes, \
         import_batch_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $9, $9) RETURNING id";
    let id: i64 = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
        .bind_params(&columns(person))
        .bind(batch_id)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    insert_categories(tx, id, person, batch_id).await?;
    Ok(id)
}

/// People per multi-row INSERT (10 parameters each).
pub const INSERT_CHUNK: usize = 500;

/// Inserts an import's new people and their categories, a statement or two per
/// `INSERT_CHUNK` people; returns their ids in order.
pub async fn insert_many(
    tx: &mut Tx,
    people: &[&PersonRecord],
    batch_id: Option<i64>,
) -> StoreResult<Vec<i64>> {
    let sqlite = matches!(tx, Tx::Sqlite(_));
    let at = now();
    let mut ids = Vec::with_capacity(people.len());
    for chunk in people.chunks(INSERT_CHUNK) {
        let sql = format!(
            "INSERT INTO people (name, gender, village_id, post, phone, id_number, active, notes, \
             import_batch_id, created_at, updated_at) VALUES {} RETURNING id",
            values_rows(sqlite, chunk.len(), "(?, ?, ?, ?, ?, ?, TRUE, ?, ?, ?, ?)")
        );
        let params: Vec<Param> = chunk
            .iter()
            .flat_map(|person| {
                let mut row = columns(person);
                row.extend([batch_id.into(), at.into(), at.into()]);
                row
            })
            .collect();
        let chunk_ids = insert_returning_ids(tx, &sql, &params, chunk.len()).await?;
        let categories: Vec<Param> = chunk
            .iter()
            .zip(&chunk_ids)
            .flat_map(|(person, id)| {
                person
                    .categories
                    .iter()
                    .flat_map(move |(category, since, until)| {
                        [
                            Param::from(*id),
                            category.code().into(),
                            (*since).into(),
                            (*until).into(),
                            batch_id.into(),
                        ]
                    })
            })
            .collect();
        if !categories.is_empty() {
            let sql = format!(
                "INSERT INTO person_categories (person_id, category, since, until, import_batch_id) \
                 VALUES {}",
                values_rows(sqlite, categories.len() / 5, "(?, ?, ?, ?, ?)")
            );
            on_pool!(Tx(tx), |conn| {
                sqlx::query(&sql)
                    .bind_params(&categories)
                    .execute(&mut *conn)
                    .await?;
            });
        }
        ids.extend(chunk_ids);
    }
    Ok(ids)
}

/// Writes new values over a person and replaces their categories.
pub async fn overwrite(
    tx: &mut Tx,
    id: i64,
    person: &PersonRecord,
    batch_id: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE people SET name = $1, gender = $2, village_id = $3, post = $4, phone = $5, \
         id_number = $6, notes = $7, updated_at = $8 WHERE id = $9";
    const DELETE_CATEGORIES: &str = "DELETE FROM person_categories WHERE person_id = $1";
    on_pool!(Tx(tx), |conn| {
        sqlx::query(SQL)
            .bind_params(&columns(person))
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(DELETE_CATEGORIES)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    insert_categories(tx, id, person, batch_id).await
}

async fn insert_categories(
    tx: &mut Tx,
    person_id: i64,
    person: &PersonRecord,
    batch_id: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str =
        "INSERT INTO person_categories (person_id, category, since, until, import_batch_id) \
         VALUES ($1, $2, $3, $4, $5)";
    for (category, since, until) in &person.categories {
        on_pool!(Tx(tx), |conn| {
            sqlx::query(SQL)
                .bind(person_id)
                .bind(category.code())
                .bind(since)
                .bind(until)
                .bind(batch_id)
                .execute(&mut *conn)
                .await?;
        });
    }
    Ok(())
}

pub async fn create(db: &Db, draft: &PersonDraft, by_user: Option<i64>) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, &PersonRecord::from(draft), None).await?;
    let entry = AuditEntry::new(by_user, "create", "person", id).after(&draft.for_audit());
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(
    db: &Db,
    before: &PersonSnapshot,
    draft: &PersonDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let id = before.person.id;
    let mut tx = db.begin().await?;
    overwrite(&mut tx, id, &PersonRecord::from(draft), None).await?;
    let entry = AuditEntry::new(by_user, "update", "person", id)
        .before(&before.for_audit())
        .after(&draft.for_audit());
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn set_active(db: &Db, id: i64, active: bool, by_user: Option<i64>) -> StoreResult<()> {
    const SQL: &str = "UPDATE people SET active = $1, updated_at = $2 WHERE id = $3";
    let action = if active { "activate" } else { "deactivate" };
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query(SQL)
            .bind(active)
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    audit::record(&mut tx, &AuditEntry::new(by_user, action, "person", id)).await?;
    tx.commit().await?;
    Ok(())
}

/// A person with their categories, as loaded before an edit.
#[derive(Debug, Clone, Serialize)]
pub struct PersonSnapshot {
    pub person: Person,
    pub categories: Vec<HeldCategory>,
}

impl PersonSnapshot {
    /// The audit log keeps ID numbers masked, like every other place that shows them.
    fn for_audit(&self) -> serde_json::Value {
        let mut person = self.person.clone();
        person.id_number = person
            .id_number
            .as_deref()
            .map(crate::domain::id_number::mask);
        serde_json::json!({ "person": person, "categories": self.categories })
    }
}

pub async fn snapshot(db: &Db, id: i64) -> StoreResult<Option<PersonSnapshot>> {
    let Some(person) = get(db, id).await? else {
        return Ok(None);
    };
    let categories = categories(db, id).await?;
    Ok(Some(PersonSnapshot { person, categories }))
}
