//! The outbox's queries: events written by `emit` (or by the change that caused them, in its
//! own transaction), fanned out to deliveries, claimed under a lease with a fencing counter,
//! completed only by the newest claim, listed and replayed.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Db, DbError};
use crate::ids::{InstallationId, MerchantId};
use crate::outbox::MerchantCaps;
use crate::report::Event;
use crate::topics::Topic;

mod admin;
mod claim;
#[cfg(test)]
mod plans;
mod write;

pub(crate) use admin::{
    get_delivery, hold_of, lift_hold, list, replay, retry_schedule, set_retry_schedule,
};
pub(crate) use claim::claim;
pub(crate) use write::{Outcome, Pad, complete, fan_out, pad};

/// Longest cause detail stored, in characters.
const MAX_DETAIL_CHARS: usize = 512;

/// Write one event to the outbox on `conn`, if `merchant` exists: false when it does not.
/// On a transaction's connection the event commits with the change that caused it, or not
/// at all; on its own (`emit`, [`write_event`]) it is one statement, one round trip.
pub(crate) async fn insert_event(
    conn: &mut AnyConnection,
    merchant: &MerchantId,
    event: &Event,
) -> Result<bool, DbError> {
    let written = sqlx::query(
        "INSERT INTO events (id, merchant_id, topic, subject_id, occurred_at, fanned_out) \
         SELECT $1, id, $2, $3, $4, 0 FROM merchants WHERE id = $5",
    )
    .bind(&event.id)
    .bind(event.topic.as_str())
    .bind(&event.subject_id)
    .bind(ms(event.occurred_at))
    .bind(merchant.as_str())
    .execute(&mut *conn)
    .await
    .map_err(DbError::sql("write event"))?;
    Ok(written.rows_affected() == 1)
}

/// Write one event on its own (`emit`): false when `merchant` does not exist. One statement
/// (where a read of the plan and a transaction took four round trips): under load each
/// round trip costs about a millisecond, and an emit is where a merchant's delivery latency
/// starts.
pub(crate) async fn write_event(
    db: &Db,
    merchant: &MerchantId,
    event: &Event,
) -> Result<bool, DbError> {
    let mut conn = db
        .pool
        .acquire()
        .await
        .map_err(DbError::sql("write event"))?;
    insert_event(&mut conn, merchant, event).await
}

/// A merchant's oldest events not fanned out yet: one range of `events_unfanned`, in its
/// order (`plans.rs`).
pub(super) const UNFANNED_OF_MERCHANT: &str = "SELECT id, merchant_id, topic, subject_id, occurred_at FROM events \
     WHERE fanned_out = 0 AND merchant_id = $1 ORDER BY occurred_at, id LIMIT $2";

/// Events not fanned out yet, up to `limit`: the merchants with new events in turn, an
/// equal share each (a merchant with fewer leaves the rest to the others), each merchant's
/// oldest first, no more events than its cap allows deliveries: fanning a flood out ahead of
/// its merchant's rate would only fill the database's write lock (measured: the neighbour's
/// p99 stayed at 18× with claims alone capped). One index seek per merchant with new events,
/// whatever their number. Also says whether more may be waiting: a merchant filled its share
/// and was not held back by its rate (one given deliveries lately, whose bucket is not full,
/// waits for the refill; one with a full bucket, whose events perhaps go to nobody, goes on
/// at the next claim).
pub(crate) async fn unfanned(
    db: &Db,
    limit: u32,
    caps: Option<&MerchantCaps>,
) -> Result<(Vec<(MerchantId, Event)>, bool), DbError> {
    let err = || DbError::sql("read events to fan out");
    let merchants: Vec<String> = sqlx::query(
        "WITH RECURSIVE q(m) AS ( \
           SELECT MIN(merchant_id) FROM events WHERE fanned_out = 0 \
           UNION ALL \
           SELECT (SELECT MIN(merchant_id) FROM events WHERE fanned_out = 0 AND merchant_id > q.m) \
           FROM q WHERE q.m IS NOT NULL) \
         SELECT m FROM q WHERE m IS NOT NULL",
    )
    .fetch_all(db.outbox())
    .await
    .map_err(err())?
    .iter()
    .map(|row| row.try_get::<String, _>("m"))
    .collect::<Result<_, _>>()
    .map_err(err())?;
    let Ok(count) = u32::try_from(merchants.len()) else {
        return Ok((Vec::new(), false));
    };
    let (mut out, mut more) = (Vec::new(), false);
    for (i, merchant) in merchants.iter().enumerate() {
        // Each merchant's share of what is left, so the room one does not use goes on.
        let left = limit.saturating_sub(u32::try_from(out.len()).unwrap_or(u32::MAX));
        let share = left.div_ceil(count - u32::try_from(i).unwrap_or(0)).max(1);
        if left == 0 {
            break;
        }
        let id = MerchantId::new(merchant.as_str());
        let cap = caps.map_or(u32::MAX, |c| c.of(&id));
        // Given deliveries lately (its bucket not full): what it could not take waits for its
        // refill. Otherwise its burst is only this round's share: more may follow at once.
        let limited = caps.is_some_and(|c| c.of.contains_key(&id));
        let share = share.min(cap);
        if share == 0 {
            continue;
        }
        let rows = sqlx::query(UNFANNED_OF_MERCHANT)
            .bind(merchant.as_str())
            .bind(i64::from(share))
            .fetch_all(db.outbox())
            .await
            .map_err(err())?;
        more |= rows.len() >= share as usize && (share < cap || !limited);
        for row in &rows {
            let event = Event {
                id: get(row, "id")?,
                topic: topic(&get::<String>(row, "topic")?)?,
                subject_id: get(row, "subject_id")?,
                occurred_at: get::<i64>(row, "occurred_at")?.max(0) as u64,
            };
            out.push((MerchantId::new(merchant.as_str()), event));
        }
    }
    Ok((out, more))
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
    /// What to claim.
    pub ask: ClaimAsk<'a>,
}

/// What a claim asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ClaimAsk<'a> {
    /// Deliveries at most.
    pub limit: u32,
    /// Only this event's deliveries (`emit --wait`).
    pub event: Option<&'a str>,
    /// Installations not to claim now (this node runs as many of theirs as they may have,
    /// or their circuit breaker is open); at most a few hundred.
    pub skip: &'a [InstallationId],
    /// At most this many deliveries of one installation (what a dispatcher can hold of it).
    pub per_installation: u32,
    /// Installations the dispatcher already holds claims of, with how many more each may
    /// take (used instead of `per_installation` when smaller).
    pub room: Option<&'a HashMap<InstallationId, u32>>,
    /// Queue again deliveries whose lease ran out first (a dispatcher does it once in a
    /// while, not before every claim: it is a write).
    pub rescue: bool,
    /// At most this many deliveries of each merchant (its rate on this node); `None`: no cap.
    pub caps: Option<&'a MerchantCaps>,
}

pub(super) fn claimed_from(row: &AnyRow) -> Result<Claimed, DbError> {
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
    .execute(db.outbox())
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
