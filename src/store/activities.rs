//! Outreach activities (普法活动) with their audience groups and the material handed out.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::audit::{self, AuditEntry};
use super::distributions::insert_audited;
use super::params::{scope_params, village_condition, BindParams, Param};
use super::{now, on_pool, Db, StoreResult, Subtotal, Tx};
use crate::domain::activity::{ActivityDraft, ActivityForm, AudienceGroup, Place};
use crate::domain::dates::Period;
use crate::domain::material::DistributionDraft;
use crate::domain::VillageScope;

#[derive(Debug, Clone)]
pub struct ActivityFilter {
    pub period: Period,
    pub village: VillageScope,
    pub form: Option<ActivityForm>,
    pub place: Option<Place>,
    pub group: Option<AudienceGroup>,
}

#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct ActivityRow {
    pub id: i64,
    pub held_on: NaiveDate,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub topic: String,
    #[sqlx(try_from = "String")]
    pub form: ActivityForm,
    pub place: Option<String>,
    pub audience_count: i64,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
    pub group_codes: Option<String>,
    pub materials_quantity: i64,
}

impl ActivityRow {
    pub fn place(&self) -> Option<Place> {
        self.place.as_deref().and_then(Place::from_code)
    }

    pub fn groups(&self) -> Vec<AudienceGroup> {
        let mut groups: Vec<AudienceGroup> = self
            .group_codes
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .filter_map(AudienceGroup::from_code)
            .collect();
        groups.sort_by_key(|g| AudienceGroup::ALL.iter().position(|a| a == g));
        groups
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityDimension {
    Village,
    Month,
    Form,
    Place,
    AudienceGroup,
}

const FROM: &str = "FROM activities a LEFT JOIN villages v ON v.id = a.village_id";
const FILTER: &str = "WHERE a.held_on >= $1 AND a.held_on < $2 \
     AND ($3 = 'any' OR ($3 = 'township' AND a.village_id IS NULL) OR ($3 = 'village' AND a.village_id = $4)) AND ($5 IS NULL OR a.form = $5) \
     AND ($6 IS NULL OR a.place = $6) \
     AND ($7 IS NULL OR EXISTS (SELECT 1 FROM activity_audience_groups g \
          WHERE g.activity_id = a.id AND g.audience_group = $7))";

impl ActivityFilter {
    /// The values of `FILTER`'s $1..$7, in order.
    fn params(&self) -> Vec<Param> {
        vec![
            self.period.from.into(),
            self.period.to.into(),
            self.village.code().into(),
            self.village.village().into(),
            self.form.map(ActivityForm::code).into(),
            self.place.map(Place::code).into(),
            self.group.map(AudienceGroup::code).into(),
        ]
    }
}

fn select(db: &Db) -> String {
    // The differences between the backends here: the string aggregate's name, and on SQLite
    // an index hint — after ANALYZE, SQLite sees that most distributions have no activity
    // and would scan them all once per activity (seen: 60 s for a county-sized year).
    let (aggregate, distributions) = match db {
        Db::Sqlite(_) => (
            "group_concat(g.audience_group, ',')",
            "distributions d INDEXED BY distributions_activity",
        ),
        Db::Postgres(_) => ("string_agg(g.audience_group, ',')", "distributions d"),
    };
    format!(
        "SELECT a.id, a.held_on, a.village_id, v.name AS village_name, a.topic, a.form, a.place, \
         a.audience_count, a.speaker, a.venue, a.notes, \
         (SELECT {aggregate} FROM activity_audience_groups g WHERE g.activity_id = a.id) AS group_codes, \
         COALESCE((SELECT CAST(SUM(d.quantity) AS BIGINT) FROM {distributions} WHERE d.activity_id = a.id), 0) \
           AS materials_quantity"
    )
}

pub async fn list(
    db: &Db,
    filter: &ActivityFilter,
    limit: i64,
    offset: i64,
) -> StoreResult<Vec<ActivityRow>> {
    let sql = format!(
        "{} {FROM} {FILTER} ORDER BY a.held_on DESC, a.id DESC LIMIT $8 OFFSET $9",
        select(db)
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, ActivityRow>(&sql)
        .bind_params(&filter.params())
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// The whole filtered list, in the order of `list` (for the workbooks: on SQLite it is
/// read on a connection of its own, see `bulk`).
pub async fn list_all(db: &Db, filter: &ActivityFilter) -> StoreResult<Vec<ActivityRow>> {
    let sql = format!(
        "{} {FROM} {FILTER} ORDER BY a.held_on DESC, a.id DESC",
        select(db)
    );
    super::bulk::fetch_all(db, sql, filter.params(), |r| {
        Ok(ActivityRow {
            id: r.get("id")?,
            held_on: r.get("held_on")?,
            village_id: r.get("village_id")?,
            village_name: r.get("village_name")?,
            topic: r.get("topic")?,
            form: super::bulk::coded(r, "form")?,
            place: r.get("place")?,
            audience_count: r.get("audience_count")?,
            speaker: r.get("speaker")?,
            venue: r.get("venue")?,
            notes: r.get("notes")?,
            group_codes: r.get("group_codes")?,
            materials_quantity: r.get("materials_quantity")?,
        })
    })
    .await
}

/// Number of activities and their audience (人次) over the whole filtered list.
pub async fn totals(db: &Db, filter: &ActivityFilter) -> StoreResult<Subtotal> {
    let sql = format!(
        "SELECT NULL AS key, COUNT(*) AS rows, COALESCE(CAST(SUM(a.audience_count) AS BIGINT), 0) AS quantity \
         {FROM} {FILTER}"
    );
    let row = on_pool!(db, |pool| sqlx::query_as::<_, Subtotal>(&sql)
        .bind_params(&filter.params())
        .fetch_one(pool)
        .await?);
    Ok(row)
}

/// Subtotals (activities, audience) by village, month, form, 法律七进 place or audience
/// group. By group, an activity reaching two groups counts once in each.
pub async fn subtotals(
    db: &Db,
    filter: &ActivityFilter,
    by: ActivityDimension,
) -> StoreResult<Vec<Subtotal>> {
    let month = "substr(CAST(a.held_on AS TEXT), 6, 2)";
    let (key, join, group, order) = match by {
        ActivityDimension::Village => (
            "v.name",
            "",
            "v.id, v.name, v.display_order",
            "v.display_order, v.name",
        ),
        ActivityDimension::Month => (month, "", month, "1"),
        ActivityDimension::Form => ("a.form", "", "a.form", "1"),
        ActivityDimension::Place => ("a.place", "", "a.place", "1"),
        ActivityDimension::AudienceGroup => (
            "ag.audience_group",
            "JOIN activity_audience_groups ag ON ag.activity_id = a.id",
            "ag.audience_group",
            "1",
        ),
    };
    let sql = format!(
        "SELECT {key} AS key, COUNT(*) AS rows, COALESCE(CAST(SUM(a.audience_count) AS BIGINT), 0) AS quantity \
         {FROM} {join} {FILTER} GROUP BY {group} ORDER BY {order}"
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Subtotal>(&sql)
        .bind_params(&filter.params())
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

pub async fn get(db: &Db, id: i64) -> StoreResult<Option<ActivityRow>> {
    let sql = format!("{} {FROM} WHERE a.id = $1", select(db));
    let row = on_pool!(db, |pool| sqlx::query_as::<_, ActivityRow>(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await?);
    Ok(row)
}

/// (id, date, topic) of recent activities of a village (or all), for drop-downs.
pub async fn choices(
    db: &Db,
    scope: VillageScope,
    limit: i64,
) -> StoreResult<Vec<(i64, NaiveDate, String)>> {
    let sql = format!(
        "SELECT id, held_on, topic FROM activities WHERE {} ORDER BY held_on DESC, id DESC LIMIT $3",
        village_condition("village_id", 1)
    );
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, (i64, NaiveDate, String)>(
        &sql
    )
    .bind_params(&scope_params(scope))
    .bind(limit)
    .fetch_all(pool)
    .await?);
    Ok(rows)
}

/// The distributions an activity's material lines become.
fn linked_distributions(draft: &ActivityDraft, activity_id: i64) -> Vec<DistributionDraft> {
    let recipients = draft
        .audience_groups
        .iter()
        .map(|g| g.label_zh())
        .collect::<Vec<_>>()
        .join("、");
    draft
        .materials
        .iter()
        .map(|line| DistributionDraft {
            material_id: line.material_id,
            distributed_on: draft.held_on,
            village_id: draft.village_id,
            quantity: line.quantity,
            recipients: recipients.clone(),
            place: draft.venue.clone(),
            handled_by: draft.speaker.clone(),
            session_id: None,
            activity_id: Some(activity_id),
            notes: format!("随普法活动“{}”发放", draft.topic),
        })
        .collect()
}

/// The stored columns of an activity, as a form or an import writes them (and as an
/// import's undo restores them). Codes are the stored codes of the domain enums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityRecord {
    pub held_on: NaiveDate,
    pub village_id: Option<i64>,
    pub topic: String,
    pub form: String,
    pub place: Option<String>,
    pub audience_groups: Vec<String>,
    pub audience_count: i64,
    pub speaker: String,
    pub venue: String,
    pub notes: String,
}

impl From<&ActivityDraft> for ActivityRecord {
    fn from(draft: &ActivityDraft) -> Self {
        ActivityRecord {
            held_on: draft.held_on,
            village_id: draft.village_id,
            topic: draft.topic.clone(),
            form: draft.form.code().to_string(),
            place: draft.place.map(|p| p.code().to_string()),
            audience_groups: draft
                .audience_groups
                .iter()
                .map(|g| g.code().to_string())
                .collect(),
            audience_count: draft.audience_count,
            speaker: draft.speaker.clone(),
            venue: draft.venue.clone(),
            notes: draft.notes.clone(),
        }
    }
}

/// The values of the columns `insert` and `overwrite` both write, in their order.
fn columns(activity: &ActivityRecord) -> Vec<Param> {
    vec![
        activity.held_on.into(),
        activity.village_id.into(),
        activity.topic.as_str().into(),
        activity.form.as_str().into(),
        activity.place.as_deref().into(),
        activity.audience_count.into(),
        activity.speaker.as_str().into(),
        activity.venue.as_str().into(),
        activity.notes.as_str().into(),
    ]
}

/// Inserts an activity with its audience groups, without auditing it; `import` names the
/// importing batch and the row's key when an import creates it.
pub async fn insert(
    tx: &mut Tx,
    activity: &ActivityRecord,
    import: Option<(i64, &str)>,
    by_user: Option<i64>,
) -> StoreResult<i64> {
    const SQL: &str = "INSERT INTO activities (held_on, village_id, topic, form, place, audience_count, speaker, \
         venue, notes, import_key, import_batch_id, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id";
    let id = on_pool!(Tx(tx), |conn| sqlx::query_scalar(SQL)
        .bind_params(&columns(activity))
        .bind(import.map(|(_, key)| key))
        .bind(import.map(|(batch_id, _)| batch_id))
        .bind(by_user)
        .bind(now())
        .fetch_one(&mut *conn)
        .await?);
    insert_groups(tx, id, activity).await?;
    Ok(id)
}

/// Writes new values over an activity and replaces its audience groups.
pub async fn overwrite(tx: &mut Tx, id: i64, activity: &ActivityRecord) -> StoreResult<()> {
    const SQL: &str = "UPDATE activities SET held_on = $1, village_id = $2, topic = $3, form = $4, place = $5, \
         audience_count = $6, speaker = $7, venue = $8, notes = $9, updated_at = $10 WHERE id = $11";
    const DELETE_GROUPS: &str = "DELETE FROM activity_audience_groups WHERE activity_id = $1";
    on_pool!(Tx(tx), |conn| {
        sqlx::query(SQL)
            .bind_params(&columns(activity))
            .bind(now())
            .bind(id)
            .execute(&mut *conn)
            .await?;
        sqlx::query(DELETE_GROUPS)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    insert_groups(tx, id, activity).await
}

async fn insert_groups(
    tx: &mut Tx,
    activity_id: i64,
    activity: &ActivityRecord,
) -> StoreResult<()> {
    const SQL: &str =
        "INSERT INTO activity_audience_groups (activity_id, audience_group) VALUES ($1, $2)";
    for group in &activity.audience_groups {
        on_pool!(Tx(tx), |conn| {
            sqlx::query(SQL)
                .bind(activity_id)
                .bind(group)
                .execute(&mut *conn)
                .await?;
        });
    }
    Ok(())
}

/// Removes the distributions an activity's material lines became.
async fn delete_linked_distributions(tx: &mut Tx, activity_id: i64) -> StoreResult<()> {
    const SQL: &str = "DELETE FROM distributions WHERE activity_id = $1";
    on_pool!(Tx(tx), |conn| {
        sqlx::query(SQL)
            .bind(activity_id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// Creates the activity, its audience groups and one distribution per material line, in
/// one transaction.
pub async fn create(db: &Db, draft: &ActivityDraft, by_user: Option<i64>) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let id = insert(&mut tx, &ActivityRecord::from(draft), None, by_user).await?;
    let entry = AuditEntry::new(by_user, "create", "activity", id).after(draft);
    audit::record(&mut tx, &entry).await?;
    for distribution in linked_distributions(draft, id) {
        insert_audited(&mut tx, &distribution, by_user).await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Replaces the activity's fields, groups and linked distributions, in one transaction.
pub async fn update(
    db: &Db,
    id: i64,
    before: &serde_json::Value,
    draft: &ActivityDraft,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    overwrite(&mut tx, id, &ActivityRecord::from(draft)).await?;
    delete_linked_distributions(&mut tx, id).await?;
    let entry = AuditEntry::new(by_user, "update", "activity", id)
        .before(before)
        .after(draft);
    audit::record(&mut tx, &entry).await?;
    for distribution in linked_distributions(draft, id) {
        insert_audited(&mut tx, &distribution, by_user).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the activity; its groups and linked distributions go with it (ON DELETE
/// CASCADE), and the audit entry keeps what they were.
pub async fn delete(
    db: &Db,
    id: i64,
    before: &serde_json::Value,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    delete_linked_distributions(&mut tx, id).await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("DELETE FROM activities WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    audit::record(
        &mut tx,
        &AuditEntry::new(by_user, "delete", "activity", id).before(before),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The months ("01".."12") of the period in which the village held an activity or a
/// (not cancelled) session.
pub async fn months_with_outreach(
    db: &Db,
    village_id: i64,
    period: Period,
) -> StoreResult<Vec<String>> {
    const SQL: &str = "SELECT substr(CAST(held_on AS TEXT), 6, 2) AS month FROM activities \
         WHERE village_id = $1 AND held_on >= $2 AND held_on < $3 \
         UNION SELECT substr(CAST(starts_at AS TEXT), 6, 2) AS month FROM sessions \
         WHERE village_id = $1 AND status <> 'cancelled' AND starts_at >= $4 AND starts_at < $5 \
         ORDER BY 1";
    let months = on_pool!(db, |pool| sqlx::query_scalar::<_, String>(SQL)
        .bind(village_id)
        .bind(period.from)
        .bind(period.to)
        .bind(period.from.and_time(chrono::NaiveTime::MIN))
        .bind(period.to.and_time(chrono::NaiveTime::MIN))
        .fetch_all(pool)
        .await?);
    Ok(months)
}
