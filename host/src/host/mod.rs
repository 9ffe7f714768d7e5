//! [`Host`] and [`HostBuilder`]: the public face of the library, its state, and the lookups
//! every operation shares (an installation's row, manifest, grant and compiled component).
//! Installs, approvals, events and invocations go through it; every call into a connector runs
//! under the installation's effective grant.

mod audit;
mod consent;
mod credentials;
mod data_access;
mod deliver;
mod dispatch;
mod follow;
mod gate;
mod health;
mod install;
mod invoke;
mod known;
mod lanes;
mod lifecycle;
mod limits;
mod outcome;
mod prepare;
mod provenance;
mod retention;
mod slots;
mod tokens;
mod upgrade;

pub use consent::{Declined, Waiting};
pub use credentials::{SecretChanged, SecretStatus};
pub use deliver::{DEFAULT_MERCHANT_RATE, DispatchOptions, Round};
pub use dispatch::Until;
pub use follow::FOLLOW_EVERY;
pub use health::{AppHealth, Checked};
pub use lifecycle::Uninstalled;
pub use upgrade::Upgraded;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::{Notify, Semaphore};

use crate::artifact::Artifact;
use crate::commerce::{CommerceData, ConnectorStorage};
use crate::db::commerce::SqlCommerce;
use crate::db::lifecycle::SqlGrants;
use crate::db::registry::{self, InstallationRow, Plan};
use crate::db::secrets::Secrets;
use crate::db::storage::SqlStorage;
use crate::db::{Db, DbError};
use crate::error::Error;
use crate::grants::{Grant, ScopeSet};
use crate::ids::MerchantId;
use crate::limits::Limits;
use crate::live::Signals;
use crate::manifest::Manifest;
use crate::outbound::NetworkPolicy;
use crate::outbox::{Breakers, Clock, RetrySchedule, SystemClock};
use crate::runtime::{DataSources, Sandbox};
use crate::vault::VaultKey;

use slots::Slots;

/// Builds a [`Host`].
pub struct HostBuilder {
    db: Db,
    limits: Limits,
    policy: ScopeSet,
    require_signatures: bool,
    commerce: Option<Arc<dyn CommerceData>>,
    storage: Option<Arc<dyn ConnectorStorage>>,
    vault_key: Option<VaultKey>,
    network: NetworkPolicy,
    compile_cache: Option<PathBuf>,
    clock: Arc<dyn Clock>,
    schedule: RetrySchedule,
    sync_delay: std::time::Duration,
}

impl HostBuilder {
    /// Call a connection delayed when its oldest undelivered event is older than this
    /// (default 15 minutes).
    pub fn sync_delay(mut self, threshold: std::time::Duration) -> Self {
        self.sync_delay = threshold;
        self
    }

    /// Read the time from `clock` for the outbox (due times, leases): a [`crate::outbox::ManualClock`]
    /// lets a test walk the retry schedule without waiting.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Retry failed deliveries on `schedule` unless the merchant's plan sets its own
    /// (default [`RetrySchedule::standard`]).
    pub fn retry_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Keep compiled components in `dir` (created 0700 if missing), so a restarted host loads
    /// them instead of compiling (default: memory only). A directory that cannot be used is
    /// logged as a warning and the host runs with memory only. See [`crate::Sandbox::compile_cache`].
    pub fn compile_cache(mut self, dir: impl Into<PathBuf>) -> Self {
        self.compile_cache = Some(dir.into());
        self
    }

    /// The key that seals and opens connectors' secrets. Without one, secrets can be listed
    /// but not set or used.
    pub fn vault_key(mut self, key: VaultKey) -> Self {
        self.vault_key = Some(key);
        self
    }

    /// Where connectors' outbound requests may go beyond public addresses (default: nowhere).
    pub fn network(mut self, policy: NetworkPolicy) -> Self {
        self.network = policy;
        self
    }

    /// Per-invocation limits (default: 2 s, 64 MiB, 1000 host calls).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The scopes platform policy allows at all (default: every scope).
    pub fn policy(mut self, policy: ScopeSet) -> Self {
        self.policy = policy;
        self
    }

    /// Refuse artifacts without a valid signature by a trusted publisher key (default: off;
    /// a signed artifact is verified either way).
    pub fn require_signatures(mut self, required: bool) -> Self {
        self.require_signatures = required;
        self
    }

    /// Serve commerce data from the platform's own source instead of Airlock's tables.
    pub fn commerce(mut self, commerce: Arc<dyn CommerceData>) -> Self {
        self.commerce = Some(commerce);
        self
    }

    /// Keep connector storage somewhere other than Airlock's tables.
    pub fn storage(mut self, storage: Arc<dyn ConnectorStorage>) -> Self {
        self.storage = Some(storage);
        self
    }

    /// Start the engine and prepare every active installation's component (from the compile
    /// cache, or compiled now), so no event waits for a compile: how a host should be opened.
    pub async fn open(self) -> Result<Host, Error> {
        let host = self.build()?;
        host.prepare_installed().await?;
        Ok(host)
    }

    /// Start the engine without preparing anything: the first call of each installation
    /// then loads or compiles its component ([`HostBuilder::open`] does that up front).
    pub fn build(self) -> Result<Host, Error> {
        let mut runtime = Sandbox::with_network(&self.limits, self.network)
            .map_err(|e| Error::Engine(format!("{e:#}")))?;
        if let Some(dir) = &self.compile_cache {
            runtime = runtime.compile_cache(dir);
        }
        let secrets = Arc::new(Secrets::new(self.db.clone(), self.vault_key.map(Arc::new)));
        let sources = DataSources {
            secrets: Some(secrets.clone()),
            commerce: self
                .commerce
                .unwrap_or_else(|| Arc::new(SqlCommerce::new(self.db.clone()))),
            storage: self
                .storage
                .unwrap_or_else(|| Arc::new(SqlStorage::new(self.db.clone()))),
        };
        let gates = gate::MerchantGates::for_pool(self.db.pool.options().get_max_connections());
        Ok(Host {
            running: Slots::default(),
            gates,
            compiling: Arc::new(Semaphore::new(MAX_CONCURRENT_COMPILES)),
            secrets,
            grants: Arc::new(SqlGrants::new(self.db.clone())),
            db: self.db,
            runtime: Arc::new(runtime),
            sources,
            limits: self.limits,
            policy: self.policy,
            require_signatures: self.require_signatures,
            signals: Signals::default(),
            clock: self.clock,
            schedule: self.schedule,
            sync_delay_ms: i64::try_from(self.sync_delay.as_millis()).unwrap_or(i64::MAX),
            wake: Arc::new(Notify::new()),
            unfanned: std::sync::atomic::AtomicBool::new(true),
            manifests: Mutex::new(HashMap::new()),
            breakers: Mutex::new(Breakers::default()),
        })
    }
}

/// The Airlock host: database, engine and policy.
pub struct Host {
    pub(crate) db: Db,
    runtime: Arc<Sandbox>,
    sources: DataSources,
    limits: Limits,
    pub(crate) policy: ScopeSet,
    pub(crate) require_signatures: bool,
    /// Carries revocations to invocations already running.
    pub(crate) signals: Signals,
    grants: Arc<SqlGrants>,
    pub(crate) secrets: Arc<Secrets>,
    /// Invocations running per installation, for the concurrency limit.
    running: Slots,
    /// Each merchant's share of the database connections its connectors' host calls use.
    gates: gate::MerchantGates,
    /// Compilations allowed to run at once.
    compiling: Arc<Semaphore>,
    /// The outbox's time.
    clock: Arc<dyn Clock>,
    /// Retries when the merchant's plan sets none.
    schedule: RetrySchedule,
    /// When a connection's oldest undelivered event makes it delayed, in milliseconds.
    sync_delay_ms: i64,
    /// Wakes this process's dispatcher when it emits or lifts a hold.
    wake: Arc<Notify>,
    /// Set when this process wrote an event that may not be fanned out yet: a dispatcher
    /// looks for new events when it is set, and otherwise once per poll (events written by
    /// other processes), not before every claim.
    unfanned: std::sync::atomic::AtomicBool,
    /// Manifests by artifact digest, for fanning events out without re-parsing.
    manifests: Mutex<HashMap<String, Arc<Manifest>>>,
    /// Per-installation circuit breakers of this node's dispatcher.
    breakers: Mutex<Breakers>,
}

/// Components a host compiles at once; more uploads wait their turn.
pub(crate) const MAX_CONCURRENT_COMPILES: usize = 2;

impl Host {
    /// Start building a host over an open database.
    pub fn builder(db: Db) -> HostBuilder {
        HostBuilder {
            db,
            limits: Limits::default(),
            policy: ScopeSet::all(),
            require_signatures: false,
            commerce: None,
            storage: None,
            vault_key: None,
            network: NetworkPolicy::default(),
            compile_cache: None,
            clock: Arc::new(SystemClock),
            schedule: RetrySchedule::default(),
            sync_delay: std::time::Duration::from_millis(
                crate::health::DEFAULT_SYNC_DELAY_THRESHOLD_MS as u64,
            ),
        }
    }

    /// Open `url` (SQLite or PostgreSQL), migrate it, and start a host with defaults
    /// (compiled components in memory only), its active installations prepared.
    pub async fn open(url: &str) -> Result<Host, Error> {
        Host::builder(Db::connect(url).await?).open().await
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The SQL commerce tables, for seeding a store.
    pub fn store_data(&self) -> SqlCommerce {
        SqlCommerce::new(self.db.clone())
    }

    /// Create or update a plan.
    pub async fn put_plan(&self, id: &str, name: &str, app_slots: i64) -> Result<(), Error> {
        let plan = Plan {
            id: id.to_owned(),
            name: name.to_owned(),
            app_slots,
        };
        Ok(registry::put_plan(&self.db, &plan).await?)
    }

    /// Create or update a merchant on a plan.
    pub async fn put_merchant(&self, id: &MerchantId, name: &str, plan: &str) -> Result<(), Error> {
        Ok(registry::put_merchant(&self.db, id, name, plan).await?)
    }

    fn grant(&self, manifest: &Manifest, row: &InstallationRow) -> Grant {
        Grant::new(manifest.declared(), row.approved(), self.policy)
    }

    pub(crate) async fn row(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<InstallationRow, Error> {
        registry::installation(&self.db, merchant, key)
            .await?
            .ok_or_else(|| Error::NotInstalled {
                merchant: merchant.clone(),
                key: key.chars().take(128).collect(),
            })
    }

    /// The manifest of an installation's current version: read from the database, so listing
    /// and approving never compile anything.
    pub(crate) async fn manifest_of(&self, row: &InstallationRow) -> Result<Manifest, Error> {
        registry::manifest(&self.db, &row.digest)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("artifact {} is missing", row.digest)).into())
    }

    /// The artifact stored under `digest` (hex), its bytes hashed again on the way out: a
    /// byte changed in the database is refused as
    /// [`ArtifactError::StoredDigestMismatch`](crate::artifact::ArtifactError), never run.
    pub(crate) async fn stored_artifact(&self, digest: &str) -> Result<Artifact, Error> {
        let bytes = registry::component(&self.db, digest)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("artifact {digest} is missing")))?;
        Ok(Artifact::from_stored(&bytes, digest)?)
    }

    /// How many components this host has compiled (not counting those loaded from its
    /// compile cache), for metrics and for tests that show a refusal came before any
    /// compilation or that a restart compiled nothing.
    pub fn compiles(&self) -> u64 {
        self.runtime.compiles()
    }

    /// How many compiled components this host loaded from its compile cache directory.
    pub fn disk_loads(&self) -> u64 {
        self.runtime.disk_loads()
    }

    /// The directory compiled components are kept in, if the host has one it can use.
    pub fn compile_cache_dir(&self) -> Option<&Path> {
        self.runtime.compile_cache_dir()
    }

    /// Delete the artifacts among `digests` (hex) that no installation runs or has waiting
    /// any more, and drop their compiled components. A failure is logged, not returned: the
    /// change that left them unused has committed, and a leftover row harms nothing.
    pub(crate) async fn collect_unused(&self, digests: &[&str]) {
        for digest in digests {
            match registry::delete_unused_artifact(&self.db, digest).await {
                Ok(true) => {
                    if let Ok(parsed) = registry::parse_digest(digest) {
                        self.runtime.forget(&parsed);
                    }
                }
                Ok(false) => {}
                Err(err) => {
                    tracing::warn!(digest = %digest, error = %err, "could not delete an unused artifact")
                }
            }
        }
    }
}
