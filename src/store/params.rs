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
    Date(NaiveDate),
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
    NaiveDate: Encode<'q, DB> + Type<DB>,
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
    NaiveDate: Encode<'q, DB> + Type<DB>,
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
    NaiveDate: Encode<'q, DB> + Type<DB>,
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
