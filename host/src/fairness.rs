//! Worker time shared between merchants. A per-call fair slice alone is not enough: a
//! merchant whose connector is stopped at its deadline (or traps) and started again gets a
//! fresh full-speed slice every time, and six such calls at once fill both cores of a small
//! host. So every merchant carries one account of the worker time all its calls took
//! recently, fading over [`DECAY`]; while other merchants are running, a merchant past
//! [`MERCHANT_BURST_TICKS`] has every one of its calls pause in proportion to how many it is
//! running, which holds the merchant as a whole near one tick in
//! [`PAUSE_TICKS`] + 1. Alone on the host, nobody is waiting and nothing
//! pauses.
//!
//! Worker time is the time a call's future spends being polled ([`Timed`]): its guest code
//! and the host code it runs inline (memory growth, copying, host functions), but not the
//! time it waits on the database or a provider, which takes nothing from anyone.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::ids::MerchantId;

/// How often the epoch ticks: deadlines are whole ticks, and a running connector hands its
/// worker thread back at every tick (behind every task already waiting).
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Worker time a call may use before it starts giving way.
pub const FAIR_SLICE: Duration = Duration::from_millis(5);

/// Worker time a call may take without it counting against its merchant's share: a typical
/// event handler needs well under a millisecond, and a merchant busy with many such events
/// is busy, not hostile. A call that runs longer is charged in full, from its start.
pub const FREE_WORK: Duration = Duration::from_millis(2);

/// Ticks a call past its fair slice pauses for every tick it runs.
pub const PAUSE_TICKS: u32 = 19;

/// How fast a merchant's recorded use fades: time used this long ago counts for 1/e. It is
/// also how long a merchant counts as present after its last call ended.
pub const DECAY: Duration = Duration::from_millis(100);

/// Ticks of charged worker time (decayed) a merchant may use before its calls give way to
/// other merchants' calls: 5 ms in a 100 ms window. Calls within
/// [`FREE_WORK`] are not charged, so this only ever counts long calls.
pub const MERCHANT_BURST_TICKS: f64 = 5.0;

/// The worker time of one call: how long its future has been polled.
#[derive(Debug, Default)]
pub(crate) struct WorkClock {
    since: Option<Instant>,
    used: Duration,
    charged: Duration,
}

impl WorkClock {
    /// A poll starts.
    fn resume(&mut self, now: Instant) {
        if self.since.is_none() {
            self.since = Some(now);
        }
    }

    /// A poll ends.
    fn pause(&mut self, now: Instant) {
        if let Some(since) = self.since.take() {
            self.used += now.saturating_duration_since(since);
        }
    }

    /// Worker time so far (a poll in progress counts up to `now`).
    pub(crate) fn used(&self, now: Instant) -> Duration {
        self.used
            + self
                .since
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s))
    }

    /// What to charge the merchant now, and the worker time so far: nothing while the call
    /// is within `free`, then everything not yet charged, from the call's start.
    pub(crate) fn chargeable(&mut self, now: Instant, free: Duration) -> (Duration, Duration) {
        let used = self.used(now);
        if used > free {
            (self.uncharged(now), used)
        } else {
            (Duration::ZERO, used)
        }
    }

    /// Worker time not yet charged to the merchant; marks it charged.
    fn uncharged(&mut self, now: Instant) -> Duration {
        let used = self.used(now);
        let fresh = used.saturating_sub(self.charged);
        self.charged = used;
        fresh
    }
}

/// A call's [`WorkClock`], shared by the future that drives it and its epoch callback.
#[derive(Clone, Default)]
pub(crate) struct SharedClock(Arc<Mutex<WorkClock>>);

impl SharedClock {
    /// Run `f` on the clock.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut WorkClock) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A future whose polls are timed on a [`SharedClock`].
pub(crate) struct Timed<F> {
    inner: Pin<Box<F>>,
    clock: SharedClock,
}

impl<F: Future> Timed<F> {
    /// Time the polls of `inner` on `clock`.
    pub(crate) fn new(inner: F, clock: SharedClock) -> Self {
        Timed {
            inner: Box::pin(inner),
            clock,
        }
    }
}

impl<F: Future> Future for Timed<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.clock.with(|c| c.resume(Instant::now()));
        let out = self.inner.as_mut().poll(cx);
        self.clock.with(|c| c.pause(Instant::now()));
        out
    }
}

/// Above this many accounts, idle ones are swept out when a call starts.
const SWEEP_ABOVE: usize = 1024;

/// Every merchant's recent worker time, and how many merchants have a call running.
#[derive(Clone, Default)]
pub(crate) struct Shares {
    inner: Arc<Inner>,
}

struct Inner {
    accounts: Mutex<HashMap<MerchantId, Arc<Account>>>,
    /// Merchants with at least one call running; changed only under `accounts`' lock.
    active: AtomicUsize,
    /// When two or more merchants were last seen running, in nanoseconds after `base`: a
    /// merchant between two calls still counts as present for [`DECAY`].
    contended_at: AtomicU64,
    base: Instant,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            accounts: Mutex::default(),
            active: AtomicUsize::new(0),
            contended_at: AtomicU64::new(0),
            base: Instant::now(),
        }
    }
}

/// One merchant's account.
#[derive(Default)]
pub(crate) struct Account {
    usage: Mutex<Usage>,
}

struct Usage {
    /// Ticks used, decayed to `at`.
    ticks: f64,
    at: Instant,
    /// Calls of this merchant running now; changed only under `accounts`' lock.
    running: u32,
}

impl Default for Usage {
    fn default() -> Self {
        Usage {
            ticks: 0.0,
            at: Instant::now(),
            running: 0,
        }
    }
}

impl Usage {
    fn decayed(&self, now: Instant) -> f64 {
        let age = now.saturating_duration_since(self.at).as_secs_f64();
        self.ticks * (-age / DECAY.as_secs_f64()).exp()
    }
}

/// What one tick of a call means for its merchant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TickShare {
    /// The merchant is past its burst while another merchant is present.
    pub over: bool,
    /// Calls of the merchant running now (at least 1).
    pub running: u32,
}

impl Shares {
    /// Count a call of `merchant` as running until the returned seat is dropped.
    pub(crate) fn enter(&self, merchant: &MerchantId) -> Seat {
        let mut accounts = self.lock();
        if accounts.len() > SWEEP_ABOVE {
            let now = Instant::now();
            accounts.retain(|_, account| {
                let usage = account.lock();
                usage.running > 0 || usage.decayed(now) >= 0.5
            });
        }
        let account = accounts.entry(merchant.clone()).or_default().clone();
        let mut usage = account.lock();
        if usage.running == 0 {
            self.inner.active.fetch_add(1, Ordering::Relaxed);
        }
        usage.running += 1;
        drop(usage);
        self.note_contention(Instant::now());
        Seat {
            meter: Meter {
                shares: self.clone(),
                account,
            },
            merchant: merchant.clone(),
        }
    }

    /// Merchants with a call running now.
    pub(crate) fn active(&self) -> usize {
        self.inner.active.load(Ordering::Relaxed)
    }

    /// Whether other merchants are running, or were within [`DECAY`]; records it if so now.
    fn contended(&self, now: Instant) -> bool {
        if self.note_contention(now) {
            return true;
        }
        let at = Duration::from_nanos(self.inner.contended_at.load(Ordering::Relaxed));
        let since = now.saturating_duration_since(self.inner.base + at);
        at > Duration::ZERO && since < DECAY
    }

    fn note_contention(&self, now: Instant) -> bool {
        if self.active() < 2 {
            return false;
        }
        let nanos = now.saturating_duration_since(self.inner.base).as_nanos();
        self.inner.contended_at.fetch_max(
            u64::try_from(nanos).unwrap_or(u64::MAX).max(1),
            Ordering::Relaxed,
        );
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MerchantId, Arc<Account>>> {
        self.inner
            .accounts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Account {
    fn lock(&self) -> std::sync::MutexGuard<'_, Usage> {
        self.usage.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A running call's claim on its merchant's account; dropping it ends the claim.
pub(crate) struct Seat {
    meter: Meter,
    merchant: MerchantId,
}

/// Charges a call's ticks to its merchant; held by the epoch callback, which may outlive the
/// call (a big Store is dropped later, off-thread), so it is apart from the [`Seat`].
#[derive(Clone)]
pub(crate) struct Meter {
    shares: Shares,
    account: Arc<Account>,
}

impl Seat {
    /// What the call's epoch callback charges its ticks to.
    pub(crate) fn meter(&self) -> Meter {
        self.meter.clone()
    }
}

impl Meter {
    /// Charge `ran` of worker time and say whether the merchant should give way.
    pub(crate) fn charge_work(&self, ran: Duration) -> TickShare {
        let ticks = ran.as_secs_f64() / EPOCH_TICK.as_secs_f64();
        self.charge(Instant::now(), ticks)
    }

    fn charge(&self, now: Instant, ticks: f64) -> TickShare {
        let mut usage = self.account.lock();
        usage.ticks = usage.decayed(now) + ticks;
        usage.at = now;
        TickShare {
            over: usage.ticks > MERCHANT_BURST_TICKS && self.shares.contended(now),
            running: usage.running.max(1),
        }
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let Meter { shares, account } = &self.meter;
        let mut accounts = shares.lock();
        let mut usage = account.lock();
        usage.running = usage.running.saturating_sub(1);
        if usage.running == 0 {
            shares.inner.active.fetch_sub(1, Ordering::Relaxed);
            if usage.decayed(Instant::now()) < 0.5 {
                drop(usage);
                accounts.remove(&self.merchant);
            }
        }
    }
}

/// How many ticks a running call pauses at an epoch tick, given the worker time it `used` so
/// far and its merchant's `share`. Past its fair slice a call keeps running but pauses
/// [`PAUSE_TICKS`] for every tick it runs: a runaway connector then takes a fraction of a core,
/// and its (wall-clock) deadline still ends it; calls within the slice, nearly all of them,
/// never pause. While other merchants are running, a merchant past its burst pauses on every
/// call, for as long as its running calls together need to stay near the same fraction.
pub(crate) fn pause_at_tick(used: Duration, share: TickShare) -> u32 {
    let slice = if used > FAIR_SLICE { PAUSE_TICKS } else { 0 };
    slice.max(pause_at_start(share))
}

/// How many ticks a call waits before it starts: a merchant already past its share waits its
/// turn, so restarting calls buys it nothing.
pub(crate) fn pause_at_start(share: TickShare) -> u32 {
    if share.over {
        PAUSE_TICKS.saturating_mul(share.running)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn merchant(id: &str) -> MerchantId {
        MerchantId::new(id)
    }

    #[test]
    fn the_work_clock_counts_only_time_being_polled() {
        let mut clock = WorkClock::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        clock.resume(t0);
        clock.pause(t0 + ms(3)); // waiting on the database
        clock.resume(t0 + ms(50)); // the answer came 47 ms later
        clock.resume(t0 + ms(51)); // a second start does not restart the clock
        assert_eq!(clock.used(t0 + ms(52)), ms(5));
        assert_eq!(clock.uncharged(t0 + ms(52)), ms(5));
        clock.pause(t0 + ms(53));
        assert_eq!(clock.uncharged(t0 + ms(60)), ms(1));
        assert_eq!(clock.used(t0 + ms(60)), ms(6));
    }

    #[test]
    fn a_short_call_is_free_and_a_long_one_pays_from_its_start() {
        let mut clock = WorkClock::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        clock.resume(t0);
        assert_eq!(clock.chargeable(t0 + ms(1), ms(2)), (ms(0), ms(1)));
        assert_eq!(clock.chargeable(t0 + ms(3), ms(2)), (ms(3), ms(3)));
        assert_eq!(clock.chargeable(t0 + ms(4), ms(2)), (ms(1), ms(4)));
    }

    #[test]
    fn a_merchant_alone_never_gives_way() {
        let shares = Shares::default();
        let seat = shares.enter(&merchant("m1"));
        for _ in 0..1000 {
            assert!(!seat.meter.charge_work(Duration::from_millis(1)).over);
        }
        assert!(seat.meter.account.lock().decayed(Instant::now()) > MERCHANT_BURST_TICKS);
    }

    #[test]
    fn restarting_calls_does_not_reset_the_merchants_account() {
        let shares = Shares::default();
        let _quiet = shares.enter(&merchant("quiet"));
        let now = Instant::now();
        let mut over = 0;
        // Forty calls of 1 tick each, one after another: what a fresh per-call slice forgets.
        for _ in 0..40 {
            let seat = shares.enter(&merchant("hostile"));
            if seat.meter.charge(now, 1.0).over {
                over += 1;
            }
        }
        assert_eq!(over, 40 - MERCHANT_BURST_TICKS as usize);
    }

    #[test]
    fn the_pause_scales_with_the_merchants_running_calls() {
        let shares = Shares::default();
        let _quiet = shares.enter(&merchant("quiet"));
        let seats: Vec<Seat> = (0..6).map(|_| shares.enter(&merchant("busy"))).collect();
        let share = seats[0]
            .meter
            .charge(Instant::now(), MERCHANT_BURST_TICKS + 1.0);
        assert_eq!(
            share,
            TickShare {
                over: true,
                running: 6
            }
        );
        drop(seats);
        assert_eq!(shares.active(), 1);
    }

    #[test]
    fn another_merchant_counts_as_present_for_a_while_after_its_call() {
        let shares = Shares::default();
        let busy = shares.enter(&merchant("busy"));
        drop(shares.enter(&merchant("quiet")));
        let now = Instant::now();
        assert!(shares.contended(now));
        assert!(!shares.contended(now + DECAY * 2));
        drop(busy);
    }

    #[test]
    fn use_fades_and_idle_accounts_are_removed() {
        let shares = Shares::default();
        let seat = shares.enter(&merchant("m1"));
        let long_ago = Instant::now();
        seat.meter.charge(long_ago, 100.0);
        let later = long_ago + DECAY * 10;
        assert!(seat.meter.account.lock().decayed(later) < 0.01);
        drop(seat);
        // Still fresh: the account stays so a restart cannot wipe it.
        assert_eq!(shares.lock().len(), 1);
        assert_eq!(shares.active(), 0);
        let seat = shares.enter(&merchant("m2"));
        drop(seat);
        assert!(!shares.lock().contains_key(&merchant("m2")));
    }

    #[test]
    fn the_pause_decision_follows_the_slice_and_the_merchants_share() {
        let ms = Duration::from_millis;
        let calm = TickShare {
            over: false,
            running: 3,
        };
        let over = TickShare {
            over: true,
            running: 3,
        };
        assert_eq!(pause_at_tick(ms(1), calm), 0);
        assert_eq!(
            pause_at_tick(FAIR_SLICE, calm),
            0,
            "the slice itself is free"
        );
        assert_eq!(pause_at_tick(FAIR_SLICE + ms(1), calm), PAUSE_TICKS);
        assert_eq!(pause_at_tick(ms(1), over), 3 * PAUSE_TICKS);
        assert_eq!(pause_at_tick(ms(50), over), 3 * PAUSE_TICKS);
        let one = TickShare {
            over: true,
            running: 1,
        };
        assert_eq!(pause_at_tick(ms(50), one), PAUSE_TICKS);
        assert_eq!(pause_at_start(calm), 0);
        assert_eq!(pause_at_start(over), 3 * PAUSE_TICKS);
        let many = TickShare {
            over: true,
            running: u32::MAX,
        };
        assert_eq!(pause_at_start(many), u32::MAX, "saturates, never overflows");
    }
}
