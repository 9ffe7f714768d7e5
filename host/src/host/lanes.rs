//! Lanes: each installation's calls on one dispatcher. No more of them run at once than its
//! `max_concurrent`; claims beyond that wait in its lane, never longer than their lease
//! allows, so a claim is never taken over by another node while it waits here.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::outbox::Claimed;

use super::known::Known;

/// Most turns of its slots a lane's waiting claims may take.
const MAX_TURNS: usize = 64;
/// One installation's calls on this node: how many run, how many may, and the claims
/// waiting for a turn.
pub(super) struct Lane {
    /// Its calls running here.
    pub running: usize,
    /// How many may run at once (its `max_concurrent`).
    pub cap: usize,
    /// How many claims may wait.
    pub depth: usize,
    /// Claims waiting, with what their batch read and when they were queued.
    pub waiting: VecDeque<(Claimed, Option<Arc<Known>>, Instant)>,
}

impl Lane {
    /// Claims it holds, running and waiting.
    pub fn held(&self) -> usize {
        self.running + self.waiting.len()
    }

    /// How many more claims it may take.
    pub fn room(&self) -> usize {
        (self.cap + self.depth).saturating_sub(self.held())
    }

    /// Holds at least half of what it may: left out of claims until it has run down below
    /// that. Claiming ahead, while half of it is still to run, keeps its slots busy while the
    /// claim is under way (a claim is several database round trips); claiming only once a
    /// slot is free left them idle for each claim, and a claim for a few costs as much as one
    /// for many.
    pub fn full(&self) -> bool {
        self.held() * 2 >= self.cap + self.depth
    }
}

/// A lane for an installation: its calls at once here are its `max_concurrent`; claims wait
/// behind them no longer than the lease leaves after one deadline.
pub(super) fn new_lane(known: Option<&Known>, lease: Duration) -> Lane {
    let (cap, deadline) = match known {
        Some(k) => (k.limits.max_concurrent as usize, k.limits.deadline),
        None => (1, lease),
    };
    let (cap, depth) = lane_shape(cap, deadline, lease);
    Lane {
        running: 0,
        cap,
        depth,
        waiting: VecDeque::new(),
    }
}

/// A lane's slots and how many claims may wait behind them: as many turns of its slots as
/// fit in the lease after one deadline (so no waiting claim outlives its lease), at most
/// [`MAX_TURNS`].
fn lane_shape(cap: usize, deadline: Duration, lease: Duration) -> (usize, usize) {
    let cap = cap.max(1);
    let turns = (lease.as_millis() / deadline.as_millis().max(1)).saturating_sub(1);
    let turns = usize::try_from(turns)
        .unwrap_or(usize::MAX)
        .clamp(1, MAX_TURNS);
    (cap, cap.saturating_mul(turns))
}

/// The claims a lane of `limits` holds (running and waiting).
pub(super) fn lane_size(limits: &crate::limits::Limits, lease: Duration) -> u32 {
    let (cap, depth) = lane_shape(limits.max_concurrent as usize, limits.deadline, lease);
    u32::try_from(cap + depth).unwrap_or(u32::MAX)
}
