//! Compiled components for the host: compiled when an artifact is uploaded (install,
//! upgrade), loaded for every active installation when the host opens, and so ready before
//! any event. Loading from the compile cache needs no compile permit; compiling takes one of
//! [`MAX_CONCURRENT_COMPILES`](super::MAX_CONCURRENT_COMPILES).

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::artifact::Artifact;
use crate::db::registry::{self, InstallationRow};
use crate::error::Error;
use crate::runtime::{Prepared, Sandbox};

use super::Host;

/// Why a component is being prepared (what the log says when it has to be compiled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// An upload (install or upgrade): compiling is expected.
    Upload,
    /// Opening the host: compiling means the compile cache did not have it.
    Open,
    /// A call found it neither in memory nor on disk.
    Call,
}

impl Host {
    /// Prepare the component of every active installation (of every merchant) before any
    /// event needs it: loaded from the compile cache where it has a valid file, compiled
    /// otherwise (at most `MAX_CONCURRENT_COMPILES` at
    /// once), several at a time. Returns how many are ready. An artifact that cannot be
    /// prepared (changed in the database, say) is logged and skipped, not fatal: its calls
    /// report the error, every other connector runs. [`HostBuilder::open`](super::HostBuilder::open)
    /// calls this.
    pub async fn prepare_installed(&self) -> Result<usize, Error> {
        let digests = registry::active_digests(&self.db).await?;
        let parallel = std::thread::available_parallelism().map_or(2, usize::from);
        // Bounds the artifacts held at once as well as the work: a permit is taken before
        // an artifact is read.
        let at_once = Arc::new(Semaphore::new(parallel));
        let mut tasks = JoinSet::new();
        let mut ready = 0;
        for digest in digests {
            let permit = at_once
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| Error::Engine(e.to_string()))?;
            let artifact = match self.stored_artifact(&digest).await {
                Ok(artifact) => artifact,
                Err(err) => {
                    tracing::warn!(digest = %digest, error = %err, "an installed artifact could not be read; its calls will fail");
                    continue;
                }
            };
            let (runtime, compiling) = (self.runtime.clone(), self.compiling.clone());
            tasks.spawn(async move {
                let done = prepare(runtime, compiling, artifact, Need::Open).await;
                drop(permit);
                (digest, done)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((_, Ok(_))) => ready += 1,
                Ok((digest, Err(err))) => {
                    tracing::warn!(digest = %digest, error = %err, "an installed artifact could not be prepared; its calls will fail")
                }
                Err(err) => tracing::warn!(error = %err, "preparing an installed artifact failed"),
            }
        }
        Ok(ready)
    }

    /// The compiled component of an installation about to run: from memory, else from the
    /// compile cache, else (see [`prepare`]) compiled now.
    pub(super) async fn prepared_for(&self, row: &InstallationRow) -> Result<Arc<Prepared>, Error> {
        let digest = registry::parse_digest(&row.digest)?;
        if let Some(hit) = self.runtime.cached(&digest) {
            return Ok(hit);
        }
        let artifact = self.stored_artifact(&row.digest).await?;
        prepare(
            self.runtime.clone(),
            self.compiling.clone(),
            artifact,
            Need::Call,
        )
        .await
    }

    /// Compile (and check the imports of) an uploaded artifact off the async threads:
    /// compiling is the costliest thing an upload makes the host do, so a burst of uploads
    /// queues for a compile permit instead of taking every core.
    pub(crate) async fn prepare(&self, artifact: &Artifact) -> Result<Arc<Prepared>, Error> {
        prepare(
            self.runtime.clone(),
            self.compiling.clone(),
            artifact.clone(),
            Need::Upload,
        )
        .await
    }
}

/// Memory, then the compile cache (on a blocking thread, no permit: milliseconds), then a
/// compile (on a blocking thread, under a compile permit).
///
/// A call that finds no compiled component ([`Need::Call`]: the file was deleted or failed
/// its check while the host ran, the in-memory cache evicted it and the disk has none, or
/// another host node installed it after this one opened) compiles it here, on a blocking
/// thread, with a warning, rather than failing: a retryable error would fail that connector
/// until something else compiled it, and nothing else would. The call waits for the compile
/// (seconds for a large component), every other connector runs meanwhile, and the result
/// is kept in memory and on disk, so it happens at most once per component.
async fn prepare(
    runtime: Arc<Sandbox>,
    compiling: Arc<Semaphore>,
    artifact: Artifact,
    need: Need,
) -> Result<Arc<Prepared>, Error> {
    if let Some(hit) = runtime.cached(&artifact.digest) {
        return Ok(hit);
    }
    let artifact = Arc::new(artifact);
    if runtime.compile_cache_dir().is_some() {
        let (rt, a) = (runtime.clone(), artifact.clone());
        if let Some(loaded) = blocking(move || rt.prepare_compiled(&a)).await?? {
            return Ok(loaded);
        }
    }
    // The import check reads the bytes only: a refusal waits for no compile slot.
    crate::imports::check(&artifact.bytes, &artifact.manifest)?;
    let _permit = compiling
        .acquire()
        .await
        .map_err(|e| Error::Engine(e.to_string()))?;
    match need {
        Need::Call => tracing::warn!(digest = %artifact.digest,
            "a call found no compiled component (compile cache wiped or evicted, or installed by another host): compiling it now"),
        Need::Open => tracing::info!(digest = %artifact.digest,
            "not in the compile cache: compiling before serving events"),
        Need::Upload => {}
    }
    Ok(blocking(move || runtime.prepare(&artifact)).await??)
}

/// Run CPU-bound work on tokio's blocking threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Engine(e.to_string()))
}
