//! Where a cache directory's trust comes from: the host creates it 0700 (or finds it owned by
//! its own user and locks it down), and keeps the key that tags its files in it, 0600. A
//! directory another user owns is not used at all; one that others could write to gets a new
//! key, so nothing already in it is ever loaded.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::format::{CacheKey, KEY_BYTES};

/// The file holding the directory's HMAC key.
pub(super) const KEY_FILE: &str = "cache.key";
/// Prefix of files being written (renamed into place when complete).
pub(super) const TEMP_PREFIX: &str = ".tmp-";

/// Why a directory cannot hold compiled components.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DiskError {
    /// A filesystem operation failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The path exists and is not a directory.
    #[error("{} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// Another user owns the directory: its files cannot be trusted to run as this host.
    #[error("{} belongs to user {owner}, not to this host's user {us}", path.display())]
    Foreign {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// The host's user.
        us: u32,
    },
    /// No way to check ownership and permissions on this platform.
    #[cfg(not(unix))]
    #[error("file ownership and permissions cannot be checked on this platform")]
    Unsupported,
}

/// An I/O error on `path` while doing `action`.
pub(super) fn io(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> DiskError {
    let path = path.to_owned();
    move |source| DiskError::Io {
        action,
        path,
        source,
    }
}

/// What the permissions of an existing directory mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Another user's: not used.
    Foreign,
    /// Ours, but others could have written into it: lock it down and start a new key.
    Exposed,
    /// Ours, readable by others: lock it down.
    Loose,
    /// Ours and 0700 (or stricter).
    Private,
}

/// The verdict on a directory owned by `owner` with permission bits `mode`, for user `us`.
pub(super) fn verdict(owner: u32, us: u32, mode: u32) -> Verdict {
    if owner != us {
        Verdict::Foreign
    } else if mode & 0o022 != 0 {
        Verdict::Exposed
    } else if mode & 0o077 != 0 {
        Verdict::Loose
    } else {
        Verdict::Private
    }
}

/// A fresh name for a file being written in `dir`.
pub(super) fn temp_path(dir: &Path) -> PathBuf {
    let mut nonce = [0u8; 8];
    // A name collision only fails the write (`create_new`); a zero nonce is still usable.
    let _ = getrandom::fill(&mut nonce);
    dir.join(format!("{TEMP_PREFIX}{}", hex::encode(nonce)))
}

/// Create `path` (which must not exist) readable and writable by its owner only, holding
/// `parts` one after the other.
pub(super) fn write_private(path: &Path, parts: &[&[u8]]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    for part in parts {
        file.write_all(part)?;
    }
    Ok(())
}

/// Make `dir` usable as a cache directory and return its key.
#[cfg(unix)]
pub(super) fn open(dir: &Path) -> Result<CacheKey, DiskError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};

    if dir.exists() && !dir.is_dir() {
        return Err(DiskError::NotADirectory(dir.to_owned()));
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io("create", dir))?;
    let meta = fs::metadata(dir).map_err(io("read", dir))?;
    if !meta.is_dir() {
        return Err(DiskError::NotADirectory(dir.to_owned()));
    }
    // A file the host creates carries its user: the portable way to learn who "we" are. It
    // holds a new key, in case the directory needs one.
    let mut candidate = [0u8; KEY_BYTES];
    getrandom::fill(&mut candidate).map_err(|e| DiskError::Io {
        action: "draw a key for",
        path: dir.to_owned(),
        source: io::Error::other(e.to_string()),
    })?;
    let temp = temp_path(dir);
    write_private(&temp, &[&candidate]).map_err(io("write in", dir))?;
    let key = (|| {
        let us = fs::metadata(&temp).map_err(io("read", &temp))?.uid();
        let verdict = verdict(meta.uid(), us, meta.mode() & 0o777);
        if verdict == Verdict::Foreign {
            return Err(DiskError::Foreign {
                path: dir.to_owned(),
                owner: meta.uid(),
                us,
            });
        }
        if verdict != Verdict::Private {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
                .map_err(io("restrict the permissions of", dir))?;
        }
        let path = dir.join(KEY_FILE);
        if verdict == Verdict::Exposed {
            tracing::warn!(dir = %dir.display(),
                "the compile cache directory was writable by other users: starting a new key, so nothing already in it is loaded");
            remove_if_present(&path)?;
        }
        key_file(&path, &temp, CacheKey(candidate), us)
    })();
    // Linked as the key, or not needed: the temporary name goes either way.
    let _ = fs::remove_file(&temp);
    key
}

/// Without Unix ownership and modes there is nothing to anchor trust in: memory only.
#[cfg(not(unix))]
pub(super) fn open(_dir: &Path) -> Result<CacheKey, DiskError> {
    Err(DiskError::Unsupported)
}

/// The key in `path`, or `candidate` (written at `temp`) made the key if there is none or
/// the one there cannot be trusted.
#[cfg(unix)]
fn key_file(path: &Path, temp: &Path, candidate: CacheKey, us: u32) -> Result<CacheKey, DiskError> {
    if let Some(key) = read_key(path, us)? {
        return Ok(key);
    }
    // A hard link publishes the whole file or nothing, and never replaces a key another
    // process made meanwhile (that one is read instead).
    match fs::hard_link(temp, path) {
        Ok(()) => Ok(candidate),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            read_key(path, us)?.ok_or_else(|| DiskError::Io {
                action: "read the key in",
                path: path.to_owned(),
                source: io::Error::other("another process left an unusable key"),
            })
        }
        // A filesystem without hard links: a rename publishes whole files too.
        Err(_) => {
            fs::rename(temp, path).map_err(io("write", path))?;
            Ok(candidate)
        }
    }
}

/// The key in `path`: `None` if there is none, or if it is not a private regular file of
/// ours of the right length (then it is removed, and every file tagged with it is stale).
#[cfg(unix)]
fn read_key(path: &Path, us: u32) -> Result<Option<CacheKey>, DiskError> {
    use std::os::unix::fs::MetadataExt;

    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io("read", path)(e)),
    };
    let private = meta.is_file() && meta.uid() == us && meta.mode() & 0o077 == 0;
    if private && meta.len() == KEY_BYTES as u64 {
        let mut key = [0u8; KEY_BYTES];
        File::open(path)
            .and_then(|mut f| f.read_exact(&mut key))
            .map_err(io("read", path))?;
        return Ok(Some(CacheKey(key)));
    }
    tracing::warn!(path = %path.display(), "the compile cache key is not a private file of this host's user: replacing it");
    remove_if_present(path)?;
    Ok(None)
}

/// Remove `path`; already gone is fine.
pub(super) fn remove_if_present(path: &Path) -> Result<(), DiskError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io("remove", path)(e)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_own_private_directory_is_used_as_is() {
        assert_eq!(verdict(1000, 1000, 0o700), Verdict::Private);
        assert_eq!(verdict(1000, 1000, 0o500), Verdict::Private);
        assert_eq!(verdict(1000, 1000, 0o755), Verdict::Loose);
        assert_eq!(verdict(1000, 1000, 0o750), Verdict::Loose);
        assert_eq!(verdict(1000, 1000, 0o775), Verdict::Exposed);
        assert_eq!(verdict(1000, 1000, 0o702), Verdict::Exposed);
        assert_eq!(verdict(0, 1000, 0o700), Verdict::Foreign);
        assert_eq!(verdict(1000, 0, 0o700), Verdict::Foreign);
    }
}
