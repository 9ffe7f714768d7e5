//! Supply chain, offline: every crate in our lockfiles (the host's, the example connectors',
//! the test connectors') is checked against the RustSec advisory database snapshot in
//! `../shared/advisory-db` (these machines cannot fetch the live one), and every licence
//! against the list we can ship under. CI sets `AIRLOCK_ADVISORY_DB`, so there it cannot skip.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Advisories we knowingly accept, each with the reason; empty is the goal.
const ACCEPTED: &[(&str, &str)] = &[];

/// Licences (SPDX ids) we can ship under.
const LICENCES: &[&str] = &[
    "MIT",
    "Apache-2.0",
    "Apache-2.0 WITH LLVM-exception",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "ISC",
    "Zlib",
    "0BSD",
    "CC0-1.0",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "BSL-1.0",
    "MPL-2.0",
    "CDLA-Permissive-2.0",
    "Unlicense",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const LOCKFILES: [&str; 3] = [
    "Cargo.lock",
    "plugins/Cargo.lock",
    "tests/plugins/Cargo.lock",
];

/// The advisory database, or `None` (with a note) outside CI when it is not there.
fn advisory_db() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("AIRLOCK_ADVISORY_DB").map(PathBuf::from),
        Some(root().join("../shared/advisory-db")),
        Some(PathBuf::from("/work/shared/advisory-db")),
    ];
    let found = candidates
        .into_iter()
        .flatten()
        .find(|p| p.join("crates").is_dir());
    if found.is_none() {
        assert!(
            std::env::var_os("AIRLOCK_ADVISORY_DB").is_none(),
            "AIRLOCK_ADVISORY_DB is set but holds no crates/ directory"
        );
        eprintln!(
            "skipped: no RustSec snapshot (set AIRLOCK_ADVISORY_DB to ../shared/advisory-db)"
        );
    }
    found
}

/// (name, version) of every registry crate in `lockfile`.
fn locked(lockfile: &Path) -> Vec<(String, semver::Version)> {
    let text = std::fs::read_to_string(lockfile).unwrap();
    let lock: toml::Table = text.parse().unwrap();
    lock["package"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p.get("source").is_some())
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["version"].as_str().unwrap().parse().unwrap(),
            )
        })
        .collect()
}

/// The TOML front matter of an advisory file.
fn front_matter(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap();
    let body = text
        .split("```toml")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap_or_else(|| panic!("{} has no TOML front matter", path.display()));
    body.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn matches_any(version: &semver::Version, reqs: Option<&toml::Value>) -> bool {
    reqs.and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str())
        .any(|r| {
            semver::VersionReq::parse(r)
                .map(|req| req.matches(version))
                .unwrap_or(false)
        })
}

/// The advisories in `db` that affect `name` at `version`, as `id (kind)`.
fn advisories_for(db: &Path, name: &str, version: &semver::Version) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(db.join("crates").join(name)) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "md") {
            continue;
        }
        let advisory = front_matter(&path);
        let meta = advisory["advisory"].as_table().unwrap();
        if meta.get("withdrawn").is_some() {
            continue;
        }
        let versions = advisory.get("versions").and_then(|v| v.as_table());
        let patched = versions.and_then(|v| v.get("patched"));
        let unaffected = versions.and_then(|v| v.get("unaffected"));
        if matches_any(version, patched) || matches_any(version, unaffected) {
            continue;
        }
        let kind = meta
            .get("informational")
            .and_then(|v| v.as_str())
            .unwrap_or("vulnerability");
        found.push(format!("{} ({kind})", meta["id"].as_str().unwrap()));
    }
    found.sort();
    found
}

#[test]
fn the_advisory_check_finds_a_known_advisory() {
    let Some(db) = advisory_db() else { return };
    let old: semver::Version = "0.9.3".parse().unwrap();
    assert!(
        advisories_for(&db, "hyper", &old)
            .contains(&"RUSTSEC-2016-0002 (vulnerability)".to_owned())
    );
    let fixed: semver::Version = "1.12.0".parse().unwrap();
    assert!(
        !advisories_for(&db, "hyper", &fixed)
            .contains(&"RUSTSEC-2016-0002 (vulnerability)".to_owned())
    );
}

#[test]
fn no_locked_dependency_has_a_known_advisory() {
    let Some(db) = advisory_db() else { return };
    let snapshot = std::fs::read_to_string(db.join("SNAPSHOT.txt")).unwrap_or_default();
    eprintln!("{}", snapshot.lines().take(2).collect::<Vec<_>>().join(" "));
    let mut found = Vec::new();
    let mut checked = 0;
    for lockfile in LOCKFILES {
        for (name, version) in locked(&root().join(lockfile)) {
            checked += 1;
            for advisory in advisories_for(&db, &name, &version) {
                if ACCEPTED.iter().any(|(id, _)| advisory.starts_with(id)) {
                    continue;
                }
                found.push(format!("{advisory}: {name} {version} in {lockfile}"));
            }
        }
    }
    eprintln!("{checked} locked crates checked");
    assert!(checked > 100, "only {checked} crates read");
    assert!(
        found.is_empty(),
        "advisories against locked crates (upgrade them, or accept one in ACCEPTED with a reason):\n{}",
        found.join("\n")
    );
}

/// True when an SPDX expression can be satisfied with the licences in [`LICENCES`]: `OR`
/// needs one side, `AND` both (enough for the expressions crates use; parentheses nest).
fn allowed(expression: &str) -> bool {
    let expr = expression.trim();
    if let Some(inner) = expr.strip_prefix('(').and_then(|e| e.strip_suffix(')'))
        && balanced(inner)
    {
        return allowed(inner);
    }
    if let Some(parts) = split_top(expr, " OR ") {
        return parts.iter().any(|p| allowed(p));
    }
    if let Some(parts) = split_top(expr, " AND ") {
        return parts.iter().all(|p| allowed(p));
    }
    // Old crates write `MIT/Apache-2.0`.
    if expr.contains('/') {
        return expr.split('/').any(allowed);
    }
    LICENCES.contains(&expr)
}

fn balanced(text: &str) -> bool {
    let mut depth = 0i32;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// Split at `sep` outside parentheses; `None` when it does not occur there.
fn split_top<'a>(text: &'a str, sep: &str) -> Option<Vec<&'a str>> {
    let mut parts = Vec::new();
    let (mut depth, mut start, mut i) = (0i32, 0, 0);
    let bytes = text.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ if depth == 0 && text[i..].starts_with(sep) => {
                parts.push(&text[start..i]);
                i += sep.len();
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if parts.is_empty() {
        return None;
    }
    parts.push(&text[start..]);
    Some(parts)
}

#[test]
fn spdx_expressions_are_read_as_crates_write_them() {
    assert!(allowed("MIT OR Apache-2.0"));
    assert!(allowed("(MIT OR Apache-2.0) AND Unicode-3.0"));
    assert!(allowed(
        "Apache-2.0 WITH LLVM-exception OR Apache-2.0 OR MIT"
    ));
    assert!(allowed("MIT/Apache-2.0"));
    assert!(!allowed("GPL-3.0-only"));
    assert!(!allowed("MIT AND GPL-3.0-only"));
    assert!(allowed("GPL-3.0-only OR MIT"));
}

#[test]
fn every_dependency_has_a_licence_we_can_ship_under() {
    let mut refused = BTreeMap::new();
    // What we ship: the host for Linux, the connectors for wasm32-wasip2.
    for (manifest, platform) in [
        ("Cargo.toml", "x86_64-unknown-linux-gnu"),
        ("plugins/Cargo.toml", "wasm32-wasip2"),
        ("tests/plugins/Cargo.toml", "wasm32-wasip2"),
    ] {
        let out = std::process::Command::new(env!("CARGO"))
            .args(["metadata", "--format-version", "1", "--locked", "--offline"])
            .args(["--filter-platform", platform])
            .arg("--manifest-path")
            .arg(root().join(manifest))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo metadata for {manifest}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        for package in metadata["packages"].as_array().unwrap() {
            if package["source"].is_null() {
                continue; // our own crates
            }
            let name = package["name"].as_str().unwrap();
            let licence = package["license"].as_str().unwrap_or("");
            if !allowed(licence) {
                refused.insert(name.to_owned(), licence.to_owned());
            }
        }
    }
    assert!(
        refused.is_empty(),
        "dependencies whose licence is not on our list: {refused:#?}"
    );
}
