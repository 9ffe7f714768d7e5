//! [`Host`]: the public face of the library. Installs, approvals, events and invocations go
//! through it; every call into a connector runs under the installation's effective grant.

use std::sync::Arc;

use crate::artifact::Artifact;
use crate::commerce::{CommerceData, ConnectorStorage};
use crate::db::audit::{self, AuditEntry};
use crate::db::commerce::SqlCommerce;
use crate::db::lifecycle::SqlGrants;
use crate::db::registry::{self, InstallOutcome, InstallationRow, Plan};
use crate::db::secrets::Secrets;
use crate::db::storage::SqlStorage;
use crate::db::{Db, DbError, now_ms};
use crate::error::Error;
use crate::grants::{Grant, Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::live::Signals;
use crate::manifest::{Manifest, Topic};
use crate::outbound::NetworkPolicy;
use crate::prompt::{Language, Prompt};
use crate::runtime::{
    CallSetup, DataSources, Event, InvocationReport, LimitOverrides, Limits, Prepared, Sandbox,
};
use crate::state::Live;
use crate::status::InstallationStatus;
use crate::vault::VaultKey;
use crate::views::{self, Emitted, Installation, Installed};

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
}

impl HostBuilder {
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

    /// Start the engine.
    pub fn build(self) -> Result<Host, Error> {
        let runtime = Sandbox::with_network(&self.limits, self.network)
            .map_err(|e| Error::Engine(format!("{e:#}")))?;
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
        Ok(Host {
            running: Arc::default(),
            secrets,
            grants: Arc::new(SqlGrants::new(self.db.clone())),
            db: self.db,
            runtime: Arc::new(runtime),
            sources,
            limits: self.limits,
            policy: self.policy,
            require_signatures: self.require_signatures,
            signals: Signals::default(),
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
    running: Arc<std::sync::Mutex<std::collections::HashMap<InstallationId, u32>>>,
}

/// Holds one slot of an installation's concurrency limit; frees it when dropped.
struct Running {
    map: Arc<std::sync::Mutex<std::collections::HashMap<InstallationId, u32>>>,
    id: InstallationId,
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut map = self
            .map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(n) = map.get_mut(&self.id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.id);
            }
        }
    }
}

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
        }
    }

    /// Open `url` (SQLite or PostgreSQL), migrate it, and start a host with defaults.
    pub async fn open(url: &str) -> Result<Host, Error> {
        Host::builder(Db::connect(url).await?).build()
    }

    /// The database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The SQL commerce tables, for seeding a store.
    pub fn store_data(&self) -> SqlCommerce {
        SqlCommerce::new(self.db.clone())
    }

    /// The limits every invocation runs under.
    pub fn limits(&self) -> &Limits {
        &self.limits
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

    /// Validate, compile and check an artifact, then install it for `merchant` pending
    /// approval. Nothing is stored unless every check passes.
    pub async fn install(
        &self,
        merchant: &MerchantId,
        bytes: &[u8],
        actor: &str,
    ) -> Result<Installed, Error> {
        // Cheap checks first: an unknown merchant or a refused manifest costs no compilation.
        let plan = registry::plan_of(&self.db, merchant)
            .await?
            .ok_or_else(|| Error::UnknownMerchant(merchant.clone()))?;
        let artifact = Artifact::parse(bytes)?;
        self.check_provenance(&artifact).await?;
        if let Some(scope) = artifact
            .manifest
            .required()
            .minus(self.policy)
            .iter()
            .next()
        {
            return Err(Error::PolicyForbids {
                scope,
                connector: artifact.manifest.id.clone(),
            });
        }
        let prepared = self.prepare(&artifact).await?;
        let manifest = &prepared.manifest;
        let id = InstallationId::generate();
        match registry::insert_installation(&self.db, merchant, &plan, &artifact, &id).await? {
            InstallOutcome::Installed => {}
            InstallOutcome::PlanFull { used } => {
                return Err(Error::PlanLimit {
                    merchant: merchant.clone(),
                    plan: plan.name,
                    slots: plan.app_slots,
                    used,
                });
            }
            InstallOutcome::AlreadyInstalled(installation) => {
                return Err(Error::AlreadyInstalled {
                    connector: manifest.id.clone(),
                    installation,
                });
            }
        }
        let mut entry = AuditEntry::new(merchant, Some(&id), actor, "install");
        entry.detail = format!("{} {} {}", manifest.id, manifest.version, artifact.digest);
        audit::append(&self.db, &[entry]).await?;
        let installation = self.installation(merchant, id.as_str()).await?;
        Ok(Installed {
            installation,
            prompt: Prompt::for_manifest(manifest, Language::En),
        })
    }

    /// Approve every required scope and the chosen optional ones; the installation becomes
    /// active. `key` is an installation id or a connector id.
    pub async fn approve(
        &self,
        merchant: &MerchantId,
        key: &str,
        optional: &[Scope],
        approver: &str,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        if let Some(pending) = row.pending_digest.clone() {
            return self
                .approve_upgrade(merchant, &row, &pending, optional, approver)
                .await;
        }
        let manifest = self.manifest_of(&row).await?;
        let offered = manifest.optional();
        if let Some(scope) = optional.iter().copied().find(|s| !offered.contains(*s)) {
            return Err(Error::NotOptional {
                scope,
                connector: manifest.id.clone(),
                optional: offered,
            });
        }
        let chosen: ScopeSet = optional.iter().copied().collect();
        let scopes = manifest.required().union(chosen).intersect(self.policy);
        registry::approve(&self.db, &row.id, scopes, approver).await?;
        let entries: Vec<AuditEntry> = scopes
            .iter()
            .map(|scope| {
                let mut e = AuditEntry::new(merchant, Some(&row.id), approver, "approve");
                e.scope = Some(scope.to_string());
                e
            })
            .collect();
        audit::append(&self.db, &entries).await?;
        self.installation(merchant, row.id.as_str()).await
    }

    /// The capability prompt of an installation, in `language`.
    pub async fn prompt(
        &self,
        merchant: &MerchantId,
        key: &str,
        language: Language,
    ) -> Result<Prompt, Error> {
        let row = self.row(merchant, key).await?;
        Ok(Prompt::for_manifest(
            &self.manifest_of(&row).await?,
            language,
        ))
    }

    /// Every installation of `merchant`.
    pub async fn list(&self, merchant: &MerchantId) -> Result<Vec<Installation>, Error> {
        let mut out = Vec::new();
        for row in registry::installations(&self.db, merchant).await? {
            let manifest = self.manifest_of(&row).await?;
            let grant = self.grant(&manifest, &row);
            let pending = self.pending_manifest(&row).await?;
            out.push(views::installation(row, &manifest, grant, pending.as_ref()));
        }
        Ok(out)
    }

    /// One installation, by installation id or connector id.
    pub async fn installation(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<Installation, Error> {
        let row = self.row(merchant, key).await?;
        let manifest = self.manifest_of(&row).await?;
        let grant = self.grant(&manifest, &row);
        let pending = self.pending_manifest(&row).await?;
        Ok(views::installation(row, &manifest, grant, pending.as_ref()))
    }

    /// Deliver a new `topic` event about `subject_id` to every active installation of
    /// `merchant` that subscribed to it and holds the scope the topic needs.
    pub async fn emit(
        &self,
        merchant: &MerchantId,
        topic: Topic,
        subject_id: &str,
    ) -> Result<Emitted, Error> {
        if registry::plan_of(&self.db, merchant).await?.is_none() {
            return Err(Error::UnknownMerchant(merchant.clone()));
        }
        let event = new_event(topic, subject_id)?;
        let mut deliveries = Vec::new();
        for row in registry::installations(&self.db, merchant).await? {
            if row.status == InstallationStatus::Active
                && let Some(report) = self.run(merchant, &row.id, &event, Some(topic)).await?
            {
                deliveries.push(report);
            }
        }
        Ok(Emitted { event, deliveries })
    }

    /// Deliver one event to one installation directly (a replay, or `dev run`), under its
    /// grant. The installation must be active.
    pub async fn invoke(
        &self,
        merchant: &MerchantId,
        key: &str,
        topic: Topic,
        subject_id: &str,
    ) -> Result<InvocationReport, Error> {
        let row = self.row(merchant, key).await?;
        let not_active = |status: String| Error::NotActive {
            installation: row.id.clone(),
            hint: match row.status {
                InstallationStatus::Disabled => "enable it first (`airlock enable`)",
                _ => "approve it first (`airlock approve`)",
            },
            status,
        };
        if row.status != InstallationStatus::Active {
            return Err(not_active(row.status.to_string()));
        }
        let event = new_event(topic, subject_id)?;
        // `None`: it changed state between the two reads; say so the same way.
        self.run(merchant, &row.id, &event, None)
            .await?
            .ok_or_else(|| not_active("no longer active".into()))
    }

    /// Override the per-call limits for every merchant on `plan`; an empty set clears them.
    pub async fn set_plan_limits(
        &self,
        plan: &str,
        overrides: &LimitOverrides,
        by: &str,
    ) -> Result<(), Error> {
        if !crate::db::limits::set_plan(&self.db, plan, overrides).await? {
            return Err(Error::UnknownPlan(plan.chars().take(64).collect()));
        }
        self.audit_limits("limits.plan", plan, overrides, by).await
    }

    /// Override the per-call limits of `connector` wherever it is installed (over the plan's).
    pub async fn set_connector_limits(
        &self,
        connector: &str,
        overrides: &LimitOverrides,
        by: &str,
    ) -> Result<(), Error> {
        crate::db::limits::set_connector(&self.db, connector, overrides, by).await?;
        self.audit_limits("limits.connector", connector, overrides, by)
            .await
    }

    /// A platform-level audit line (merchant `-`) for a change of limits.
    async fn audit_limits(
        &self,
        action: &str,
        target: &str,
        overrides: &LimitOverrides,
        by: &str,
    ) -> Result<(), Error> {
        let mut entry = AuditEntry::new(&MerchantId::new("-"), None, by, action);
        entry.detail = format!(
            "{target}: {}",
            serde_json::to_string(overrides).unwrap_or_default()
        );
        Ok(audit::append(&self.db, &[entry]).await?)
    }

    /// The limits an installation's calls run under: the host's, then its merchant's plan's,
    /// then its connector's.
    pub async fn limits_for(&self, merchant: &MerchantId, key: &str) -> Result<Limits, Error> {
        let row = self.row(merchant, key).await?;
        self.effective_limits(&row).await
    }

    async fn effective_limits(&self, row: &InstallationRow) -> Result<Limits, Error> {
        let (plan, connector) =
            crate::db::limits::overrides(&self.db, &row.merchant, &row.connector_id).await?;
        Ok(self.limits.with(&plan).with(&connector))
    }

    /// Run an installation's `health-check` export under its grant and limits (active or
    /// disabled: a merchant checks a paused app before enabling it again).
    pub async fn health_check(
        &self,
        merchant: &MerchantId,
        key: &str,
    ) -> Result<InvocationReport, Error> {
        let row = self.row(merchant, key).await?;
        if row.status == InstallationStatus::Pending {
            return Err(Error::NotActive {
                installation: row.id.clone(),
                status: row.status.to_string(),
                hint: "approve it first (`airlock approve`)",
            });
        }
        let prepared = self.prepared_for(&row).await?;
        let grant = self.grant(&prepared.manifest, &row);
        let limits = self.effective_limits(&row).await?;
        let setup = CallSetup::new(row.merchant.clone(), row.id.clone(), grant);
        let report = self
            .runtime
            .health_check(&prepared, setup, &self.sources, &limits)
            .await;
        let lines = audit::invocation_lines(&row.merchant, &row.id, &report);
        audit::append(&self.db, &lines).await?;
        Ok(report)
    }

    /// The newest `limit` audit entries of `merchant`, oldest first.
    pub async fn audit(&self, merchant: &MerchantId, limit: u32) -> Result<Vec<AuditEntry>, Error> {
        Ok(audit::recent(&self.db, merchant, limit).await?)
    }

    /// Run one installation for `event` if it is active (and, with `topic`, subscribed and
    /// granted for it). The generation is read before the row: a change committed before that
    /// is in the row, a later one moves the generation and reaches the call at its next host
    /// call or epoch tick.
    async fn run(
        &self,
        merchant: &MerchantId,
        id: &InstallationId,
        event: &Event,
        topic: Option<Topic>,
    ) -> Result<Option<InvocationReport>, Error> {
        let signal = self.signals.get(id);
        let started = signal.generation();
        let Some(row) = registry::installation(&self.db, merchant, id.as_str()).await? else {
            return Ok(None);
        };
        if row.status != InstallationStatus::Active {
            return Ok(None);
        }
        let prepared = self.prepared_for(&row).await?;
        let manifest = &prepared.manifest;
        let grant = self.grant(manifest, &row);
        if let Some(topic) = topic
            && !(manifest.events.contains(&topic) && grant.allows(topic.needs()))
        {
            return Ok(None);
        }
        let live = Live {
            signal,
            started,
            source: self.grants.clone(),
            declared: manifest.declared(),
            policy: self.policy,
        };
        let limits = self.effective_limits(&row).await?;
        let report = match self.claim(&row.id, limits.max_concurrent) {
            Some(_slot) => {
                let setup = CallSetup::new(row.merchant.clone(), row.id.clone(), grant).live(live);
                self.runtime
                    .invoke(&prepared, setup, &self.sources, &limits, event)
                    .await
            }
            None => InvocationReport::refused(
                &row.id,
                &manifest.id,
                event,
                &limits,
                crate::runtime::AbortReason::Busy {
                    limit: limits.max_concurrent,
                },
            ),
        };
        let lines = audit::invocation_lines(&row.merchant, &row.id, &report);
        audit::append(&self.db, &lines).await?;
        Ok(Some(report))
    }

    /// Take one of the installation's concurrent-invocation slots, if one is free.
    fn claim(&self, id: &InstallationId, limit: u32) -> Option<Running> {
        let mut map = self
            .running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = map.entry(id.clone()).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Running {
            map: self.running.clone(),
            id: id.clone(),
        })
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

    /// The compiled component of an installation: from the cache, or loaded from the
    /// database and compiled (another node may have installed it).
    async fn prepared_for(&self, row: &InstallationRow) -> Result<Arc<Prepared>, Error> {
        let digest = registry::parse_digest(&row.digest)?;
        if let Some(hit) = self.runtime.cached(&digest) {
            return Ok(hit);
        }
        let bytes = registry::component(&self.db, &row.digest)
            .await?
            .ok_or_else(|| DbError::Corrupt(format!("artifact {} is missing", row.digest)))?;
        let artifact = Artifact::parse(&bytes)?;
        if artifact.digest != digest {
            return Err(DbError::Corrupt(format!(
                "artifact {} does not match its digest",
                row.digest
            ))
            .into());
        }
        self.prepare(&artifact).await
    }

    pub(crate) async fn prepare(&self, artifact: &Artifact) -> Result<Arc<Prepared>, Error> {
        let runtime = self.runtime.clone();
        let artifact = artifact.clone();
        tokio::task::spawn_blocking(move || runtime.prepare(&artifact))
            .await
            .map_err(|e| Error::Engine(e.to_string()))?
            .map_err(Error::from)
    }
}

fn new_event(topic: Topic, subject_id: &str) -> Result<Event, Error> {
    if subject_id.is_empty() || subject_id.len() > 128 || subject_id.chars().any(char::is_control) {
        return Err(Error::BadSubject);
    }
    Ok(Event {
        id: format!("evt_{}", uuid::Uuid::new_v4().simple()),
        topic,
        subject_id: subject_id.to_owned(),
        occurred_at: now_ms().max(0) as u64,
    })
}
