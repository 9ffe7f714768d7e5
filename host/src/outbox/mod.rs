//! The durable outbox's rules, as plain data: delivery states, the retry schedule, what an
//! outcome means for the next try, and the clock the dispatcher reads. The queries live in
//! `db/outbox.rs`; the dispatcher that runs deliveries in [`crate::Host`].

mod breaker;
mod classify;
mod rate;
mod schedule;

pub use breaker::{Admit, Breakers};
pub use classify::{Disposition, of_failure};
pub use rate::{MerchantCaps, MerchantRates};
pub use schedule::{MAX_RETRY_AFTER, RetrySchedule, ScheduleError};

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde::Serialize;

use crate::ids::{InstallationId, MerchantId};
use crate::report::Event;

/// Where one delivery (one event for one installation) stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryState {
    /// Waiting for its time (`next_at`), or for its installation to be active and not held.
    Queued,
    /// Claimed by a dispatcher under a lease; claimed again if the lease runs out.
    Running,
    /// Handled by the connector.
    Delivered,
    /// Out of tries: kept for `airlock deliveries replay`.
    Dead,
    /// Not run: when its turn came, the installation no longer subscribed to the topic or no
    /// longer held its scope.
    Skipped,
}

impl DeliveryState {
    /// Every state.
    pub const ALL: [DeliveryState; 5] = [
        DeliveryState::Queued,
        DeliveryState::Running,
        DeliveryState::Delivered,
        DeliveryState::Dead,
        DeliveryState::Skipped,
    ];

    /// The state as the database, the CLI and JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Running => "running",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
            DeliveryState::Skipped => "skipped",
        }
    }
}

impl fmt::Display for DeliveryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery state this host does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a delivery state (queued, running, delivered, dead or skipped)")]
pub struct UnknownState(pub String);

impl FromStr for DeliveryState {
    type Err = UnknownState;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        DeliveryState::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| UnknownState(text.chars().take(64).collect()))
    }
}

/// Why an installation's deliveries wait for the merchant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Hold {
    /// The cause's stable code (`invalid-credentials`, `permission-missing`, ...).
    pub cause: String,
    /// One line for people.
    pub detail: String,
    /// Since when, in milliseconds since the Unix epoch.
    pub since: i64,
}

/// One event for one installation, as `airlock deliveries` shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    /// The delivery's id (`dlv_...`).
    pub id: String,
    /// The event, with the id it keeps on every try.
    pub event: Event,
    /// Whose event it is.
    #[schema(value_type = String)]
    pub merchant: MerchantId,
    /// The installation it is for.
    #[schema(value_type = String)]
    pub installation: InstallationId,
    /// Where it stands.
    pub state: DeliveryState,
    /// Tries so far (a try cut short by a crash counts).
    pub attempts: u32,
    /// When it is tried next, if it is queued (milliseconds since the Unix epoch).
    pub next_at: Option<i64>,
    /// The last failed try's cause code.
    pub last_code: Option<String>,
    /// The last failed try's detail.
    pub last_detail: Option<String>,
    /// When it was written.
    pub created_at: i64,
    /// When it last changed.
    pub updated_at: i64,
}

/// Which deliveries to list or replay.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// Only this installation's.
    pub installation: Option<InstallationId>,
    /// Only in this state.
    pub state: Option<DeliveryState>,
    /// Only events that occurred at or after this time (milliseconds since the epoch).
    pub since: Option<i64>,
    /// Only this event's.
    pub event: Option<String>,
}

/// What the dispatcher reads the time from: the system clock in service, a hand-moved one in
/// tests that drive the retry schedule.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// A clock that moves only when told: for tests of the retry schedule and leases.
#[derive(Debug, Clone, Default)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `now_ms`.
    pub fn at(now_ms: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(now_ms)))
    }

    /// Move the clock forward.
    pub fn advance(&self, by: std::time::Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Set the clock.
    pub fn set(&self, now_ms: i64) {
        self.0.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A random draw in [0, 1) for jitter, from the OS (0.5 if it cannot give one).
pub(crate) fn jitter_unit() -> f64 {
    let mut bytes = [0u8; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0),
        Err(_) => 0.5,
    }
}
