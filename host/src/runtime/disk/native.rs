//! The one place the host turns bytes into native code without compiling them: the only
//! `unsafe` in the crate (a test in `disk` fails if another module allows it).
#![allow(unsafe_code)]

use wasmtime::Engine;
use wasmtime::component::Component;

use super::format::Verified;

/// A component from a payload that passed [`super::format::verify`].
///
/// Deserialized from a copy in memory, not mapped from the file (`Component::deserialize_file`):
/// a mapping would follow later writes to the file, so the code run could differ from the
/// bytes whose tag was checked. Here the bytes checked are exactly the bytes loaded.
pub(super) fn deserialize(engine: &Engine, verified: Verified<'_>) -> wasmtime::Result<Component> {
    // SAFETY: Wasmtime requires that the bytes were produced by `Component::serialize` (or
    // `Engine::precompile_component`) of a compatible engine, because it runs the machine
    // code in them without checking it. A `Verified` exists only for a payload whose
    // HMAC-SHA256 tag under this cache directory's key matches, for the engine key of *this*
    // engine and the digest asked for (`format::verify`). Only this host writes files with
    // that tag, and it tags nothing but `Component::serialize` output of an engine with that
    // key (`DiskCache::store`). The key lives in the cache directory, which the host created
    // 0700 (or found owned by its own user and locked down), in a 0600 file (`trust`): so
    // forging a file takes the host's own user (or root), who could replace the host's binary
    // anyway. Wasmtime checks its own version and the engine's settings in the payload again.
    unsafe { Component::deserialize(engine, verified.payload()) }
}
