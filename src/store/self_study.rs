//! Self-study records (自学): one row per person, day and thing studied, with its hours.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::params::{scope_params, village_condition, BindParams, Param};
use super::{now, on_pool, Db, StoreResult, Tx};
use crate::domain::dates::Period;
use crate::domain::self_study::{SelfStudyDraft, StudyForm};
use crate::domain::VillageScope;

/// The stored columns of a record, as the form or an import writes them (and as an
/// import's undo restores them); `form` is the stored code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelfStudyRecord {
    pub person_id: i64,
    pub studied_on: NaiveDate,
    pub content: String,
    pub form: String,
    pub hours: f64,
    pub notes: String,
}

impl From<&SelfStudyDraft> for SelfStudyRecord {
    fn from(draft: &SelfStudyDraft) -> Self {
        SelfStudyRecord {
            person_id: draft.person_id,
            studied_on: draft.studied_on,
            content: draft.content.clone(),
            form: draft.form.code().to_string(),
            hours: draft.hours,
            notes: draft.notes.clone(),
        }
    }
}

/// The values of the columns `insert` and `overwrite` both write, in their order.
fn columns(record: &SelfStudyRecord) -> Vec<Param> {
    vec![
        record.person_id.into(),
        record.studied_on.into(),
        record.content.as_str().into(),
        record.form.as_str().into(),
        record.hours.into(),
        record.notes.as_str().into(),
    ]
}

/// Inserts a record; `import` names the importing batch and the row's key.
pub async fn insert(
    tx: &mut Tx,
    record: &SelfStudyRecord,
    import: Option<(i64, &str)>,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    const SQL: &str =
        "INSERT INTO self_study (person_id, studied_on, content, form, hours, notes, \
         import_key, import_batch_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id";
    let id = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
        .bind_params(&columns(record))
        .bind(import.map(|(_, key)| key))
        .bind(import.map(|(batch_id, _)| batch_id))
        .bind(by_user)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    Ok(id)
}

pub async fn overwrite(tx: &mut Tx, id: i64, record: &SelfStudyRecord) -> StoreResult<()> {
    const SQL: &str =
        "UPDATE self_study SET person_id = $1, studied_on = $2, content = $3, form = $4, \
         hours = $5, notes = $6, updated_at = $7 WHERE id = $8";
    on_pool!(Tx(tx), |conn| {
        sqlx::query(SQL)
            .bind_params(&columns(record))
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

pub async fn delete(tx: &mut Tx, id: i64) -> StoreResult<()> {
    on_pool!(Tx(tx), |conn| {
        sqlx::query("DELETE FROM self_study WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// A record as lists and the person page show it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct SelfStudyRow {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub studied_on: NaiveDate,
    pub content: String,
    #[sqlx(try_from = "String")]
    pub form: StudyForm,
    pub hours: f64,
    pub notes: String,
    pub import_batch_id: Option<i64>,
}

const SELECT: &str = "SELECT s.id, s.person_id, p.name AS person_name, p.village_id, v.name AS village_name, \
     s.studied_on, s.content, s.form, s.hours, s.notes, s.import_batch_id \
     FROM self_study s JOIN people p ON p.id = s.person_id LEFT JOIN villages v ON v.id = p.village_id";

/// Which records a list shows: a period, the people of a village (by the person's village),
/// optionally one person.
#[derive(Debug, Clone)]
pub struct SelfStudyFilter {
    pub period: Period,
    pub village: VillageScope,
    pub person_id: Option<i64>,
}

impl SelfStudyFilter {
    fn condition() -> String {
        format!(
            "s.studied_on >= $1 AND s.studied_on < $2 AND {} AND ($5 IS NULL OR s.person_id = $5)",
            village_condition("p.village_id", 3)
        )
    }

    fn params(&self) -> Vec<Param> {
        let [scope, village] = scope_params(self.village);
        vec![
            self.period.from.into(),
            self.period.to.into(),
            scope,
            village,
            self.person_id.into(),
        ]
    }
}

pub async fn list(
    db: &Db,
    filter: &SelfStudyFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<SelfStudyRow>> {
    let sql = format!(
        "{SELECT} WHERE {} ORDER BY s.studied_on DESC, s.id DESC LIMIT $6 OFFSET $7",
        SelfStudyFilter::condition()
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, SelfStudyRow>(&sql)
        .bind_params(&filter.params())
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Over the whole filtered list: (records, hours, distinct people).
pub async fn totals(db: &Db, filter: &SelfStudyFilter) -> StoreResult<(i64, f64, i64)> {
    let sql = format!(
        "SELECT COUNT(*), CAST(COALESCE(SUM(s.hours), 0) AS DOUBLE PRECISION), COUNT(DISTINCT s.person_id) \
         FROM self_study s JOIN people p ON p.id = s.person_id WHERE {}",
        SelfStudyFilter::condition()
    );
    let row = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind_params(&filter.params())
        .fetch_one(pool)
        .await?);
    Ok(row)
}

/// Hours per person's village over the period: (village id, hours, people).
pub async fn by_village(db: &Db, period: Period) -> StoreResult<Vec<(Option<i64>, f64, i64)>> {
    const SQL: &str = "SELECT p.village_id, CAST(COALESCE(SUM(s.hours), 0) AS DOUBLE PRECISION), \
         COUNT(DISTINCT s.person_id) FROM self_study s JOIN people p ON p.id = s.person_id \
         WHERE s.studied_on >= $1 AND s.studied_on < $2 GROUP BY p.village_id";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(period.from)
        .bind(period.to)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<SelfStudyRow>> {
    let sql = format!("{SELECT} WHERE s.id = $1");
    let row = on_pool!(db, |pool| sqlx::query_as::<_, SelfStudyRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// A record an earlier import wrote, found again by its key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportedSelfStudy {
    pub id: i64,
    pub import_key: String,
    pub person_id: i64,
    pub studied_on: NaiveDate,
    pub content: String,
    pub form: String,
    pub hours: f64,
    pub notes: String,
}

impl ImportedSelfStudy {
    pub fn record(&self) -> SelfStudyRecord {
        SelfStudyRecord {
            person_id: self.person_id,
            studied_on: self.studied_on,
            content: self.content.clone(),
            form: self.form.clone(),
            hours: self.hours,
            notes: self.notes.clone(),
        }
    }
}

pub async fn imported(db: &Db) -> StoreResult<Vec<ImportedSelfStudy>> {
    const SQL: &str = "SELECT id, import_key, person_id, studied_on, content, form, hours, notes \
         FROM self_study WHERE import_key IS NOT NULL";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, ImportedSelfStudy>(SQL)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Active people a record can be entered for, in the village (or all): (id, name, village).
pub async fn people_choices(
    db: &Db,
    scope: VillageScope,
) -> StoreResult<Vec<(i64, String, Option<String>)>> {
    let sql = format!(
        "SELECT p.id, p.name, v.name FROM people p LEFT JOIN villages v ON v.id = p.village_id \
         WHERE p.active = TRUE AND {} ORDER BY v.display_order, v.name, p.name, p.id",
        village_condition("p.village_id", 1)
    );
    let rows = on_pool!(db, |pool| sqlx::query_as(&sql)
        .bind_params(&scope_params(scope))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}
