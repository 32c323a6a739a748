//! Parameters shared by several queries (a list's filter bound to its rows, its count and
//! its subtotals), bound in order on either backend's query types without a macro.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Database, Encode, Type};

use crate::domain::VillageScope;

/// One bound value.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(Option<i64>),
    Real(f64),
    Text(Option<String>),
    Bool(bool),
    Date(Option<NaiveDate>),
    DateTime(NaiveDateTime),
    Instant(DateTime<Utc>),
}

impl From<i64> for Param {
    fn from(v: i64) -> Self {
        Param::Int(Some(v))
    }
}

impl From<Option<i64>> for Param {
    fn from(v: Option<i64>) -> Self {
        Param::Int(v)
    }
}

impl From<f64> for Param {
    fn from(v: f64) -> Self {
        Param::Real(v)
    }
}

impl From<bool> for Param {
    fn from(v: bool) -> Self {
        Param::Bool(v)
    }
}

impl From<Option<&str>> for Param {
    fn from(v: Option<&str>) -> Self {
        Param::Text(v.map(str::to_string))
    }
}

impl From<&str> for Param {
    fn from(v: &str) -> Self {
        Param::Text(Some(v.to_string()))
    }
}

impl From<NaiveDate> for Param {
    fn from(v: NaiveDate) -> Self {
        Param::Date(Some(v))
    }
}

impl From<Option<NaiveDate>> for Param {
    fn from(v: Option<NaiveDate>) -> Self {
        Param::Date(v)
    }
}

impl From<NaiveDateTime> for Param {
    fn from(v: NaiveDateTime) -> Self {
        Param::DateTime(v)
    }
}

impl From<DateTime<Utc>> for Param {
    fn from(v: DateTime<Utc>) -> Self {
        Param::Instant(v)
    }
}

/// `column` in `scope`, as a condition on the parameters $n (the scope's code) and $n+1
/// (its village); bind them with `scope_params`.
pub fn village_condition(column: &str, n: usize) -> String {
    format!(
        "(${n} = 'any' OR (${n} = 'township' AND {column} IS NULL) OR {column} = ${})",
        n + 1
    )
}

/// `rows` copies of the tuple `row`, whose parameters are written `?`, for a multi-row
/// INSERT: numbered `$1, $2, …` across the rows for PostgreSQL, left anonymous for SQLite
/// (for numbered parameters sqlx looks each one's name up, and SQLite finds a name by
/// walking its list of them: binding a statement of thousands of parameters was quadratic,
/// 35 % of a 100,000-row import in perf).
pub fn values_rows(sqlite: bool, rows: usize, row: &str) -> String {
    let mut sql = String::with_capacity(rows * (row.len() + 16));
    let mut n = 0;
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        if sqlite {
            sql.push_str(row);
            continue;
        }
        for part in row.split_inclusive('?') {
            match part.strip_suffix('?') {
                Some(before) => {
                    n += 1;
                    sql.push_str(before);
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                None => sql.push_str(part),
            }
        }
    }
    sql
}

/// Runs a multi-row `INSERT … RETURNING id` and gives the ids in the order of its rows.
/// Both backends insert the rows of a VALUES list in order and number them upwards (a
/// PostgreSQL sequence hands out increasing values even with other writers between them),
/// so the ids sorted are the rows' ids in order; the count is checked.
pub async fn insert_returning_ids(
    tx: &mut super::Tx,
    sql: &str,
    params: &[Param],
    rows: usize,
) -> super::StoreResult<Vec<i64>> {
    let mut ids: Vec<i64> = super::on_pool!(Tx(tx), |conn| sqlx::query_scalar(sql)
        .bind_params(params)
        .fetch_all(&mut *conn)
        .await?);
    if ids.len() != rows {
        return Err(super::StoreError::Sql(sqlx::Error::RowNotFound));
    }
    ids.sort_unstable();
    Ok(ids)
}

/// The two values of `village_condition`.
pub fn scope_params(scope: VillageScope) -> [Param; 2] {
    [scope.code().into(), scope.village().into()]
}

/// Binds a list of `Param`s, in order, after whatever the query already has bound.
pub trait BindParams: Sized {
    fn bind_params(self, params: &[Param]) -> Self;
}

// sqlx has three query types with the same `bind`; each gets the same seven arms.

impl<'q, DB> BindParams for Query<'q, DB, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
    NaiveDateTime: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    fn bind_params(self, params: &[Param]) -> Self {
        params.iter().fold(self, |q, p| match p.clone() {
            Param::Int(v) => q.bind(v),
            Param::Real(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
            Param::Bool(v) => q.bind(v),
            Param::Date(v) => q.bind(v),
            Param::DateTime(v) => q.bind(v),
            Param::Instant(v) => q.bind(v),
        })
    }
}

impl<'q, DB, O> BindParams for QueryAs<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
    NaiveDateTime: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    fn bind_params(self, params: &[Param]) -> Self {
        params.iter().fold(self, |q, p| match p.clone() {
            Param::Int(v) => q.bind(v),
            Param::Real(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
            Param::Bool(v) => q.bind(v),
            Param::Date(v) => q.bind(v),
            Param::DateTime(v) => q.bind(v),
            Param::Instant(v) => q.bind(v),
        })
    }
}

impl<'q, DB, O> BindParams for QueryScalar<'q, DB, O, <DB as Database>::Arguments<'q>>
where
    DB: Database,
    Option<i64>: Encode<'q, DB> + Type<DB>,
    f64: Encode<'q, DB> + Type<DB>,
    Option<String>: Encode<'q, DB> + Type<DB>,
    bool: Encode<'q, DB> + Type<DB>,
    Option<NaiveDate>: Encode<'q, DB> + Type<DB>,
    NaiveDateTime: Encode<'q, DB> + Type<DB>,
    DateTime<Utc>: Encode<'q, DB> + Type<DB>,
{
    fn bind_params(self, params: &[Param]) -> Self {
        params.iter().fold(self, |q, p| match p.clone() {
            Param::Int(v) => q.bind(v),
            Param::Real(v) => q.bind(v),
            Param::Text(v) => q.bind(v),
            Param::Bool(v) => q.bind(v),
            Param::Date(v) => q.bind(v),
            Param::DateTime(v) => q.bind(v),
            Param::Instant(v) => q.bind(v),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::values_rows;

    #[test]
    fn rows_are_numbered_for_postgres_and_anonymous_for_sqlite() {
        assert_eq!(
            values_rows(false, 2, "(?, 'import', ?)"),
            "($1, 'import', $2), ($3, 'import', $4)"
        );
        assert_eq!(values_rows(true, 2, "(?, ?)"), "(?, ?), (?, ?)");
        assert_eq!(values_rows(false, 0, "(?)"), "");
    }
}
