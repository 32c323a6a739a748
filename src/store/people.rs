//! The registry of people (cadres, 法律明白人, mediators, villagers, …).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::audit::{record_audit, AuditEntry};
use super::{now, on_pool, Db, StoreResult};
use crate::domain::person::{CategoryHolding, PersonDraft};
use crate::domain::Category;

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
    /// `Some` restricts to one village (a clerk's, or a chosen filter).
    pub village_id: Option<i64>,
    pub category: Option<Category>,
    pub active: Option<bool>,
    pub name_contains: Option<String>,
}

const SELECT: &str =
    "SELECT p.id, p.name, p.gender, p.village_id, v.name AS village_name, p.post, p.phone, \
     p.id_number, p.active, p.notes, p.created_at, p.updated_at";
const FROM: &str = "FROM people p LEFT JOIN villages v ON v.id = p.village_id";
const FILTER: &str = "WHERE ($1 IS NULL OR p.village_id = $1) \
     AND ($2 IS NULL OR EXISTS (SELECT 1 FROM person_categories c WHERE c.person_id = p.id AND c.category = $2)) \
     AND ($3 IS NULL OR p.active = $3) \
     AND ($4 IS NULL OR p.name LIKE '%' || $4 || '%')";

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
         {FROM} {FILTER} ORDER BY v.display_order, p.village_id, p.name, p.id LIMIT $5 OFFSET $6"
    );
    let category = filter.category.map(Category::code);
    let rows = on_pool!(db, pool => sqlx::query_as::<_, PersonListRow>(&sql)
        .bind(filter.village_id)
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
    let n = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(&sql)
        .bind(filter.village_id)
        .bind(category)
        .bind(filter.active)
        .bind(filter.name_contains.as_deref())
        .fetch_one(pool)
        .await?);
    Ok(n)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<Person>> {
    let sql = format!("{SELECT} {FROM} WHERE p.id = $1");
    let row = on_pool!(db, pool => sqlx::query_as::<_, Person>(&sql).bind(id).fetch_optional(pool).await?);
    Ok(row)
}

pub async fn categories(db: &Db, person_id: i64) -> StoreResult<Vec<HeldCategory>> {
    const SQL: &str = "SELECT person_id, category, since, until FROM person_categories \
         WHERE person_id = $1 ORDER BY id";
    let rows = on_pool!(db, pool => sqlx::query_as::<_, HeldCategory>(SQL).bind(person_id).fetch_all(pool).await?);
    Ok(rows)
}

/// The person already holding this ID number, if any.
pub async fn find_by_id_number(db: &Db, id_number: &str) -> StoreResult<Option<i64>> {
    const SQL: &str = "SELECT id FROM people WHERE id_number = $1";
    let id = on_pool!(db, pool => sqlx::query_scalar::<_, i64>(SQL).bind(id_number).fetch_optional(pool).await?);
    Ok(id)
}

const INSERT_CATEGORY: &str =
    "INSERT INTO person_categories (person_id, category, since, until) VALUES ($1, $2, $3, $4)";
const DELETE_CATEGORIES: &str = "DELETE FROM person_categories WHERE person_id = $1";

macro_rules! insert_category {
    ($conn:expr, $person_id:expr, $held:expr) => {{
        let held: &CategoryHolding = $held;
        sqlx::query(INSERT_CATEGORY)
            .bind($person_id)
            .bind(held.category.code())
            .bind(held.since)
            .bind(held.until)
            .execute($conn)
            .await?;
    }};
}

pub async fn create(db: &Db, draft: &PersonDraft, by_user: Option<i64>) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO people (name, gender, village_id, post, phone, id_number, active, notes, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $8) RETURNING id";
    let id = on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let id: i64 = sqlx::query_scalar(SQL)
            .bind(&draft.name)
            .bind(draft.gender.map(|g| g.code()))
            .bind(draft.village_id)
            .bind(&draft.post)
            .bind(draft.phone.as_ref().map(|p| p.as_str()))
            .bind(draft.id_number.as_ref().map(|i| i.as_str()))
            .bind(&draft.notes)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
        for held in &draft.categories {
            insert_category!(&mut *tx, id, held);
        }
        record_audit!(&mut *tx, &AuditEntry::new(by_user, "create", "person", id).after(&draft.for_audit()))?;
        tx.commit().await?;
        id
    });
    Ok(id)
}

pub async fn update(
    db: &Db,
    before: &PersonSnapshot,
    draft: &PersonDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE people SET name = $1, gender = $2, village_id = $3, post = $4, phone = $5, \
         id_number = $6, notes = $7, updated_at = $8 WHERE id = $9";
    let id = before.person.id;
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(SQL)
            .bind(&draft.name)
            .bind(draft.gender.map(|g| g.code()))
            .bind(draft.village_id)
            .bind(&draft.post)
            .bind(draft.phone.as_ref().map(|p| p.as_str()))
            .bind(draft.id_number.as_ref().map(|i| i.as_str()))
            .bind(&draft.notes)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(DELETE_CATEGORIES).bind(id).execute(&mut *tx).await?;
        for held in &draft.categories {
            insert_category!(&mut *tx, id, held);
        }
        let entry = AuditEntry::new(by_user, "update", "person", id)
            .before(&before.for_audit())
            .after(&draft.for_audit());
        record_audit!(&mut *tx, &entry)?;
        tx.commit().await?;
    });
    Ok(())
}

pub async fn set_active(db: &Db, id: i64, active: bool, by_user: Option<i64>) -> StoreResult<()> {
    const SQL: &str = "UPDATE people SET active = $1, updated_at = $2 WHERE id = $3";
    let action = if active { "activate" } else { "deactivate" };
    on_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(SQL).bind(active).bind(now()).bind(id).execute(&mut *tx).await?;
        record_audit!(&mut *tx, &AuditEntry::new(by_user, action, "person", id))?;
        tx.commit().await?;
    });
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
