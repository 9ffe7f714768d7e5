//! The outbox's queries: events written by `emit` (or by the change that caused them, in its
//! own transaction), fanned out to deliveries, claimed under a lease with a fencing counter,
//! completed only by the newest claim, listed and replayed.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Backend, Db, DbError};
use crate::ids::{InstallationId, MerchantId};
use crate::report::Event;
use crate::topics::Topic;

mod admin;
mod write;

pub(crate) use admin::{
    get_delivery, hold_of, lift_hold, list, replay, retry_schedule, set_retry_schedule,
};
pub(crate) use write::{Outcome, Pad, complete, fan_out, pad};

/// Most installations one claim leaves out; more are claimed and given back.
const MAX_SKIPPED: usize = 200;

/// Longest cause detail stored, in characters.
const MAX_DETAIL_CHARS: usize = 512;

/// Write one event to the outbox on `conn` (a transaction's connection, so the event commits
/// with the change that caused it, or not at all).
pub(crate) async fn insert_event(
    conn: &mut AnyConnection,
    merchant: &MerchantId,
    event: &Event,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO events (id, merchant_id, topic, subject_id, occurred_at, fanned_out) \
         VALUES ($1, $2, $3, $4, $5, 0)",
    )
    .bind(&event.id)
    .bind(merchant.as_str())
    .bind(event.topic.as_str())
    .bind(&event.subject_id)
    .bind(ms(event.occurred_at))
    .execute(&mut *conn)
    .await
    .map_err(DbError::sql("write event"))?;
    Ok(())
}

/// Events not fanned out yet, oldest first.
pub(crate) async fn unfanned(db: &Db, limit: u32) -> Result<Vec<(MerchantId, Event)>, DbError> {
    let rows = sqlx::query(
        "SELECT id, merchant_id, topic, subject_id, occurred_at FROM events \
         WHERE fanned_out = 0 ORDER BY occurred_at, id LIMIT $1",
    )
    .bind(i64::from(limit))
    .fetch_all(&db.pool)
    .await
    .map_err(DbError::sql("read events to fan out"))?;
    rows.iter()
        .map(|row| {
            let merchant: String = get(row, "merchant_id")?;
            let event = Event {
                id: get(row, "id")?,
                topic: topic(&get::<String>(row, "topic")?)?,
                subject_id: get(row, "subject_id")?,
                occurred_at: get::<i64>(row, "occurred_at")?.max(0) as u64,
            };
            Ok((MerchantId::new(merchant), event))
        })
        .collect()
}

/// One event's fan-out: the installations it goes to.
pub(crate) struct FanOut<'a> {
    /// Whose event.
    pub merchant: &'a MerchantId,
    /// The event.
    pub event: &'a Event,
    /// Every installation subscribed and granted for it.
    pub to: Vec<InstallationId>,
}

/// A delivery claimed by one dispatcher: it alone may write the outcome, while `fence` is the
/// newest.
#[derive(Debug, Clone)]
pub(crate) struct Claimed {
    pub id: String,
    pub merchant: MerchantId,
    pub installation: InstallationId,
    pub event: Event,
    pub fence: i64,
    /// Tries including this one.
    pub attempts: u32,
}

/// Which deliveries a claim takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimRequest<'a> {
    /// Who claims (a node id), for releasing its claims after a restart.
    pub owner: &'a str,
    pub now: i64,
    pub lease_ms: i64,
    pub limit: u32,
    /// Only this event's deliveries (`emit --wait`).
    pub event: Option<&'a str>,
    /// Installations not to claim now (this node runs as many of theirs as they may have,
    /// or their circuit breaker is open); at most a few hundred.
    pub skip: &'a [InstallationId],
    /// At most this many deliveries of one installation (what a dispatcher can hold of it).
    pub per_installation: u32,
}

/// Claim up to `limit` due deliveries of active, unheld installations: queued ones whose
/// time has come, and running ones whose lease ran out (their dispatcher died), taking turns
/// between merchants. Each claim bumps the fence and counts a try. On PostgreSQL rows
/// another node is claiming are skipped (`FOR UPDATE SKIP LOCKED`); SQLite has one writer at
/// a time.
pub(crate) async fn claim(db: &Db, req: ClaimRequest<'_>) -> Result<Vec<Claimed>, DbError> {
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE OF d SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // Due: queued and its time has come, or claimed by a dispatcher whose lease ran out; its
    // installation active and not held. Checked on `d` as well as in the ranking: on
    // PostgreSQL a row another node claimed meanwhile is re-checked on `d` once locked.
    let skip = &req.skip[..req.skip.len().min(MAX_SKIPPED)];
    let first_skip = if req.event.is_some() { 6 } else { 5 };
    let due = |t: &str| {
        let only_event = if req.event.is_some() {
            format!("AND {t}.event_id = $5")
        } else {
            String::new()
        };
        let not_skipped = if skip.is_empty() {
            String::new()
        } else {
            let list = (first_skip..first_skip + skip.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            format!("AND {t}.installation_id NOT IN ({list})")
        };
        format!(
            "(({t}.state = 'queued' AND {t}.next_at <= $3) OR ({t}.state = 'running' AND {t}.lease_until < $3)) \
             {only_event} {not_skipped} \
             AND EXISTS (SELECT 1 FROM installations i WHERE i.id = {t}.installation_id AND i.status = 'active') \
             AND NOT EXISTS (SELECT 1 FROM delivery_holds h WHERE h.installation_id = {t}.installation_id)"
        )
    };
    // Fair between merchants: each merchant's due deliveries are ranked by time, and a claim
    // takes every merchant's first before anyone's second, so one merchant's flood cannot
    // queue another's events behind it.
    let sql = format!(
        "UPDATE deliveries SET state = 'running', fence = fence + 1, attempts = attempts + 1, \
         lease_owner = $1, lease_until = $2, updated_at = $3 \
         WHERE id IN (SELECT d.id FROM deliveries d JOIN \
           (SELECT x.id, x.next_at, ROW_NUMBER() OVER (PARTITION BY x.merchant_id ORDER BY x.next_at, x.id) AS turn, \
             ROW_NUMBER() OVER (PARTITION BY x.installation_id ORDER BY x.next_at, x.id) AS slot \
            FROM deliveries x WHERE {due_x}) t ON t.id = d.id \
           WHERE t.slot <= {per} AND {due_d} \
           ORDER BY t.turn, t.next_at, t.id LIMIT $4 {lock}) \
         RETURNING id, merchant_id, installation_id, event_id, topic, subject_id, occurred_at, fence, attempts",
        due_x = due("x"),
        due_d = due("d"),
        // A number of ours, not text from anyone: written into the statement.
        per = req.per_installation.max(1),
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(req.owner)
        .bind(req.now.saturating_add(req.lease_ms))
        .bind(req.now)
        .bind(i64::from(req.limit));
    if let Some(event) = req.event {
        query = query.bind(event);
    }
    for id in skip {
        query = query.bind(id.as_str());
    }
    let rows = query
        .fetch_all(&db.pool)
        .await
        .map_err(DbError::sql("claim deliveries"))?;
    rows.iter().map(claimed_from).collect()
}

fn claimed_from(row: &AnyRow) -> Result<Claimed, DbError> {
    Ok(Claimed {
        id: get(row, "id")?,
        merchant: MerchantId::new(get::<String>(row, "merchant_id")?),
        installation: InstallationId::new(get::<String>(row, "installation_id")?),
        event: Event {
            id: get(row, "event_id")?,
            topic: topic(&get::<String>(row, "topic")?)?,
            subject_id: get(row, "subject_id")?,
            occurred_at: get::<i64>(row, "occurred_at")?.max(0) as u64,
        },
        fence: get(row, "fence")?,
        attempts: u32::try_from(get::<i64>(row, "attempts")?).unwrap_or(u32::MAX),
    })
}

/// Make every running claim of `owner` due at once: after a restart, a node's own claims of
/// its previous life are rescued now instead of when their leases run out. The try they
/// were stays counted; the next claim bumps the fence.
pub(crate) async fn rescue_own(db: &Db, owner: &str, now: i64) -> Result<u64, DbError> {
    let done = sqlx::query(
        "UPDATE deliveries SET lease_until = $1 WHERE state = 'running' AND lease_owner = $2",
    )
    .bind(now.saturating_sub(1))
    .bind(owner)
    .execute(&db.pool)
    .await
    .map_err(DbError::sql("rescue deliveries"))?;
    Ok(done.rows_affected())
}

fn get<T>(row: &AnyRow, column: &'static str) -> Result<T, DbError>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    row.try_get(column).map_err(DbError::sql("read outbox row"))
}

fn topic(text: &str) -> Result<Topic, DbError> {
    text.parse().map_err(DbError::Corrupt)
}

/// An event time in the database's integer type.
fn ms(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}
