//! The compiled-component cache: bounded, least recently used first out. A compiled component
//! costs several times its artifact's size in memory, and every distinct upload would
//! otherwise stay compiled for the life of the host.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ids::Digest;

/// Most compiled components kept: more than a busy host runs, so an event never waits for a
/// reload (at 64, a host with 100 active connectors reloaded or recompiled on the event path).
pub const MAX_CACHED_COMPONENTS: usize = 512;
/// Most artifact bytes whose compiled components are kept (the artifact's size stands in for
/// the compiled code's, which grows with it).
pub const MAX_CACHED_ARTIFACT_BYTES: usize = 512 * 1024 * 1024;

/// One cached value, its weight, and when it was last used.
struct Entry<T> {
    value: Arc<T>,
    bytes: usize,
    used: u64,
}

/// A map from digest to compiled component under both bounds.
pub(crate) struct Cache<T> {
    entries: HashMap<Digest, Entry<T>>,
    bytes: usize,
    clock: u64,
    max_entries: usize,
    max_bytes: usize,
}

impl<T> Cache<T> {
    /// An empty cache with these bounds.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Cache {
            entries: HashMap::new(),
            bytes: 0,
            clock: 0,
            max_entries: max_entries.max(1),
            max_bytes,
        }
    }

    /// The value of `digest`, marked as just used.
    pub fn get(&mut self, digest: &Digest) -> Option<Arc<T>> {
        self.clock += 1;
        let entry = self.entries.get_mut(digest)?;
        entry.used = self.clock;
        Some(entry.value.clone())
    }

    /// Keep `value` (compiled from `bytes` bytes of artifact), evicting the least recently
    /// used entries until both bounds hold again. A value above the byte bound on its own is
    /// not kept at all.
    pub fn insert(&mut self, digest: Digest, value: Arc<T>, bytes: usize) {
        self.remove(&digest);
        if bytes > self.max_bytes {
            return;
        }
        while !self.entries.is_empty()
            && (self.entries.len() >= self.max_entries || self.bytes + bytes > self.max_bytes)
        {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(d, _)| *d);
            match oldest {
                Some(d) => self.remove(&d),
                None => break,
            }
        }
        self.clock += 1;
        self.bytes += bytes;
        self.entries.insert(
            digest,
            Entry {
                value,
                bytes,
                used: self.clock,
            },
        );
    }

    /// Drop `digest` (its artifact was deleted).
    pub fn remove(&mut self, digest: &Digest) {
        if let Some(entry) = self.entries.remove(digest) {
            self.bytes -= entry.bytes;
        }
    }

    /// How many values are kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: u8) -> Digest {
        Digest([n; 32])
    }

    #[test]
    fn the_least_recently_used_goes_first_when_either_bound_is_reached() {
        let mut cache = Cache::new(2, 100);
        cache.insert(d(1), Arc::new(1), 10);
        cache.insert(d(2), Arc::new(2), 10);
        assert!(cache.get(&d(1)).is_some(), "1 is now the most recent");
        cache.insert(d(3), Arc::new(3), 10);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&d(2)).is_none(), "2 was the least recent");
        assert!(cache.get(&d(1)).is_some() && cache.get(&d(3)).is_some());
        // The byte bound: 95 more bytes leave room for nothing else.
        cache.insert(d(4), Arc::new(4), 95);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&d(4)).is_some());
        // Too big on its own: not kept, and nothing else is evicted for it.
        cache.insert(d(5), Arc::new(5), 101);
        assert!(cache.get(&d(5)).is_none() && cache.get(&d(4)).is_some());
        cache.remove(&d(4));
        assert_eq!((cache.len(), cache.bytes), (0, 0));
    }
}
