//! Claiming due deliveries, fairly and at a cost that does not grow with a backlog.
//!
//! A claim first makes deliveries whose lease ran out (their dispatcher died) queued again,
//! then walks the installations that have queued deliveries, one index seek each (a
//! recursive skip-scan of `deliveries_queue`), keeping the active, unheld ones whose oldest
//! delivery is due. The batch is shared out between merchants first (each merchant's oldest
//! work first, an equal share each), then between each merchant's installations, so one
//! merchant's flood cannot queue another's events behind it. Each installation's share is
//! taken with one indexed statement: the oldest of its due deliveries, `FOR UPDATE SKIP
//! LOCKED` on PostgreSQL so nodes claiming at once take different ones. Each claim bumps the
//! fence and counts a try.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{AssertSqlSafe, Row};

use super::{ClaimRequest, Claimed, claimed_from};
use crate::db::{Backend, Db, DbError, Params, unindexed};
use crate::ids::{InstallationId, MerchantId};
use crate::outbox::MerchantCaps;

/// An installation with due work.
struct Due {
    installation: InstallationId,
    merchant: MerchantId,
    first_at: i64,
}

/// Claim up to `req.ask.limit` due deliveries (see the module's documentation).
pub(crate) async fn claim(db: &Db, req: ClaimRequest<'_>) -> Result<Vec<Claimed>, DbError> {
    if req.ask.rescue {
        rescue_expired(db, req.now).await?;
    }
    if let Some(event) = req.ask.event {
        return claim_event(db, &req, event).await;
    }
    let due = due_installations(db, &req).await?;
    let room_of = |i: &InstallationId| {
        let held = req.ask.room.and_then(|r| r.get(i).copied());
        held.map_or(req.ask.per_installation, |r| {
            r.min(req.ask.per_installation)
        })
    };
    let plan = share_out(&due, req.ask.limit, &room_of, req.ask.caps);
    let mut claimed = claim_shares(db, &req, &plan).await?;
    // Shares some installations could not fill go to those that filled theirs (they may
    // have more), in the same order, within their merchant's cap. (Maps, not scans: a claim
    // may share out among thousands of installations.)
    let mut left = (req.ask.limit as usize).saturating_sub(claimed.len());
    let merchant_of: HashMap<&InstallationId, &MerchantId> =
        due.iter().map(|d| (&d.installation, &d.merchant)).collect();
    let mut got: HashMap<&InstallationId, usize> = HashMap::new();
    for c in &claimed {
        *got.entry(&c.installation).or_default() += 1;
    }
    let mut room: HashMap<&MerchantId, u32> = HashMap::new();
    if let Some(caps) = req.ask.caps {
        for (installation, given) in &plan {
            if let Some(merchant) = merchant_of.get(installation) {
                let left_of = room.entry(merchant).or_insert_with(|| caps.of(merchant));
                *left_of = left_of.saturating_sub(*given);
            }
        }
    }
    let mut refill = Vec::new();
    for (installation, took) in &plan {
        let got = got.get(installation).copied().unwrap_or(0);
        let cap = merchant_of.get(installation).and_then(|m| room.get_mut(*m));
        let mut more = room_of(installation).saturating_sub(*took);
        if let Some(cap) = cap.as_deref() {
            more = more.min(*cap);
        }
        if left == 0 || got < *took as usize || more == 0 {
            continue;
        }
        let take = more.min(u32::try_from(left).unwrap_or(u32::MAX));
        left -= take as usize;
        if let Some(cap) = cap {
            *cap -= take;
        }
        refill.push((installation.clone(), take));
    }
    claimed.extend(claim_shares(db, &req, &refill).await?);
    Ok(claimed)
}

/// Make deliveries whose claim's lease ran out queued again, due now. Their old claim's
/// outcome can no longer be written (it needs the delivery running under its fence), and the
/// next claim bumps the fence.
async fn rescue_expired(db: &Db, now: i64) -> Result<(), DbError> {
    sqlx::query(
        "UPDATE deliveries SET state = 'queued', next_at = $1, lease_owner = NULL, \
         lease_until = NULL WHERE state = 'running' AND lease_until < $1",
    )
    .bind(now)
    .execute(db.outbox())
    .await
    .map_err(DbError::sql("rescue expired claims"))?;
    Ok(())
}

/// The active, unheld installations with a due delivery, and not left out by the claimer.
async fn due_installations(db: &Db, req: &ClaimRequest<'_>) -> Result<Vec<Due>, DbError> {
    let err = || DbError::sql("find due deliveries");
    let rows = sqlx::query(
        "WITH RECURSIVE q(i) AS ( \
           SELECT MIN(installation_id) FROM deliveries WHERE state = 'queued' \
           UNION ALL \
           SELECT (SELECT MIN(installation_id) FROM deliveries \
                   WHERE state = 'queued' AND installation_id > q.i) \
           FROM q WHERE q.i IS NOT NULL) \
         SELECT q.i AS installation_id, i.merchant_id AS merchant_id, \
           (SELECT MIN(d.next_at) FROM deliveries d \
            WHERE d.state = 'queued' AND d.installation_id = q.i) AS first_at \
         FROM q JOIN installations i ON i.id = q.i \
         WHERE i.status = 'active' \
         AND NOT EXISTS (SELECT 1 FROM delivery_holds h WHERE h.installation_id = q.i)",
    )
    .fetch_all(db.outbox())
    .await
    .map_err(err())?;
    let skip: HashSet<&str> = req.ask.skip.iter().map(InstallationId::as_str).collect();
    let mut due = Vec::new();
    for row in rows {
        let installation: String = row.try_get("installation_id").map_err(err())?;
        let first_at: Option<i64> = row.try_get("first_at").map_err(err())?;
        let Some(first_at) = first_at.filter(|at| *at <= req.now) else {
            continue;
        };
        if skip.contains(installation.as_str()) {
            continue;
        }
        due.push(Due {
            installation: InstallationId::new(installation),
            merchant: MerchantId::new(row.try_get::<String, _>("merchant_id").map_err(err())?),
            first_at,
        });
    }
    Ok(due)
}

/// How many of `limit` each installation gets: merchants in turn (oldest work first), an
/// equal share each (never more than its cap; one with none left is not counted), split
/// between the merchant's installations (oldest first), at most its `room` each. An
/// installation with fewer due leaves its share unused this time.
fn share_out(
    due: &[Due],
    limit: u32,
    room: &dyn Fn(&InstallationId) -> u32,
    caps: Option<&MerchantCaps>,
) -> Vec<(InstallationId, u32)> {
    let cap_of = |m: &MerchantId| caps.map_or(u32::MAX, |c| c.of(m));
    let mut by_merchant: BTreeMap<&MerchantId, Vec<&Due>> = BTreeMap::new();
    for d in due.iter().filter(|d| cap_of(&d.merchant) > 0) {
        by_merchant.entry(&d.merchant).or_default().push(d);
    }
    let mut merchants: Vec<Vec<&Due>> = by_merchant.into_values().collect();
    for list in &mut merchants {
        list.sort_by_key(|d| (d.first_at, d.installation.as_str().to_owned()));
    }
    merchants.sort_by_key(|list| list.first().map_or(i64::MAX, |d| d.first_at));
    let Ok(count) = u32::try_from(merchants.len()) else {
        return Vec::new();
    };
    if count == 0 {
        return Vec::new();
    }
    let per_merchant = limit.div_ceil(count).max(1);
    let mut left = limit;
    let mut out = Vec::new();
    for list in merchants {
        let n = u32::try_from(list.len()).unwrap_or(u32::MAX).max(1);
        let mut cap = list.first().map_or(0, |d| cap_of(&d.merchant));
        let share = per_merchant.min(cap);
        let each = share.div_ceil(n).max(1);
        for d in list {
            if left == 0 {
                return out;
            }
            let take = each.min(room(&d.installation)).min(left).min(cap);
            if take == 0 && cap > 0 {
                continue;
            }
            if take == 0 {
                break;
            }
            left -= take;
            cap -= take;
            out.push((d.installation.clone(), take));
        }
    }
    out
}

/// Installations one claim statement takes from (short lists are padded, so every such
/// statement has one shape).
const ARMS: usize = 16;

/// Claim each installation's share, oldest first: [`ARMS`] installations a statement, each
/// an indexed range of its own.
async fn claim_shares(
    db: &Db,
    req: &ClaimRequest<'_>,
    shares: &[(InstallationId, u32)],
) -> Result<Vec<Claimed>, DbError> {
    if shares.is_empty() {
        return Ok(Vec::new());
    }
    let sql = claim_shares_sql(db.backend());
    let mut claimed = Vec::new();
    for chunk in shares.chunks(ARMS) {
        let mut query = sqlx::query(AssertSqlSafe(sql.clone()));
        for i in 0..ARMS {
            let (installation, take) = match chunk.get(i) {
                Some((installation, take)) => (installation.as_str(), i64::from(*take)),
                None => ("", 0),
            };
            query = query.bind(installation).bind(req.now).bind(take);
        }
        let rows = query
            .bind(req.owner)
            .bind(req.now.saturating_add(req.lease_ms))
            .bind(req.now)
            .bind(req.now)
            .fetch_all(db.outbox())
            .await
            .map_err(DbError::sql("claim deliveries"))?;
        for row in &rows {
            claimed.push(claimed_from(row)?);
        }
    }
    Ok(claimed)
}

/// The statement [`claim_shares`] runs: [`ARMS`] installations' oldest due deliveries, each
/// an index range of the queue (`deliveries_queue` ends with `id`, so the `ORDER BY` needs no
/// sort however many are due at the same millisecond), then their claim.
pub(super) fn claim_shares_sql(backend: Backend) -> String {
    let lock = match backend {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let mut p = Params::new(backend);
    let arms: Vec<String> = (0..ARMS)
        .map(|i| {
            let (installation, now, take) = (p.one(), p.one(), p.one());
            format!(
                "SELECT id FROM (SELECT id FROM deliveries WHERE state = 'queued' \
                 AND installation_id = {installation} AND next_at <= {now} \
                 ORDER BY next_at, id LIMIT {take} {lock}) a{i}"
            )
        })
        .collect();
    let (owner, until, now, due) = (p.one(), p.one(), p.one(), p.one());
    format!(
        "WITH picked AS MATERIALIZED ({}) {}",
        arms.join(" UNION ALL "),
        update_picked(backend, &owner, &until, &now, &due)
    )
}

/// The claim of the rows a `picked` CTE chose: lease them to this claimer, bump their fence,
/// count a try. The state and time are checked again on the row itself.
///
/// The pick is a materialised CTE (locked `FOR UPDATE SKIP LOCKED` on PostgreSQL), so it is
/// evaluated once: as an `IN (…)` subquery it may be run again for the join, and SKIP LOCKED
/// then picks other rows each time, claiming more than asked. The rows are found by their
/// primary key, never by walking the queue's index (see [`unindexed`]).
fn update_picked(backend: Backend, owner: &str, until: &str, now: &str, due: &str) -> String {
    let state = unindexed(backend, "state");
    format!(
        "UPDATE deliveries SET state = 'running', fence = fence + 1, attempts = attempts + 1, \
         lease_owner = {owner}, lease_until = {until}, updated_at = {now} \
         WHERE {state} = 'queued' AND next_at <= {due} AND id IN (SELECT id FROM picked) \
         RETURNING id, merchant_id, installation_id, event_id, topic, subject_id, occurred_at, fence, attempts"
    )
}

/// Claim the due deliveries of one event (`emit --wait`), of active, unheld installations.
async fn claim_event(
    db: &Db,
    req: &ClaimRequest<'_>,
    event: &str,
) -> Result<Vec<Claimed>, DbError> {
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "WITH picked AS MATERIALIZED ( \
           SELECT d.id FROM deliveries d WHERE d.event_id = $1 AND d.state = 'queued' \
           AND d.next_at <= $2 \
           AND EXISTS (SELECT 1 FROM installations i WHERE i.id = d.installation_id AND i.status = 'active') \
           AND NOT EXISTS (SELECT 1 FROM delivery_holds h WHERE h.installation_id = d.installation_id) \
           ORDER BY d.id LIMIT $3 {lock}) {}",
        update_picked(db.backend(), "$4", "$5", "$2", "$2")
    );
    let rows = sqlx::query(AssertSqlSafe(sql))
        .bind(event)
        .bind(req.now)
        .bind(i64::from(req.ask.limit.max(1)))
        .bind(req.owner)
        .bind(req.now.saturating_add(req.lease_ms))
        .fetch_all(db.outbox())
        .await
        .map_err(DbError::sql("claim deliveries"))?;
    rows.iter().map(claimed_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(installation: &str, merchant: &str, first_at: i64) -> Due {
        Due {
            installation: InstallationId::new(installation),
            merchant: MerchantId::new(merchant),
            first_at,
        }
    }

    #[test]
    fn every_merchant_gets_an_equal_share_before_anyone_gets_more() {
        // The flood merchant's work is older, yet the quiet one still gets its share.
        let list = [
            due("flood-a", "flood", 1),
            due("flood-b", "flood", 2),
            due("quiet-a", "quiet", 100),
        ];
        let out = share_out(&list, 8, &|_| 1000, None);
        let of = |id: &str| out.iter().find(|(i, _)| i.as_str() == id).map(|(_, n)| *n);
        assert_eq!(of("flood-a"), Some(2));
        assert_eq!(of("flood-b"), Some(2));
        assert_eq!(of("quiet-a"), Some(4));
        // Never more than asked, never more than one installation may hold.
        let out = share_out(&list, 3, &|_| 1, None);
        assert!(out.iter().map(|(_, n)| n).sum::<u32>() <= 3);
        assert!(out.iter().all(|(_, n)| *n == 1));
        assert!(share_out(&[], 10, &|_| 10, None).is_empty());
    }

    #[test]
    fn an_installation_gets_no_more_than_its_lane_has_room_for() {
        // `a` already holds claims here with room for 3 more; `b` holds none.
        let list = [due("a", "m", 1), due("b", "m", 2)];
        let room = |i: &InstallationId| if i.as_str() == "a" { 3 } else { 1000 };
        let out = share_out(&list, 100, &room, None);
        assert_eq!(
            out,
            vec![
                (InstallationId::new("a"), 3),
                (InstallationId::new("b"), 50)
            ]
        );
        // One with no room at all is passed over, not the end of its merchant's list.
        let room = |i: &InstallationId| if i.as_str() == "a" { 0 } else { 1000 };
        let out = share_out(&list, 10, &room, None);
        assert_eq!(out, vec![(InstallationId::new("b"), 5)]);
    }

    #[test]
    fn a_merchant_gets_no_more_than_its_cap_and_the_rest_go_to_others() {
        let list = [
            due("flood-a", "flood", 1),
            due("flood-b", "flood", 2),
            due("quiet-a", "quiet", 100),
        ];
        let caps = MerchantCaps {
            default: 100,
            of: [(MerchantId::new("flood"), 3)].into_iter().collect(),
        };
        let out = share_out(&list, 8, &|_| 1000, Some(&caps));
        let of = |id: &str| out.iter().find(|(i, _)| i.as_str() == id).map(|(_, n)| *n);
        assert_eq!(of("flood-a").unwrap_or(0) + of("flood-b").unwrap_or(0), 3);
        assert_eq!(of("quiet-a"), Some(4));
        // A merchant with nothing left is left out: the others share the whole batch.
        let caps = MerchantCaps {
            default: 100,
            of: [(MerchantId::new("flood"), 0)].into_iter().collect(),
        };
        let out = share_out(&list, 8, &|_| 1000, Some(&caps));
        assert_eq!(out, vec![(InstallationId::new("quiet-a"), 8)]);
    }
}
