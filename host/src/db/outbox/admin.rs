//! The outbox as the merchant and the operator see it: deliveries listed, shown and replayed,
//! holds read and lifted, plans' retry schedules read and set.

use sqlx::AssertSqlSafe;
use sqlx::any::AnyRow;

use super::{get, topic};
use crate::db::{Db, DbError};
use crate::ids::{InstallationId, MerchantId};
use crate::outbox::{Delivery, DeliveryFilter, DeliveryState, Hold};
use crate::report::Event;

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
