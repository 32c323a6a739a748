//! The figures of the year, aggregated in SQL: one query per figure group, never a whole
//! table loaded. The annual summary service assembles them.

use chrono::{NaiveDate, NaiveTime};

use super::params::{scope_params, BindParams, Param};
use super::{on_pool, Db, StoreResult};
use crate::domain::dates::Period;
use crate::domain::VillageScope;

/// (key, count, sum) rows of a grouped query.
pub type Grouped = Vec<(Option<String>, i64, f64)>;

fn ts(day: NaiveDate) -> chrono::NaiveDateTime {
    day.and_time(NaiveTime::MIN)
}

pub(crate) const DATA_VERSION_SQL: &str = "SELECT version FROM data_version WHERE id = 1";

/// The data version: moved on (by triggers) in every transaction that changes what the
/// year's figures are computed from.
pub async fn data_version(db: &Db) -> StoreResult<i64> {
    let version = on_pool!(db, |pool| sqlx::query_scalar(DATA_VERSION_SQL)
        .fetch_one(pool)
        .await?);
    Ok(version)
}

/// Sessions of the period by kind and status: (kind, status, count).
pub async fn sessions_by_kind_and_status(
    db: &Db,
    period: Period,
    village: VillageScope,
) -> StoreResult<Vec<(String, String, i64)>> {
    const SQL: &str =
        "SELECT kind, status, COUNT(*) FROM sessions WHERE starts_at >= $1 AND starts_at < $2 \
         AND ($3 = 'any' OR ($3 = 'township' AND village_id IS NULL) OR village_id = $4) GROUP BY kind, status ORDER BY kind, status";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Per month of held sessions: (month "01".."12", sessions, attended person-times,
/// attendance rows recorded, hours of those attended). One pass over the attendance.
pub async fn sessions_by_month(
    db: &Db,
    period: Period,
    village: VillageScope,
) -> StoreResult<Vec<(String, i64, i64, i64, f64)>> {
    const SESSIONS: &str = "SELECT substr(CAST(starts_at AS TEXT), 6, 2) AS month, COUNT(*) FROM sessions \
         WHERE status = 'held' AND starts_at >= $1 AND starts_at < $2 AND ($3 = 'any' OR ($3 = 'township' AND village_id IS NULL) OR village_id = $4) \
         GROUP BY substr(CAST(starts_at AS TEXT), 6, 2)";
    const ATTENDANCE: &str = "SELECT substr(CAST(s.starts_at AS TEXT), 6, 2) AS month, \
         COALESCE(SUM(CASE WHEN a.status IN ('present', 'late') THEN 1 ELSE 0 END), 0), COUNT(*), \
         CAST(COALESCE(SUM(CASE WHEN a.status IN ('present', 'late') THEN a.hours_credited ELSE 0 END), 0) AS DOUBLE PRECISION) \
         FROM sessions s JOIN attendance a ON a.session_id = s.id \
         WHERE s.status = 'held' AND s.starts_at >= $1 AND s.starts_at < $2 AND ($3 = 'any' OR ($3 = 'township' AND s.village_id IS NULL) OR s.village_id = $4) \
         GROUP BY substr(CAST(s.starts_at AS TEXT), 6, 2)";
    let sessions: Vec<(String, i64)> = on_pool!(db, |pool| sqlx::query_as(SESSIONS)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    let attendance: Vec<(String, i64, i64, f64)> = on_pool!(db, |pool| sqlx::query_as(ATTENDANCE)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    Ok(sessions
        .into_iter()
        .map(|(month, n)| {
            let (attended, recorded, hours) = attendance
                .iter()
                .find(|a| a.0 == month)
                .map_or((0, 0, 0.0), |a| (a.1, a.2, a.3));
            (month, n, attended, recorded, hours)
        })
        .collect())
}

/// Attendance of the period's held sessions by month, counting the people of the scope's
/// village wherever they attended (a township session too): (month "01".."12", rows
/// recorded, attended person-times, hours of those attended). Months without any are absent.
pub async fn attendance_by_attendee_month(
    db: &Db,
    period: Period,
    village: VillageScope,
) -> StoreResult<Vec<(String, i64, i64, f64)>> {
    // The scope's people are looked up once as a set, not joined to each of a county's
    // million rows (SQLite: 0.8 s -> 0.4 s for the county, 0.4 s -> 0.2 s for a village).
    const SQL: &str = "SELECT substr(CAST(s.starts_at AS TEXT), 6, 2) AS month, COUNT(*), \
         COALESCE(SUM(CASE WHEN a.status IN ('present', 'late') THEN 1 ELSE 0 END), 0), \
         CAST(COALESCE(SUM(CASE WHEN a.status IN ('present', 'late') THEN a.hours_credited ELSE 0 END), 0) AS DOUBLE PRECISION) \
         FROM attendance a JOIN sessions s ON s.id = a.session_id \
         WHERE s.status = 'held' AND s.starts_at >= $1 AND s.starts_at < $2 AND ($3 = 'any' OR a.person_id IN ( \
           SELECT id FROM people WHERE ($3 = 'township' AND village_id IS NULL) OR village_id = $4)) \
         GROUP BY substr(CAST(s.starts_at AS TEXT), 6, 2)";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Attendance of the period's held sessions by the attendee's village (`None`: the
/// township organ): (village id, attended person-times, hours of those attended).
pub async fn attendance_by_village(
    db: &Db,
    period: Period,
) -> StoreResult<Vec<(Option<i64>, i64, f64)>> {
    // Grouped by person first, then the 60,000 people's sums by village: joining each of
    // a county's million rows to its person took 1.5 s on SQLite, this 1.0 s.
    const SQL: &str = "SELECT p.village_id, CAST(SUM(x.attended) AS BIGINT), \
         CAST(SUM(x.hours) AS DOUBLE PRECISION) FROM ( \
           SELECT a.person_id, \
             COALESCE(SUM(CASE WHEN a.status IN ('present', 'late') THEN 1 ELSE 0 END), 0) AS attended, \
             COALESCE(SUM(CASE WHEN a.status IN ('present', 'late') THEN a.hours_credited ELSE 0 END), 0) AS hours \
           FROM attendance a JOIN sessions s ON s.id = a.session_id \
           WHERE s.status = 'held' AND s.starts_at >= $1 AND s.starts_at < $2 GROUP BY a.person_id) x \
         JOIN people p ON p.id = x.person_id GROUP BY p.village_id";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Held committee study meetings (党委会专题学法) of the period: (start, topic), in order.
pub async fn committee_meetings(
    db: &Db,
    period: Period,
    village: VillageScope,
) -> StoreResult<Vec<(chrono::NaiveDateTime, String)>> {
    const SQL: &str = "SELECT starts_at, topic FROM sessions WHERE kind = 'committee' AND status = 'held' \
         AND starts_at >= $1 AND starts_at < $2 \
         AND ($3 = 'any' OR ($3 = 'township' AND village_id IS NULL) OR village_id = $4) ORDER BY starts_at, id";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// 法律明白人 per village on `as_of`, and those certified within the period:
/// (village id, village name, on roster, new in period). Villages with none are included.
pub async fn legal_literates_by_village(
    db: &Db,
    period: Period,
    as_of: NaiveDate,
    village: VillageScope,
) -> StoreResult<Vec<(i64, String, i64, i64)>> {
    const SQL: &str = "SELECT v.id, v.name, COALESCE(x.on_roster, 0), COALESCE(x.certified, 0) FROM villages v LEFT JOIN ( \
         SELECT p.village_id, \
           CAST(SUM(CASE WHEN p.active = TRUE AND (c.since IS NULL OR c.since <= $3) AND (c.until IS NULL OR c.until >= $3) \
                THEN 1 ELSE 0 END) AS BIGINT) AS on_roster, \
           CAST(SUM(CASE WHEN c.since >= $1 AND c.since < $2 THEN 1 ELSE 0 END) AS BIGINT) AS certified \
         FROM person_categories c JOIN people p ON p.id = c.person_id \
         WHERE c.category = 'legal_literate' AND p.village_id IS NOT NULL GROUP BY p.village_id \
         ) x ON x.village_id = v.id WHERE ($4 = 'any' OR ($4 = 'township' AND v.id IS NULL) OR v.id = $5) ORDER BY v.display_order, v.name";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(period.from)
        .bind(period.to)
        .bind(as_of)
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Township-organ 法律明白人 (no village): (on roster, new in period).
pub async fn township_legal_literates(
    db: &Db,
    period: Period,
    as_of: NaiveDate,
) -> StoreResult<(i64, i64)> {
    const SQL: &str = "SELECT \
         (SELECT COUNT(*) FROM people p JOIN person_categories c ON c.person_id = p.id WHERE p.village_id IS NULL \
            AND p.active = TRUE AND c.category = 'legal_literate' AND (c.since IS NULL OR c.since <= $3) \
            AND (c.until IS NULL OR c.until >= $3)), \
         (SELECT COUNT(*) FROM people p JOIN person_categories c ON c.person_id = p.id WHERE p.village_id IS NULL \
            AND c.category = 'legal_literate' AND c.since >= $1 AND c.since < $2)";
    let row = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(period.from)
        .bind(period.to)
        .bind(as_of)
        .fetch_one(pool)
        .await?);
    Ok(row)
}

/// Per village and month: (village id, month, sessions held, activities, material quantity).
pub async fn coverage(
    db: &Db,
    period: Period,
    village: VillageScope,
) -> StoreResult<Vec<(i64, String, i64, i64, i64)>> {
    const SQL: &str = "SELECT village_id, month, CAST(SUM(sessions) AS BIGINT), CAST(SUM(activities) AS BIGINT), CAST(SUM(quantity) AS BIGINT) FROM ( \
         SELECT village_id, substr(CAST(starts_at AS TEXT), 6, 2) AS month, 1 AS sessions, 0 AS activities, 0 AS quantity \
           FROM sessions WHERE status = 'held' AND starts_at >= $1 AND starts_at < $2 AND village_id IS NOT NULL \
         UNION ALL SELECT village_id, substr(CAST(held_on AS TEXT), 6, 2), 0, 1, 0 \
           FROM activities WHERE held_on >= $3 AND held_on < $4 AND village_id IS NOT NULL \
         UNION ALL SELECT village_id, substr(CAST(distributed_on AS TEXT), 6, 2), 0, 0, quantity \
           FROM distributions WHERE distributed_on >= $3 AND distributed_on < $4 AND village_id IS NOT NULL \
         ) x WHERE ($5 = 'any' OR ($5 = 'township' AND village_id IS NULL) OR village_id = $6) GROUP BY village_id, month ORDER BY village_id, month";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(ts(period.from))
        .bind(ts(period.to))
        .bind(period.from)
        .bind(period.to)
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// A session of the year with its attended person-times, for the workbook.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionLine {
    pub starts_at: chrono::NaiveDateTime,
    pub kind: String,
    pub topic: String,
    pub village_name: Option<String>,
    pub venue: String,
    pub speaker: String,
    pub hours_credited: f64,
    pub status: String,
    pub attended: i64,
}

pub async fn session_lines(
    db: &Db,
    period: Period,
    village: VillageScope,
) -> StoreResult<Vec<SessionLine>> {
    const SQL: &str = "SELECT s.starts_at, s.kind, s.topic, v.name AS village_name, s.venue, s.speaker, s.hours_credited, s.status, \
         (SELECT COUNT(*) FROM attendance a WHERE a.session_id = s.id AND a.status IN ('present', 'late')) AS attended \
         FROM sessions s LEFT JOIN villages v ON v.id = s.village_id \
         WHERE s.starts_at >= $1 AND s.starts_at < $2 AND ($3 = 'any' OR ($3 = 'township' AND s.village_id IS NULL) OR s.village_id = $4) ORDER BY s.starts_at, s.id";
    super::bulk::fetch_all(db, SQL.into(), long_list_params(period, village), |r| {
        Ok(SessionLine {
            starts_at: r.get("starts_at")?,
            kind: r.get("kind")?,
            topic: r.get("topic")?,
            village_name: r.get("village_name")?,
            venue: r.get("venue")?,
            speaker: r.get("speaker")?,
            hours_credited: r.get("hours_credited")?,
            status: r.get("status")?,
            attended: r.get("attended")?,
        })
    })
    .await
}

/// The parameters of a long list over a period in a scope: $1 and $2 the period's bounds
/// as times, $3 and $4 the scope.
fn long_list_params(period: Period, village: VillageScope) -> Vec<Param> {
    let mut params = vec![ts(period.from).into(), ts(period.to).into()];
    params.extend(scope_params(village));
    params
}

/// Per person: attended sessions and hours in the period (people of the village, or all).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonHours {
    pub name: String,
    pub village_name: Option<String>,
    pub post: String,
    pub sessions: i64,
    pub hours: f64,
}

pub async fn person_hours(
    db: &Db,
    period: Period,
    village: VillageScope,
) -> StoreResult<Vec<PersonHours>> {
    // The year's attendance grouped by the person's id alone, then joined to the names and
    // filtered by village: grouping it by (id, name, village, post) with the people joined
    // in made SQLite sort a county's million rows by all four (2.2 s).
    const SQL: &str = "SELECT p.name, v.name AS village_name, p.post, x.sessions, x.hours FROM ( \
         SELECT a.person_id, COUNT(*) AS sessions, \
           CAST(COALESCE(SUM(a.hours_credited), 0) AS DOUBLE PRECISION) AS hours \
         FROM attendance a JOIN sessions s ON s.id = a.session_id \
         WHERE s.status = 'held' AND a.status IN ('present', 'late') AND s.starts_at >= $1 AND s.starts_at < $2 \
         GROUP BY a.person_id) x \
         JOIN people p ON p.id = x.person_id LEFT JOIN villages v ON v.id = p.village_id \
         WHERE ($3 = 'any' OR ($3 = 'township' AND p.village_id IS NULL) OR p.village_id = $4) \
         ORDER BY v.display_order, v.name, p.name";
    super::bulk::fetch_all(db, SQL.into(), long_list_params(period, village), |r| {
        Ok(PersonHours {
            name: r.get("name")?,
            village_name: r.get("village_name")?,
            post: r.get("post")?,
            sessions: r.get("sessions")?,
            hours: r.get("hours")?,
        })
    })
    .await
}

/// 法律明白人 on the roster on `as_of`, with their certification date and ID number (to be masked).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LiterateLine {
    pub name: String,
    pub village_name: Option<String>,
    pub since: Option<NaiveDate>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

pub async fn literate_lines(
    db: &Db,
    as_of: NaiveDate,
    village: VillageScope,
) -> StoreResult<Vec<LiterateLine>> {
    const SQL: &str = "SELECT p.name, v.name AS village_name, c.since, p.phone, p.id_number \
         FROM people p JOIN person_categories c ON c.person_id = p.id LEFT JOIN villages v ON v.id = p.village_id \
         WHERE p.active = TRUE AND c.category = 'legal_literate' AND (c.since IS NULL OR c.since <= $1) \
         AND (c.until IS NULL OR c.until >= $1) AND ($2 = 'any' OR ($2 = 'township' AND p.village_id IS NULL) OR p.village_id = $3) \
         ORDER BY v.display_order, v.name, c.since, p.name";
    let rows = on_pool!(db, |pool| sqlx::query_as(SQL)
        .bind(as_of)
        .bind_params(&scope_params(village))
        .fetch_all(pool)
        .await?);
    Ok(rows)
}
