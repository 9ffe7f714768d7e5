//! The one way tests and benchmarks start a [`Host`]: over a [`TestDb`] (or any URL), with the
//! demo store seeded unless asked otherwise, and only the settings a test names.
//!
//! ```text
//! let host = TestHost::new(&db).limits(limits).network(policy).vault(key).build().await;
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use airlock_host::commerce::{CommerceData, ConnectorStorage};
use airlock_host::db::Db;
use airlock_host::outbound::NetworkPolicy;
use airlock_host::outbox::{Clock, RetrySchedule};
use airlock_host::vault::VaultKey;
use airlock_host::{Host, Limits, demo};

use crate::TestDb;

/// Builds the commerce data a host serves from, given the host's own database.
type CommerceFrom<'a> = Box<dyn FnOnce(Db) -> Arc<dyn CommerceData> + 'a>;

/// A test host being configured; [`TestHost::build`] starts it.
#[must_use = "call .build().await to start the host"]
pub struct TestHost<'a> {
    url: String,
    limits: Limits,
    network: NetworkPolicy,
    vault: Option<VaultKey>,
    require_signatures: bool,
    commerce: Option<CommerceFrom<'a>>,
    storage: Option<Arc<dyn ConnectorStorage>>,
    compile_cache: Option<PathBuf>,
    clock: Option<Arc<dyn Clock>>,
    schedule: Option<RetrySchedule>,
    seed: bool,
}

impl<'a> TestHost<'a> {
    /// A host over `db` with default limits, the default network policy, no vault key, and
    /// the demo store seeded.
    pub fn new(db: &TestDb) -> TestHost<'a> {
        TestHost::at(&db.url)
    }

    /// The same over a database URL of the caller's own (benchmarks: `sqlite::memory:`).
    pub fn at(url: &str) -> TestHost<'a> {
        TestHost {
            url: url.to_owned(),
            limits: Limits::default(),
            network: NetworkPolicy::default(),
            vault: None,
            require_signatures: false,
            commerce: None,
            storage: None,
            compile_cache: None,
            clock: None,
            schedule: None,
            seed: true,
        }
    }

    /// Per-invocation limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Where connectors' outbound requests may go.
    pub fn network(mut self, network: NetworkPolicy) -> Self {
        self.network = network;
        self
    }

    /// The vault key secrets are sealed with.
    pub fn vault(mut self, key: VaultKey) -> Self {
        self.vault = Some(key);
        self
    }

    /// Refuse artifacts not signed by a trusted publisher key.
    pub fn require_signatures(mut self) -> Self {
        self.require_signatures = true;
        self
    }

    /// Serve commerce data from what `data` makes of the host's database (e.g. a
    /// [`PauseFirstOrder`](crate::PauseFirstOrder) around it).
    pub fn commerce(mut self, data: impl FnOnce(Db) -> Arc<dyn CommerceData> + 'a) -> Self {
        self.commerce = Some(Box::new(data));
        self
    }

    /// Keep connector storage in `storage` (a platform's own backend) instead of the tables.
    pub fn storage(mut self, storage: Arc<dyn ConnectorStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Keep compiled components in `dir` (default: memory only).
    pub fn compile_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.compile_cache = Some(dir.into());
        self
    }

    /// Read the outbox's time from `clock` (a [`ManualClock`](airlock_host::outbox::ManualClock)
    /// walks the retry schedule without waiting).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// Retry failed deliveries on `schedule`.
    pub fn retry_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.schedule = Some(schedule);
        self
    }

    /// Do not seed the demo store (a second host over a database another host seeded).
    pub fn unseeded(mut self) -> Self {
        self.seed = false;
        self
    }

    /// Open and migrate the database, start the host (its active installations prepared),
    /// and seed the demo store.
    pub async fn build(self) -> Host {
        let db = Db::connect(&self.url)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.url));
        let mut builder = Host::builder(db.clone())
            .limits(self.limits)
            .network(self.network)
            .require_signatures(self.require_signatures);
        if let Some(key) = self.vault {
            builder = builder.vault_key(key);
        }
        if let Some(data) = self.commerce {
            builder = builder.commerce(data(db));
        }
        if let Some(storage) = self.storage {
            builder = builder.storage(storage);
        }
        if let Some(dir) = self.compile_cache {
            builder = builder.compile_cache(dir);
        }
        if let Some(clock) = self.clock {
            builder = builder.clock(clock);
        }
        if let Some(schedule) = self.schedule {
            builder = builder.retry_schedule(schedule);
        }
        let host = builder.open().await.expect("start host");
        if self.seed {
            demo::seed(&host).await.expect("seed demo store");
        }
        host
    }
}
