//! `airlock new`'s tests: every kind in every language renders a valid least-privilege
//! manifest, a handler that imports exactly the interfaces its scopes allow, and pinned tools.

use std::collections::BTreeSet;

use super::*;
use crate::authoring::wit::world_for;
use crate::grants::Scope;

const LANGUAGES: [Language; 3] = [Language::Rust, Language::Js, Language::Python];

fn options(kind: ConnectorKind, language: Language) -> Options {
    Options {
        name: "acme.test-connector".to_owned(),
        language,
        kind,
        publisher: "Acme Labs".to_owned(),
        sdk_path: default_sdk_path(),
    }
}

fn text<'a>(project: &'a Project, path: &str) -> &'a str {
    &project
        .files
        .iter()
        .find(|f| f.path == path)
        .unwrap_or_else(|| panic!("no {path}"))
        .text
}

#[test]
fn each_kind_asks_for_the_least_it_needs() {
    use Scope::*;
    let expected: [(ConnectorKind, &[Scope], &[Scope], bool); 6] = [
        (
            ConnectorKind::Payment,
            &[OrdersRead, OrdersWrite],
            &[],
            true,
        ),
        (
            ConnectorKind::Logistics,
            &[OrdersRead, OrdersWrite],
            &[],
            false,
        ),
        (
            ConnectorKind::Messaging,
            &[OrdersRead, CustomersRead],
            &[CustomersReadContact],
            false,
        ),
        (ConnectorKind::Analytics, &[OrdersRead], &[], false),
        (ConnectorKind::Ads, &[OrdersRead], &[], false),
        (
            ConnectorKind::Marketplace,
            &[InventoryRead, InventoryWrite],
            &[],
            false,
        ),
    ];
    for (kind, required, optional, http) in expected {
        let manifest = project(&options(kind, Language::Js)).unwrap().manifest;
        assert_eq!(manifest.kind, kind);
        assert_eq!(manifest.required(), required.iter().copied().collect());
        assert_eq!(manifest.optional(), optional.iter().copied().collect());
        assert_eq!(!manifest.http.is_empty(), http, "{kind:?}");
        // A key, where there is one, is attached by the host, never read by the code.
        assert!(manifest.secrets.iter().all(|s| !s.readable), "{kind:?}");
    }
}

#[test]
fn every_placeholder_is_filled_and_the_manifest_is_the_same_in_every_language() {
    for kind in ConnectorKind::ALL {
        let manifests: BTreeSet<String> = LANGUAGES
            .iter()
            .map(|&language| {
                let project = project(&options(kind, language)).unwrap();
                for file in &project.files {
                    assert_eq!(
                        unfilled(&file.text),
                        None,
                        "{kind:?} {language:?} {}",
                        file.path
                    );
                }
                text(&project, "airlock.toml").to_owned()
            })
            .collect();
        assert_eq!(manifests.len(), 1, "{kind:?}");
    }
}

/// The first `{{name}}` left in `text` (a `{{secret:NAME}}` header placeholder is not one).
fn unfilled(text: &str) -> Option<String> {
    text.split("{{").skip(1).find_map(|rest| {
        let name = rest.split("}}").next()?;
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        is_name.then(|| name.to_owned())
    })
}

/// The `airlock:connector` interfaces a handler's source imports.
fn imported(language: Language, source: &str) -> BTreeSet<String> {
    match language {
        Language::Js => source
            .lines()
            .filter_map(|l| l.split("from 'airlock:connector/").nth(1))
            .map(|rest| rest.split('@').next().unwrap_or(rest).to_owned())
            .collect(),
        Language::Python => source
            .lines()
            .filter_map(|l| l.strip_prefix("from wit_world.imports import "))
            .flat_map(|names| names.split(','))
            .map(|n| n.trim().split(' ').next().unwrap_or("").replace('_', "-"))
            // The contract's interfaces only: `outgoing-handler` and `streams` are wasi:http's.
            .filter(|n| n != "types" && crate::capabilities::descriptor(n).is_some())
            .collect(),
        Language::Rust => {
            let uses: String = source
                .split(';')
                .filter_map(|s| s.split("use airlock_sdk::").nth(1))
                .collect();
            [
                "orders",
                "order_updates",
                "customers",
                "inventory",
                "inventory_updates",
            ]
            .into_iter()
            .chain(["storage", "log", "secrets"])
            .filter(|m| {
                uses.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|w| w == *m)
            })
            .map(|m| m.replace('_', "-"))
            .collect()
        }
    }
}

#[test]
fn each_handler_imports_every_interface_its_scopes_allow_and_nothing_else() {
    for kind in ConnectorKind::ALL {
        for language in LANGUAGES {
            let project = project(&options(kind, language)).unwrap();
            let world = world_for(&project.manifest).unwrap();
            let scoped: BTreeSet<String> = world
                .imports
                .iter()
                .filter(|i| i.allowed_by.contains(':') && !i.interface.contains(':'))
                .map(|i| i.interface.clone())
                .collect();
            let allowed: BTreeSet<String> =
                world.imports.iter().map(|i| i.interface.clone()).collect();
            let source = match language {
                Language::Rust => text(&project, "src/lib.rs"),
                Language::Js => text(&project, "app.js"),
                Language::Python => text(&project, "app.py"),
            };
            let used = imported(language, source);
            assert!(
                scoped.is_subset(&used) && used.is_subset(&allowed),
                "{kind:?} {language:?}: imports {used:?}; its scopes allow {scoped:?} (with \
                 storage and log: {allowed:?})"
            );
        }
    }
}

#[test]
fn the_build_tools_are_pinned() {
    let js = project(&options(ConnectorKind::Messaging, Language::Js)).unwrap();
    let package: serde_json::Value = serde_json::from_str(text(&js, "package.json")).unwrap();
    assert_eq!(
        package["devDependencies"]["@bytecodealliance/componentize-js"],
        COMPONENTIZE_JS
    );
    let lock: serde_json::Value = serde_json::from_str(text(&js, "package-lock.json")).unwrap();
    assert_eq!(lock["name"], package["name"]);
    assert_eq!(
        lock["packages"]["node_modules/@bytecodealliance/componentize-js"]["version"],
        COMPONENTIZE_JS
    );
    let build = package["scripts"]["componentize"].as_str().unwrap();
    assert!(build.contains("-d http -d fetch-event"), "{build}");
    let payment = project(&options(ConnectorKind::Payment, Language::Js)).unwrap();
    let package: serde_json::Value = serde_json::from_str(text(&payment, "package.json")).unwrap();
    let build = package["scripts"]["componentize"].as_str().unwrap();
    assert!(
        !build.contains("http") && build.contains("-d fetch-event"),
        "{build}"
    );

    let py = project(&options(ConnectorKind::Logistics, Language::Python)).unwrap();
    let requirements = text(&py, "requirements.txt");
    assert!(requirements.contains(&format!("componentize-py=={COMPONENTIZE_PY}")));
    assert!(requirements.matches("--hash=sha256:").count() >= 2);
    let script = py.files.iter().find(|f| f.path == "build.sh").unwrap();
    assert!(script.executable);
    assert!(
        script
            .text
            .contains("\"$componentize_py\" -d wit -w connector")
    );
}

#[test]
fn test_commands_run_the_built_artifact_on_fixture_data() {
    let js = project(&options(ConnectorKind::Ads, Language::Js)).unwrap();
    assert_eq!(
        js.test,
        "airlock dev run app.wasm --event order.created:ord_1001"
    );
    let rust = project(&options(ConnectorKind::Marketplace, Language::Rust)).unwrap();
    assert_eq!(
        rust.test,
        "airlock dev run target/wasm32-wasip2/release/acme_test_connector.wasm \
         --event inventory.changed:TEA-ASSAM-250"
    );
    assert!(text(&rust, "README.md").contains(&rust.test));
    assert!(text(&rust, "Cargo.toml").contains("airlock-sdk = { path = \""));
}

#[test]
fn a_name_that_is_no_connector_id_is_refused_naming_the_field() {
    let mut bad = options(ConnectorKind::Ads, Language::Js);
    bad.name = "Acme Ads".to_owned();
    let err = project(&bad).unwrap_err().to_string();
    assert!(err.contains("`id`"), "{err}");
    assert_eq!(display_name("acme.order-notifier"), "Order Notifier");
}

#[test]
fn a_project_is_written_only_into_an_empty_directory() {
    let dir = tempfile::tempdir().unwrap();
    let project = project(&options(ConnectorKind::Analytics, Language::Python)).unwrap();
    project.write(&dir.path().join("new")).unwrap();
    assert!(dir.path().join("new/app.py").exists());
    let err = project.write(&dir.path().join("new")).unwrap_err();
    assert!(matches!(err, NewError::NotEmpty(_)), "{err}");
}

#[test]
fn generated_rust_is_formatted() {
    let Ok(out) = std::process::Command::new("rustfmt")
        .arg("--version")
        .output()
    else {
        eprintln!("rustfmt is not installed: the generated Rust is not checked for format");
        return;
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    for kind in ConnectorKind::ALL {
        let project = project(&options(kind, Language::Rust)).unwrap();
        let path = dir.path().join(format!("{}.rs", kind.as_str()));
        std::fs::write(&path, text(&project, "src/lib.rs")).unwrap();
        let check = std::process::Command::new("rustfmt")
            .args(["--check", "--edition", "2024"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            check.status.success(),
            "{kind:?}: {}",
            String::from_utf8_lossy(&check.stdout)
        );
    }
}
