//! The dispatcher's writes, a statement per batch rather than per row: deliveries fanned out
//! for new events, and outcomes (with the audit lines of the calls they end) written only by
//! the newest claim. One SQLite writer or one PostgreSQL round trip serves a whole batch,
//! which is what lets one node deliver thousands of events a second.

use sqlx::{AnyConnection, AssertSqlSafe, Row};

use crate::db::registry::AnyQuery;

use super::{FanOut, MAX_DETAIL_CHARS, ms};
use crate::db::audit::{self, AuditEntry};
use crate::db::{BULK_ROWS, Backend, Db, DbError, Params, unindexed};
use crate::ids::InstallationId;
use crate::outbox::{DeliveryState, Hold};
use crate::text::sanitize;

/// Write the deliveries of each event and mark it fanned out, in one transaction. An event
/// another node fanned out first is left alone (its mark is the first write, so the second
/// node waits for the first to commit and then finds nothing to do). Returns how many
/// deliveries were written.
pub(crate) async fn fan_out(db: &Db, plans: &[FanOut<'_>], now: i64) -> Result<u64, DbError> {
    let err = || DbError::sql("fan out");
    let mut tx = db.outbox().begin().await.map_err(err())?;
    let mut marked = std::collections::HashSet::new();
    let mark = mark_sql(db.backend());
    for chunk in plans.chunks(BULK_ROWS) {
        let mut query = sqlx::query(AssertSqlSafe(mark.clone()));
        // Short chunks repeat their first id: the list keeps its one shape.
        for i in 0..BULK_ROWS {
            query = query.bind(chunk.get(i).unwrap_or(&chunk[0]).event.id.as_str());
        }
        for row in query.fetch_all(&mut *tx).await.map_err(err())? {
            marked.insert(row.try_get::<String, _>("id").map_err(err())?);
        }
    }
    let rows: Vec<(&FanOut<'_>, &InstallationId)> = plans
        .iter()
        .filter(|plan| marked.contains(&plan.event.id))
        .flat_map(|plan| plan.to.iter().map(move |to| (plan, to)))
        .collect();
    // `WHERE`: SQLite's parser needs one between a SELECT and `ON CONFLICT`; it also drops
    // the padding rows.
    let insert = {
        let mut p = Params::new(db.backend());
        let (next_at, created_at, updated_at) = (p.one(), p.one(), p.one());
        format!(
            "INSERT INTO deliveries (id, event_id, merchant_id, installation_id, topic, \
             subject_id, occurred_at, state, attempts, next_at, fence, created_at, updated_at) \
             SELECT column1, column2, column3, column4, column5, column6, column7, 'queued', 0, \
             {next_at}, 0, {created_at}, {updated_at} FROM (VALUES {}) AS v \
             WHERE column1 IS NOT NULL \
             ON CONFLICT (event_id, installation_id) DO NOTHING",
            p.rows(BULK_ROWS, 7)
        )
    };
    let mut written = 0;
    // Time-ordered ids (UUIDv7): new rows go at the end of the primary key's index rather
    // than all over it.
    for chunk in rows.chunks(BULK_ROWS) {
        let mut query = sqlx::query(AssertSqlSafe(insert.clone()))
            .bind(now)
            .bind(now)
            .bind(now);
        for i in 0..BULK_ROWS {
            query = match chunk.get(i) {
                Some((plan, installation)) => query
                    .bind(format!("dlv_{}", uuid::Uuid::now_v7().simple()))
                    .bind(plan.event.id.as_str())
                    .bind(plan.merchant.as_str())
                    .bind(installation.as_str())
                    .bind(plan.event.topic.as_str())
                    .bind(plan.event.subject_id.as_str())
                    .bind(ms(plan.event.occurred_at)),
                None => pad(query, &[Pad::Text; 6]).bind(None::<i64>),
            };
        }
        written += query
            .execute(&mut *tx)
            .await
            .map_err(DbError::sql("write deliveries"))?
            .rows_affected();
    }
    tx.commit().await.map_err(err())?;
    Ok(written)
}

/// The statement that marks [`BULK_ROWS`] events fanned out, found by their primary key
/// (see [`unindexed`]).
pub(super) fn mark_sql(backend: Backend) -> String {
    let mut p = Params::new(backend);
    format!(
        "UPDATE events SET fanned_out = 1 WHERE {} = 0 AND id IN ({}) RETURNING id",
        unindexed(backend, "fanned_out"),
        p.list(BULK_ROWS)
    )
}

/// The type of a padding row's value.
#[derive(Clone, Copy)]
pub(crate) enum Pad {
    Text,
    Int,
}

/// Bind a padding row: NULLs of these types.
pub(crate) fn pad<'q>(mut query: AnyQuery<'q>, types: &[Pad]) -> AnyQuery<'q> {
    for t in types {
        query = match t {
            Pad::Text => query.bind(None::<String>),
            Pad::Int => query.bind(None::<i64>),
        };
    }
    query
}

/// What one try came to, to be written if its claim is still the newest.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub id: String,
    pub fence: i64,
    pub state: DeliveryState,
    /// When to try again (queued only).
    pub next_at: i64,
    /// Give the try back: it never started (busy) or waits for the merchant (held).
    pub uncount: bool,
    pub code: Option<String>,
    pub detail: Option<String>,
    /// Hold every delivery of this installation for the merchant.
    pub hold: Option<(InstallationId, Hold)>,
}

/// Write outcomes, and the audit lines of the calls they end, in one transaction. An outcome
/// whose fence is no longer the newest (its lease ran out and another dispatcher claimed the
/// delivery again) is dropped: it can never overwrite a newer outcome. Its call's audit lines
/// are kept: the call ran. Returns how many outcomes were written.
pub(crate) async fn complete(
    db: &Db,
    outcomes: &[Outcome],
    lines: &[AuditEntry],
    now: i64,
) -> Result<u64, DbError> {
    if outcomes.is_empty() && lines.is_empty() {
        return Ok(0);
    }
    let err = || DbError::sql("write outcomes");
    let mut tx = db.outbox().begin().await.map_err(err())?;
    let mut written = std::collections::HashSet::new();
    // The VALUES list's columns are `column1`… on both SQLite and PostgreSQL; padding rows
    // have a NULL id and match nothing.
    let update = {
        let mut p = Params::new(db.backend());
        let now = p.one();
        format!(
            "UPDATE deliveries SET state = v.column3, next_at = v.column4, \
             attempts = attempts - v.column5, lease_owner = NULL, lease_until = NULL, \
             last_code = COALESCE(v.column6, last_code), \
             last_detail = COALESCE(v.column7, last_detail), updated_at = {now} \
             FROM (VALUES {}) AS v \
             WHERE deliveries.id = v.column1 AND deliveries.fence = v.column2 \
             AND deliveries.state = 'running' RETURNING deliveries.id",
            p.rows(BULK_ROWS, 7)
        )
    };
    for chunk in outcomes.chunks(BULK_ROWS) {
        let mut query = sqlx::query(AssertSqlSafe(update.clone())).bind(now);
        for i in 0..BULK_ROWS {
            query = match chunk.get(i) {
                Some(o) => query
                    .bind(o.id.as_str())
                    .bind(o.fence)
                    .bind(o.state.as_str())
                    .bind(o.next_at)
                    .bind(i64::from(o.uncount))
                    .bind(o.code.as_deref())
                    .bind(o.detail.as_deref().map(|d| sanitize(d, MAX_DETAIL_CHARS))),
                None => pad(
                    query,
                    &[
                        Pad::Text,
                        Pad::Int,
                        Pad::Text,
                        Pad::Int,
                        Pad::Int,
                        Pad::Text,
                        Pad::Text,
                    ],
                ),
            };
        }
        for row in query.fetch_all(&mut *tx).await.map_err(err())? {
            written.insert(row.try_get::<String, _>("id").map_err(err())?);
        }
    }
    for o in outcomes {
        if !written.contains(&o.id) {
            tracing::info!(delivery = %o.id, fence = o.fence,
                "a newer claim owns this delivery; this outcome is dropped");
        } else if let Some((installation, hold)) = &o.hold {
            put_hold(&mut tx, installation, hold).await?;
        }
    }
    audit::append_on(&mut tx, db.backend(), lines).await?;
    tx.commit().await.map_err(err())?;
    Ok(written.len() as u64)
}

async fn put_hold(
    conn: &mut AnyConnection,
    installation: &InstallationId,
    hold: &Hold,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO delivery_holds (installation_id, cause, detail, since) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (installation_id) DO NOTHING",
    )
    .bind(installation.as_str())
    .bind(&hold.cause)
    .bind(sanitize(&hold.detail, MAX_DETAIL_CHARS))
    .bind(hold.since)
    .execute(&mut *conn)
    .await
    .map_err(DbError::sql("hold deliveries"))?;
    Ok(())
}
