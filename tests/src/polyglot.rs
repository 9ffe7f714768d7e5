//! JavaScript and Python connectors built for real: the pinned toolchains (componentize-js
//! from npm, componentize-py from PyPI) installed once under `~/.cache/airlock/toolchains/`,
//! outside the clone, from the same pinned files the templates commit; and the built
//! components cached under `~/.cache/airlock/polyglot/<hash of every input>/`, so a warm run
//! skips the builds. Installs and builds take a file lock: the suite's tests run in parallel,
//! and so may two suites.
//!
//! Without `node`/`npm` or `python3` the callers skip with a note, unless `CI` is set: there
//! a missing tool fails the test.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use airlock_host::authoring::new::{self, COMPONENTIZE_JS, COMPONENTIZE_PY, Language};
use airlock_host::manifest::ConnectorKind;
use sha2::{Digest, Sha256};

/// `~/.cache/airlock`.
fn cache_root() -> PathBuf {
    let home = std::env::var_os("HOME").expect("HOME is set");
    PathBuf::from(home).join(".cache/airlock")
}

/// A built component.
#[derive(Debug, Clone)]
pub struct Built {
    /// The component, no manifest attached.
    pub component: Vec<u8>,
    /// Whether it came from the cache.
    pub cached: bool,
    /// Seconds the build (or the cache read) took, toolchain install excluded.
    pub seconds: f64,
}

/// True when `program --version` runs; else, outside CI, a note and false; in CI a panic.
pub fn tool_present(program: &str) -> bool {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(!in_ci, "`{program}` is required in CI (CI is set)");
        eprintln!("note: `{program}` is not installed; skipping the test that needs it");
    }
    found
}

/// Run `f` holding an exclusive lock on `path` (created if missing).
fn locked<T>(path: &Path, f: impl FnOnce() -> T) -> T {
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("create the cache dir");
    let lock = File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    lock.lock().expect("lock");
    let out = f();
    drop(lock);
    out
}

fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot start: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The template's files for `language` (the toolchain pins come from them).
fn template_file(language: Language, path: &str) -> String {
    let options = new::Options {
        name: "airlock.toolchain".to_owned(),
        language,
        kind: ConnectorKind::Analytics,
        publisher: "Airlock".to_owned(),
        sdk_path: new::default_sdk_path(),
    };
    let project = new::project(&options).expect("the template renders");
    let file = project.files.iter().find(|f| f.path == path);
    file.expect("the template has the file").text.clone()
}

/// The componentize-js binary, installed with `npm ci` from the JavaScript template's
/// package.json and package-lock.json the first time; `None` (skip) without node and npm.
pub fn componentize_js() -> Option<PathBuf> {
    if !tool_present("node") || !tool_present("npm") {
        return None;
    }
    let dir = cache_root().join(format!("toolchains/componentize-js-{COMPONENTIZE_JS}"));
    let bin = dir.join("node_modules/.bin/componentize-js");
    install(&dir, |staging| {
        for file in ["package.json", "package-lock.json"] {
            std::fs::write(staging.join(file), template_file(Language::Js, file)).unwrap();
        }
        // No package of the lock has an install script; none may run.
        run(
            Command::new("npm")
                .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
                .current_dir(staging),
            "npm ci",
        );
    });
    Some(bin)
}

/// The componentize-py binary, installed in a venv with pip from the Python template's
/// hash-pinned requirements.txt the first time; `None` (skip) without python3.
pub fn componentize_py() -> Option<PathBuf> {
    if !tool_present("python3") {
        return None;
    }
    let dir = cache_root().join(format!("toolchains/componentize-py-{COMPONENTIZE_PY}"));
    install(&dir, |staging| {
        let requirements = template_file(Language::Python, "requirements.txt");
        venv(
            staging,
            &requirements,
            &["--require-hashes"],
            "componentize-py",
        );
    });
    Some(dir.join("venv/bin/componentize-py"))
}

/// The pinned schemathesis (the API fuzz test's), installed in a venv with pip from
/// `tests/schemathesis-requirements.txt` (every package pinned) the first time; `None` (skip)
/// without python3.
pub fn schemathesis() -> Option<PathBuf> {
    if !tool_present("python3") {
        return None;
    }
    let requirements = include_str!("../schemathesis-requirements.txt");
    let pin = requirements
        .lines()
        .find_map(|l| l.strip_prefix("schemathesis=="))
        .expect("schemathesis is pinned");
    let dir = cache_root().join(format!("toolchains/schemathesis-{pin}"));
    install(&dir, |staging| {
        venv(staging, requirements, &[], "schemathesis")
    });
    Some(dir.join("venv/bin/schemathesis"))
}

/// A venv in `staging/venv` with `requirements` installed by pip (`flags` added).
fn venv(staging: &Path, requirements: &str, flags: &[&str], what: &str) {
    let file = staging.join("requirements.txt");
    std::fs::write(&file, requirements).unwrap();
    run(
        Command::new("python3")
            .args(["-m", "venv"])
            .arg(staging.join("venv")),
        "python3 -m venv",
    );
    run(
        Command::new(staging.join("venv/bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .args(flags)
            .arg("-r")
            .arg(&file),
        &format!("pip install {what}"),
    );
}

/// Install into `dir` once, under a lock, marked complete by a file written last: an
/// interrupted install is never taken for a finished one, and is started over. (In place, not
/// renamed into place: a venv records its own path.)
fn install(dir: &Path, steps: impl FnOnce(&Path)) {
    let done = dir.join(".installed");
    if done.exists() {
        return;
    }
    let lock = dir.with_extension("lock");
    locked(&lock, || {
        if done.exists() {
            return;
        }
        let started = Instant::now();
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
        steps(dir);
        std::fs::write(&done, "").unwrap();
        eprintln!(
            "installed {} in {:.1} s",
            dir.display(),
            started.elapsed().as_secs_f64()
        );
    });
}

/// Build the project in `project` (its `wit/` already written) with `command` (the
/// template's componentize command, program first), unless the cache holds a component
/// built from the same inputs: every file of the project, `wit_dir`'s files, and the command.
pub fn build(project: &Path, wit_dir: &Path, command: &[String], tool: &Path) -> Built {
    let mut hash = Sha256::new();
    // The WIT directory is hashed by content below, not by where this checkout is: a clone
    // in another folder (CI's) finds the same components.
    for arg in command {
        let arg = if Path::new(arg) == wit_dir {
            "<wit>"
        } else {
            arg
        };
        hash.update(arg.as_bytes());
        hash.update([0]);
    }
    for root in [project, wit_dir] {
        for (path, bytes) in files_under(root) {
            hash.update(path.to_string_lossy().as_bytes());
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(&bytes);
        }
    }
    let key = hex::encode(hash.finalize());
    let cached = cache_root().join("polyglot").join(&key[..32]);
    let started = Instant::now();
    let target = cached.join("component.wasm");
    let fresh = locked(&cached.with_extension("lock"), || {
        if target.exists() {
            return false;
        }
        let mut cmd = Command::new(tool);
        cmd.args(&command[1..]).current_dir(project);
        run(&mut cmd, &command[0]);
        let built = std::fs::read(project.join("component.wasm")).expect("a component");
        std::fs::create_dir_all(&cached).unwrap();
        let partial = cached.join("component.wasm.partial");
        std::fs::write(&partial, &built).unwrap();
        std::fs::rename(&partial, &target).unwrap();
        true
    });
    Built {
        component: std::fs::read(&target).expect("the cached component"),
        cached: !fresh,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// Every file under `root` but built components, in path order, with paths relative to it.
fn files_under(root: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_none_or(|e| e != "wasm") {
                let relative = path.strip_prefix(root).unwrap().to_path_buf();
                out.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}
