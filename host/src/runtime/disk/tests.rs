//! The disk cache on an empty component (the real connectors are in the integration suite):
//! files and permissions, tampering, engines, eviction; and the one-`unsafe`-module rule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;

use super::*;

/// The smallest component: the binary header of an empty one.
const EMPTY_COMPONENT: &[u8] = b"\0asm\x0d\x00\x01\x00";

fn engine() -> Engine {
    let mut config = wasmtime::Config::new();
    config.wasm_component_model(true);
    Engine::new(&config).unwrap()
}

fn engine_key(n: u64) -> EngineKey {
    EngineKey::of(|h| h.write_u64(n))
}

fn digest(n: u8) -> Digest {
    Digest([n; 32])
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The cache files in `dir`.
fn compiled_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == EXTENSION))
        .collect();
    files.sort();
    files
}

struct Fixture {
    _root: tempfile_dir::Dir,
    dir: PathBuf,
    engine: Engine,
    component: Component,
}

/// A temporary directory without the `tempfile` crate (not a dependency of the library).
mod tempfile_dir {
    use std::path::PathBuf;

    pub struct Dir(pub PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let mut nonce = [0u8; 8];
            getrandom::fill(&mut nonce).unwrap();
            let path =
                std::env::temp_dir().join(format!("airlock-disk-test-{}", hex::encode(nonce)));
            std::fs::create_dir(&path).unwrap();
            Dir(path)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn fixture() -> Fixture {
    let root = tempfile_dir::Dir::new();
    let dir = root.0.join("nested").join("compiled");
    let engine = engine();
    let component = Component::new(&engine, EMPTY_COMPONENT).unwrap();
    Fixture {
        _root: root,
        dir,
        engine,
        component,
    }
}

impl Fixture {
    fn open(&self, engine: EngineKey) -> DiskCache {
        DiskCache::open(&self.dir, engine, MAX_COMPILE_CACHE_BYTES).unwrap()
    }
}

#[test]
fn a_stored_component_loads_in_a_new_cache_over_the_same_directory() {
    let f = fixture();
    let cache = f.open(engine_key(1));
    assert!(
        cache.load(&f.engine, &digest(1)).is_none(),
        "empty at first"
    );
    cache.store(&digest(1), &f.component);

    let again = f.open(engine_key(1));
    assert!(again.load(&f.engine, &digest(1)).is_some());
    assert!(
        again.load(&f.engine, &digest(2)).is_none(),
        "another digest"
    );
    // Created private: the directory 0700, the key and every file 0600.
    assert_eq!(mode(&f.dir), 0o700);
    assert_eq!(mode(&f.dir.join(trust::KEY_FILE)), 0o600);
    let files = compiled_files(&f.dir);
    assert_eq!(files.len(), 1);
    assert_eq!(mode(&files[0]), 0o600);
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with(&digest(1).to_hex()), "{name}");
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(&f.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_changed_file_is_deleted_not_loaded() {
    let f = fixture();
    let cache = f.open(engine_key(1));
    cache.store(&digest(1), &f.component);
    let path = compiled_files(&f.dir).remove(0);
    let good = fs::read(&path).unwrap();
    // A byte of the payload, of the header, and a truncated file.
    for (at, len) in [
        (good.len() - 1, good.len()),
        (50, good.len()),
        (0, format::HEADER_BYTES - 1),
    ] {
        let mut bad = good[..len].to_vec();
        bad[at] ^= 0x40;
        fs::write(&path, &bad).unwrap();
        assert!(cache.load(&f.engine, &digest(1)).is_none(), "byte {at}");
        assert!(!path.exists(), "the bad file is deleted");
    }
}

#[test]
fn another_digests_file_under_this_name_is_refused() {
    let f = fixture();
    let cache = f.open(engine_key(1));
    cache.store(&digest(1), &f.component);
    let a = cache.path_of(&digest(1));
    let b = cache.path_of(&digest(2));
    fs::rename(&a, &b).unwrap();
    assert!(cache.load(&f.engine, &digest(2)).is_none());
    assert!(!b.exists());
}

#[test]
fn another_engine_neither_finds_nor_accepts_the_file() {
    let f = fixture();
    let one = f.open(engine_key(1));
    one.store(&digest(1), &f.component);
    let two = f.open(engine_key(2));
    assert!(two.load(&f.engine, &digest(1)).is_none());
    assert!(one.path_of(&digest(1)).exists(), "not its file to delete");
    // Renamed to the other engine's name: refused by the header.
    fs::copy(one.path_of(&digest(1)), two.path_of(&digest(1))).unwrap();
    assert!(two.load(&f.engine, &digest(1)).is_none());
    assert!(!two.path_of(&digest(1)).exists());
    assert!(one.load(&f.engine, &digest(1)).is_some());
}

#[test]
fn a_new_key_invalidates_every_file() {
    let f = fixture();
    f.open(engine_key(1)).store(&digest(1), &f.component);
    fs::remove_file(f.dir.join(trust::KEY_FILE)).unwrap();
    let cache = f.open(engine_key(1));
    assert!(cache.load(&f.engine, &digest(1)).is_none());
}

#[test]
fn a_directory_others_could_write_gets_a_new_key_and_is_locked_down() {
    let f = fixture();
    f.open(engine_key(1)).store(&digest(1), &f.component);
    fs::set_permissions(&f.dir, fs::Permissions::from_mode(0o777)).unwrap();
    let cache = f.open(engine_key(1));
    assert_eq!(mode(&f.dir), 0o700);
    assert!(
        cache.load(&f.engine, &digest(1)).is_none(),
        "planted files are never loaded"
    );
    // Only readable by others: locked down, key kept.
    cache.store(&digest(1), &f.component);
    fs::set_permissions(&f.dir, fs::Permissions::from_mode(0o755)).unwrap();
    let cache = f.open(engine_key(1));
    assert_eq!(mode(&f.dir), 0o700);
    assert!(cache.load(&f.engine, &digest(1)).is_some());
}

#[test]
fn a_key_readable_by_others_is_replaced() {
    let f = fixture();
    f.open(engine_key(1)).store(&digest(1), &f.component);
    let key = f.dir.join(trust::KEY_FILE);
    fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
    let cache = f.open(engine_key(1));
    assert_eq!(mode(&key), 0o600);
    assert!(cache.load(&f.engine, &digest(1)).is_none());
}

#[test]
fn a_path_that_cannot_be_a_directory_is_an_error() {
    let f = fixture();
    fs::create_dir_all(f.dir.parent().unwrap()).unwrap();
    fs::write(&f.dir, b"a file").unwrap();
    assert!(matches!(
        DiskCache::open(&f.dir, engine_key(1), 1 << 20),
        Err(DiskError::NotADirectory(_))
    ));
    assert!(matches!(
        DiskCache::open(&f.dir.join("below"), engine_key(1), 1 << 20),
        Err(DiskError::Io { .. })
    ));
}

#[test]
fn the_least_recently_used_files_go_past_the_cap() {
    let f = fixture();
    let size = {
        let probe = f.open(engine_key(9));
        probe.store(&digest(9), &f.component);
        let path = probe.path_of(&digest(9));
        let size = fs::metadata(&path).unwrap().len();
        fs::remove_file(path).unwrap();
        size
    };
    // Room for two files and a half.
    let cache = DiskCache::open(&f.dir, engine_key(1), size * 5 / 2).unwrap();
    let past = |secs| SystemTime::now() - Duration::from_secs(secs);
    for (n, age) in [(1u8, 300), (2, 200)] {
        cache.store(&digest(n), &f.component);
        File::open(cache.path_of(&digest(n)))
            .unwrap()
            .set_modified(past(age))
            .unwrap();
    }
    // Using 1 makes 2 the least recently used.
    assert!(cache.load(&f.engine, &digest(1)).is_some());
    cache.store(&digest(3), &f.component);
    let left = compiled_files(&f.dir);
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(cache.path_of(&digest(1)).exists() && cache.path_of(&digest(3)).exists());
    // A component larger than the whole cap is not written.
    let tiny = DiskCache::open(&f.dir, engine_key(1), 10).unwrap();
    tiny.store(&digest(4), &f.component);
    assert!(!tiny.path_of(&digest(4)).exists());
}

#[test]
fn stale_temporary_files_are_removed_when_opened() {
    let f = fixture();
    f.open(engine_key(1));
    let (stale, fresh) = (f.dir.join(".tmp-stale"), f.dir.join(".tmp-fresh"));
    fs::write(&stale, b"half").unwrap();
    fs::write(&fresh, b"half").unwrap();
    File::options()
        .write(true)
        .open(&stale)
        .unwrap()
        .set_modified(SystemTime::now() - 2 * STALE_TEMP)
        .unwrap();
    f.open(engine_key(1));
    assert!(!stale.exists() && fresh.exists());
}

#[test]
fn only_the_native_module_may_use_unsafe_code() {
    // Spelled in pieces so this file does not match itself.
    let needles = [
        concat!("allow(", "unsafe_code)"),
        concat!("unsafe", " {"),
        concat!("unsafe", " fn"),
        concat!("unsafe", " impl"),
    ];
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut found = Vec::new();
    let mut dirs = vec![src.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "rs") {
                let text = fs::read_to_string(&path).unwrap();
                if needles.iter().any(|n| text.contains(n)) {
                    found.push(path.strip_prefix(&src).unwrap().display().to_string());
                }
            }
        }
    }
    assert_eq!(found, ["runtime/disk/native.rs"]);
}
