//! Who is invited to a session (and so expected on its attendance grid).

use serde::Serialize;

use super::audit::{self, AuditEntry};
use super::{on_pool, Db, StoreResult};
use crate::domain::Category;

/// An invitee (or walk-in) of a session, as the attendance grid and sign-in sheet show it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize)]
pub struct Invitee {
    pub person_id: i64,
    pub name: String,
    pub village_id: Option<i64>,
    pub village_name: Option<String>,
    pub post: String,
    pub phone: Option<String>,
}

pub async fn invitees(db: &Db, session_id: i64) -> StoreResult<Vec<Invitee>> {
    const SQL: &str = "SELECT p.id AS person_id, p.name, p.village_id, v.name AS village_name, p.post, p.phone \
         FROM session_invitees i JOIN people p ON p.id = i.person_id LEFT JOIN villages v ON v.id = p.village_id \
         WHERE i.session_id = $1 ORDER BY v.display_order, p.village_id, p.name, p.id";
    let rows = on_pool!(db, |pool| sqlx::query_as::<_, Invitee>(SQL)
        .bind(session_id)
        .fetch_all(pool)
        .await?);
    Ok(rows)
}

/// Active people of the given villages (empty: everyone) who hold the category (none: any).
pub async fn people_matching(
    db: &Db,
    village_ids: &[i64],
    category: Option<Category>,
) -> StoreResult<Vec<i64>> {
    const SQL: &str = "SELECT p.id FROM people p WHERE p.active = TRUE AND ($1 IS NULL OR p.village_id = $1) \
         AND ($2 IS NULL OR EXISTS (SELECT 1 FROM person_categories c WHERE c.person_id = p.id AND c.category = $2)) \
         ORDER BY p.id";
    let villages: Vec<Option<i64>> = if village_ids.is_empty() {
        vec![None]
    } else {
        village_ids.iter().copied().map(Some).collect()
    };
    let mut ids = Vec::new();
    for village in villages {
        let found = on_pool!(db, |pool| sqlx::query_scalar::<_, i64>(SQL)
            .bind(village)
            .bind(category.map(Category::code))
            .fetch_all(pool)
            .await?);
        ids.extend(found);
    }
    Ok(ids)
}

/// Adds invitees (ignoring those already invited), with one audit entry.
/// Puts the people on the lists of the sessions (one transaction, an audit entry per
/// session). Returns how many list entries were new.
pub async fn add_invitees(
    db: &Db,
    session_ids: &[i64],
    person_ids: &[i64],
    by_user: Option<i64>,
) -> StoreResult<usize> {
    const SQL: &str = "INSERT INTO session_invitees (session_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    let mut tx = db.begin().await?;
    let mut added = 0;
    for session_id in session_ids {
        added += on_pool!(Tx(&mut tx), |conn| {
            let mut added = 0;
            for person_id in person_ids {
                added += sqlx::query(SQL)
                    .bind(session_id)
                    .bind(person_id)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected() as usize;
            }
            added
        });
        let entry = AuditEntry::new(by_user, "invite", "session", *session_id)
            .after(&serde_json::json!({ "added": person_ids }));
        audit::record(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    Ok(added)
}

pub async fn remove_invitee(
    db: &Db,
    session_id: i64,
    person_id: i64,
    by_user: Option<i64>,
) -> StoreResult<()> {
    let mut tx = db.begin().await?;
    on_pool!(Tx(&mut tx), |conn| {
        sqlx::query("DELETE FROM session_invitees WHERE session_id = $1 AND person_id = $2")
            .bind(session_id)
            .bind(person_id)
            .execute(&mut *conn)
            .await?;
    });
    let entry = AuditEntry::new(by_user, "uninvite", "session", session_id)
        .before(&serde_json::json!({ "person_id": person_id }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Invitees of other sessions (given by id) that are also in `person_ids`:
/// (session id, person name).
pub async fn shared_invitees(
    db: &Db,
    session_ids: &[i64],
    person_ids: &[i64],
) -> StoreResult<Vec<(i64, String)>> {
    let mut shared = Vec::new();
    for session_id in session_ids {
        for invitee in invitees(db, *session_id).await? {
            if person_ids.contains(&invitee.person_id) {
                shared.push((*session_id, invitee.name));
            }
        }
    }
    Ok(shared)
}
