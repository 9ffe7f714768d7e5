//! Compiled components on disk, so a new host process loads in milliseconds what took seconds
//! to compile. A file is native code the host will run, so the directory is a security
//! boundary:
//!
//! - `trust`: the directory is the host user's own, 0700, and holds the key (0600) that tags
//!   every file; another user's directory is not used;
//! - `format`: each file's header names the engine and artifact it was compiled for and
//!   carries an HMAC-SHA256 tag over all of it, checked before a byte reaches Wasmtime;
//! - `native`: the one `unsafe` call, fed only bytes that passed that check.
//!
//! Files are written whole (a temporary file, then a rename) and named by artifact digest and
//! engine key, so a new Wasmtime or another engine configuration never meets an old file. A
//! file that fails any check is deleted and the component compiled again; every failure here
//! is logged and costs a compile, never a call. Past [`MAX_COMPILE_CACHE_BYTES`] the least
//! recently used files (by modification time, refreshed on each load) are deleted.

mod format;
mod native;
mod trust;

use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use wasmtime::Engine;
use wasmtime::component::Component;

pub(crate) use format::EngineKey;
pub(crate) use trust::DiskError;

use crate::ids::Digest;
use format::CacheKey;

/// Most bytes of compiled components kept on disk per cache directory (2 GiB). A compiled
/// component is several times its artifact: about 1 MB for the example Rust connectors, tens
/// of MB for a JavaScript or Python one, so this holds every connector a host is likely to
/// run while a flood of distinct uploads cannot fill the disk.
pub const MAX_COMPILE_CACHE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Extension of compiled-component files.
const EXTENSION: &str = "cwasm";

/// A temporary file this old was left by a process that died mid-write.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// One cache directory, for one engine.
pub(crate) struct DiskCache {
    dir: PathBuf,
    key: CacheKey,
    engine: EngineKey,
    max_bytes: u64,
}

impl DiskCache {
    /// Use `dir` (created 0700 if missing) for components of the engine with key `engine`.
    pub fn open(dir: &Path, engine: EngineKey, max_bytes: u64) -> Result<DiskCache, DiskError> {
        let key = trust::open(dir)?;
        let cache = DiskCache {
            dir: dir.to_owned(),
            key,
            engine,
            max_bytes,
        };
        cache.remove_stale_temps();
        Ok(cache)
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the component of `digest` for this engine lives.
    fn path_of(&self, digest: &Digest) -> PathBuf {
        self.dir.join(format!(
            "{}.{}.{EXTENSION}",
            digest.to_hex(),
            self.engine.short()
        ))
    }

    /// The component of `digest` compiled for this engine, if a file for it passes every
    /// check. A file that does not is deleted (it will be written again after the compile).
    pub fn load(&self, engine: &Engine, digest: &Digest) -> Option<Component> {
        let path = self.path_of(digest);
        let bytes = match self.read(&path) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => return None,
            Err(problem) => {
                self.discard(&path, &problem);
                return None;
            }
        };
        let verified = match format::verify(&self.key, &self.engine, digest, &bytes) {
            Ok(verified) => verified,
            Err(refused) => {
                self.discard(&path, &refused.to_string());
                return None;
            }
        };
        match native::deserialize(engine, verified) {
            Ok(component) => {
                // Least recently used is by modification time: this load counts as a use.
                let touched = File::open(&path).and_then(|f| f.set_modified(SystemTime::now()));
                if let Err(e) = touched {
                    tracing::debug!(path = %path.display(), error = %e, "could not mark a compiled component as used");
                }
                Some(component)
            }
            Err(e) => {
                self.discard(&path, &format!("Wasmtime refused it: {e:#}"));
                None
            }
        }
    }

    /// The bytes of `path`: `None` if there is no such file, an error (to discard it) if it
    /// is not a regular file or is larger than the whole cache may be.
    fn read(&self, path: &Path) -> Result<Option<Vec<u8>>, String> {
        let file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot open it: {e}")),
        };
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read it: {e}"))?;
        if !meta.is_file() || meta.len() > self.max_bytes {
            return Err("not a regular file within the cache's size".into());
        }
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        file.take(self.max_bytes)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read it: {e}"))?;
        Ok(Some(bytes))
    }

    /// Delete a file that failed a check, saying why.
    fn discard(&self, path: &Path, problem: &str) {
        tracing::warn!(path = %path.display(), problem,
            "a compiled component on disk failed its check: deleted, compiling again");
        if let Err(e) = trust::remove_if_present(path) {
            tracing::warn!(error = %e, "could not delete a compiled component that failed its check");
        }
    }

    /// Write the component of `digest`, then evict past the size cap. A failure (disk full,
    /// permissions changed) is logged: the component stays in memory, the next process
    /// compiles it again.
    pub fn store(&self, digest: &Digest, component: &Component) {
        if let Err(problem) = self.write(digest, component) {
            tracing::warn!(dir = %self.dir.display(), problem = %problem,
                "could not keep a compiled component on disk; it is kept in memory only");
        }
    }

    fn write(&self, digest: &Digest, component: &Component) -> Result<(), String> {
        let payload = component
            .serialize()
            .map_err(|e| format!("serializing: {e:#}"))?;
        let header = format::header(&self.key, &self.engine, digest, &payload);
        let size = (header.len() + payload.len()) as u64;
        if size > self.max_bytes {
            return Err(format!(
                "{size} bytes compiled is more than the whole cache may hold"
            ));
        }
        let path = self.path_of(digest);
        let temp = trust::temp_path(&self.dir);
        let written = trust::write_private(&temp, &[&header, &payload])
            .and_then(|()| fs::rename(&temp, &path));
        if let Err(e) = written {
            let _ = fs::remove_file(&temp);
            return Err(format!("writing {}: {e}", path.display()));
        }
        self.evict(&path);
        Ok(())
    }

    /// Delete the component of `digest` (its artifact was deleted).
    pub fn remove(&self, digest: &Digest) {
        if let Err(e) = trust::remove_if_present(&self.path_of(digest)) {
            tracing::warn!(error = %e, "could not delete the compiled component of a deleted artifact");
        }
    }

    /// Delete the least recently used files until the rest fit the cap; `keep` (just
    /// written) goes last.
    fn evict(&self, keep: &Path) {
        let mut files = self.files();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        files.sort_by_key(|(path, _, used)| (path == keep, *used));
        for (path, bytes, _) in files {
            if total <= self.max_bytes {
                break;
            }
            match fs::remove_file(&path) {
                Ok(()) => total = total.saturating_sub(bytes),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "could not evict a compiled component")
                }
            }
        }
    }

    /// Every compiled-component file: path, size, last use.
    fn files(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                let used = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                Some((e.path(), meta.len(), used))
            })
            .collect()
    }

    /// Delete temporary files a dead process left behind (a live one finishes in seconds).
    fn remove_stale_temps(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let stale = entry
                .file_name()
                .to_string_lossy()
                .starts_with(trust::TEMP_PREFIX)
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| now.duration_since(t).unwrap_or_default() > STALE_TEMP);
            if stale {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

#[cfg(all(test, unix))]
mod tests;
