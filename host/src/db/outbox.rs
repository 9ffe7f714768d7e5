//! The outbox's queries: events written by `emit` (or by the change that caused them, in its
//! own transaction), fanned out to deliveries, claimed under a lease with a fencing counter,
//! completed only by the newest claim, listed and replayed.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Backend, Db, DbError};
use crate::ids::{InstallationId, MerchantId};
use crate::outbox::{Delivery, DeliveryFilter, DeliveryState, Hold};
use crate::report::Event;
use crate::text::sanitize;
use crate::topics::Topic;

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

/// Write the deliveries of each event and mark it fanned out, in one transaction. An event
/// another node fanned out first is left alone (its mark is the first write, so the second
/// node waits for the first to commit and then finds nothing to do). Returns how many
/// deliveries were written.
pub(crate) async fn fan_out(db: &Db, plans: &[FanOut<'_>], now: i64) -> Result<u64, DbError> {
    let mut tx = db.pool.begin().await.map_err(DbError::sql("fan out"))?;
    let mut written = 0;
    for plan in plans {
        let mark = sqlx::query("UPDATE events SET fanned_out = 1 WHERE id = $1 AND fanned_out = 0")
            .bind(&plan.event.id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::sql("fan out"))?;
        if mark.rows_affected() == 0 {
            continue;
        }
        for installation in &plan.to {
            let done = sqlx::query(
                "INSERT INTO deliveries (id, event_id, merchant_id, installation_id, topic, \
                 subject_id, occurred_at, state, attempts, next_at, fence, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', 0, $8, 0, $8, $8) \
                 ON CONFLICT (event_id, installation_id) DO NOTHING",
            )
            .bind(format!("dlv_{}", uuid::Uuid::new_v4().simple()))
            .bind(&plan.event.id)
            .bind(plan.merchant.as_str())
            .bind(installation.as_str())
            .bind(plan.event.topic.as_str())
            .bind(&plan.event.subject_id)
            .bind(ms(plan.event.occurred_at))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(DbError::sql("write delivery"))?;
            written += done.rows_affected();
        }
    }
    tx.commit().await.map_err(DbError::sql("fan out"))?;
    Ok(written)
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
    let due = |t: &str| {
        let only_event = if req.event.is_some() {
            format!("AND {t}.event_id = $5")
        } else {
            String::new()
        };
        format!(
            "(({t}.state = 'queued' AND {t}.next_at <= $3) OR ({t}.state = 'running' AND {t}.lease_until < $3)) \
             {only_event} \
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
           (SELECT x.id, x.next_at, ROW_NUMBER() OVER (PARTITION BY x.merchant_id ORDER BY x.next_at, x.id) AS turn \
            FROM deliveries x WHERE {due_x}) t ON t.id = d.id \
           WHERE {due_d} \
           ORDER BY t.turn, t.next_at, t.id LIMIT $4 {lock}) \
         RETURNING id, merchant_id, installation_id, event_id, topic, subject_id, occurred_at, fence, attempts",
        due_x = due("x"),
        due_d = due("d"),
    );
    let mut query = sqlx::query(AssertSqlSafe(sql))
        .bind(req.owner)
        .bind(req.now.saturating_add(req.lease_ms))
        .bind(req.now)
        .bind(i64::from(req.limit));
    if let Some(event) = req.event {
        query = query.bind(event);
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

/// Write outcomes in one transaction. An outcome whose fence is no longer the newest (its
/// lease ran out and another dispatcher claimed the delivery again) is dropped: it can never
/// overwrite a newer outcome. Returns how many were written.
pub(crate) async fn complete(db: &Db, outcomes: &[Outcome], now: i64) -> Result<u64, DbError> {
    if outcomes.is_empty() {
        return Ok(0);
    }
    let mut tx = db
        .pool
        .begin()
        .await
        .map_err(DbError::sql("write outcomes"))?;
    let mut written = 0;
    for o in outcomes {
        let done = sqlx::query(
            "UPDATE deliveries SET state = $1, next_at = $2, attempts = attempts - $3, \
             lease_owner = NULL, lease_until = NULL, last_code = COALESCE($4, last_code), \
             last_detail = COALESCE($5, last_detail), updated_at = $6 \
             WHERE id = $7 AND fence = $8 AND state = 'running'",
        )
        .bind(o.state.as_str())
        .bind(o.next_at)
        .bind(i64::from(o.uncount))
        .bind(o.code.as_deref())
        .bind(o.detail.as_deref().map(|d| sanitize(d, MAX_DETAIL_CHARS)))
        .bind(now)
        .bind(&o.id)
        .bind(o.fence)
        .execute(&mut *tx)
        .await
        .map_err(DbError::sql("write outcome"))?;
        if done.rows_affected() == 0 {
            tracing::info!(delivery = %o.id, fence = o.fence,
                "a newer claim owns this delivery; this outcome is dropped");
            continue;
        }
        written += 1;
        if let Some((installation, hold)) = &o.hold {
            put_hold(&mut tx, installation, hold).await?;
        }
    }
    tx.commit().await.map_err(DbError::sql("write outcomes"))?;
    Ok(written)
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

/// Why an installation's deliveries wait for the merchant, if they do.
pub(crate) async fn hold_of(
    db: &Db,
    installation: &InstallationId,
) -> Result<Option<Hold>, DbError> {
    let row =
        sqlx::query("SELECT cause, detail, since FROM delivery_holds WHERE installation_id = $1")
            .bind(installation.as_str())
            .fetch_optional(&db.pool)
            .await
            .map_err(DbError::sql("read hold"))?;
    row.map(|row| {
        Ok(Hold {
            cause: get(&row, "cause")?,
            detail: get(&row, "detail")?,
            since: get(&row, "since")?,
        })
    })
    .transpose()
}

/// Lift an installation's hold: its queued deliveries become due again. Returns whether
/// there was one.
pub(crate) async fn lift_hold(db: &Db, installation: &InstallationId) -> Result<bool, DbError> {
    let done = sqlx::query("DELETE FROM delivery_holds WHERE installation_id = $1")
        .bind(installation.as_str())
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("lift hold"))?;
    Ok(done.rows_affected() > 0)
}

/// The retry schedule of `merchant`'s plan, as stored (`None`: the host default).
pub(crate) async fn retry_schedule(
    db: &Db,
    merchant: &MerchantId,
) -> Result<Option<String>, DbError> {
    let row = sqlx::query(
        "SELECT p.retry_schedule FROM plans p JOIN merchants m ON m.plan_id = p.id WHERE m.id = $1",
    )
    .bind(merchant.as_str())
    .fetch_optional(&db.pool)
    .await
    .map_err(DbError::sql("read retry schedule"))?;
    Ok(match row {
        Some(row) => get::<Option<String>>(&row, "retry_schedule")?,
        None => None,
    })
}

/// Set (or with `None` clear) a plan's retry schedule. Returns whether the plan exists.
pub(crate) async fn set_retry_schedule(
    db: &Db,
    plan: &str,
    schedule: Option<&str>,
) -> Result<bool, DbError> {
    let done = sqlx::query("UPDATE plans SET retry_schedule = $1 WHERE id = $2")
        .bind(schedule)
        .bind(plan)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("write retry schedule"))?;
    Ok(done.rows_affected() > 0)
}

const DELIVERY_COLUMNS: &str = "id, merchant_id, installation_id, event_id, topic, subject_id, \
    occurred_at, state, attempts, next_at, last_code, last_detail, created_at, updated_at";

/// `merchant`'s deliveries matching `filter`, newest first, at most `limit`.
pub(crate) async fn list(
    db: &Db,
    merchant: &MerchantId,
    filter: &DeliveryFilter,
    limit: u32,
) -> Result<Vec<Delivery>, DbError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE merchant_id = $1 \
         AND ($2 IS NULL OR installation_id = $2) AND ($3 IS NULL OR state = $3) \
         AND ($4 IS NULL OR occurred_at >= $4) AND ($5 IS NULL OR event_id = $5) \
         ORDER BY created_at DESC, id LIMIT $6"
    );
    let rows = bind_filter(sqlx::query(AssertSqlSafe(sql)), merchant, filter)
        .bind(i64::from(limit))
        .fetch_all(&db.pool)
        .await
        .map_err(DbError::sql("read deliveries"))?;
    rows.iter().map(delivery_from).collect()
}

/// One delivery of `merchant`, by id.
pub(crate) async fn get_delivery(
    db: &Db,
    merchant: &MerchantId,
    id: &str,
) -> Result<Option<Delivery>, DbError> {
    let sql =
        format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE merchant_id = $1 AND id = $2");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(merchant.as_str())
        .bind(id)
        .fetch_optional(&db.pool)
        .await
        .map_err(DbError::sql("read delivery"))?;
    row.as_ref().map(delivery_from).transpose()
}

/// Queue `merchant`'s finished deliveries matching `filter` again (dead, delivered or
/// skipped; never one queued or running), due at `now` with a fresh set of tries, the
/// event id unchanged. Returns how many.
pub(crate) async fn replay(
    db: &Db,
    merchant: &MerchantId,
    filter: &DeliveryFilter,
    only_id: Option<&str>,
    now: i64,
) -> Result<u64, DbError> {
    let sql = "UPDATE deliveries SET state = 'queued', attempts = 0, next_at = $7, updated_at = $7 \
         WHERE merchant_id = $1 \
         AND ($2 IS NULL OR installation_id = $2) AND ($3 IS NULL OR state = $3) \
         AND ($4 IS NULL OR occurred_at >= $4) AND ($5 IS NULL OR event_id = $5) \
         AND ($6 IS NULL OR id = $6) AND state IN ('dead', 'delivered', 'skipped')";
    let done = bind_filter(sqlx::query(sql), merchant, filter)
        .bind(only_id)
        .bind(now)
        .execute(&db.pool)
        .await
        .map_err(DbError::sql("replay deliveries"))?;
    Ok(done.rows_affected())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind_filter<'q>(query: Query<'q>, merchant: &MerchantId, filter: &DeliveryFilter) -> Query<'q> {
    query
        .bind(merchant.as_str().to_owned())
        .bind(filter.installation.as_ref().map(|i| i.as_str().to_owned()))
        .bind(filter.state.map(DeliveryState::as_str))
        .bind(filter.since)
        .bind(filter.event.clone())
}

fn delivery_from(row: &AnyRow) -> Result<Delivery, DbError> {
    let state: String = get(row, "state")?;
    let state: DeliveryState = state
        .parse()
        .map_err(|e: crate::outbox::UnknownState| DbError::Corrupt(e.to_string()))?;
    Ok(Delivery {
        id: get(row, "id")?,
        event: Event {
            id: get(row, "event_id")?,
            topic: topic(&get::<String>(row, "topic")?)?,
            subject_id: get(row, "subject_id")?,
            occurred_at: get::<i64>(row, "occurred_at")?.max(0) as u64,
        },
        merchant: MerchantId::new(get::<String>(row, "merchant_id")?),
        installation: InstallationId::new(get::<String>(row, "installation_id")?),
        state,
        attempts: u32::try_from(get::<i64>(row, "attempts")?).unwrap_or(u32::MAX),
        next_at: (state == DeliveryState::Queued)
            .then(|| get::<i64>(row, "next_at"))
            .transpose()?,
        last_code: get(row, "last_code")?,
        last_detail: get(row, "last_detail")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
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
