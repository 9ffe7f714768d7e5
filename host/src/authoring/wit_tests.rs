//! `airlock wit`'s tests: the package it writes parses, and its world imports exactly what the
//! manifest allows.

use std::collections::BTreeSet;

use super::*;

/// A valid manifest declaring `required` scopes, plus `extra` TOML (optional scopes, origins,
/// secrets).
fn manifest(required: &[&str], extra: &str) -> Manifest {
    let mut toml = String::from(
        "id = \"acme.test\"\nname = \"Test\"\npublisher = \"Acme\"\nversion = \"1.0.0\"\n\
         kind = \"analytics\"\n",
    );
    for scope in required {
        toml.push_str(&format!(
            "[[scopes.required]]\nscope = \"{scope}\"\nreason = \"Because\"\n"
        ));
    }
    toml.push_str(extra);
    Manifest::parse(toml.as_bytes()).unwrap_or_else(|e| panic!("{e}\n{toml}"))
}

const HTTP: &str = "[[http]]\norigin = \"https://api.paygate.example\"\nreason = \"Ask\"\n\
    [[secrets]]\nname = \"gateway_key\"\nreason = \"Key\"\nsend_to = [\"https://api.paygate.example\"]\n";

/// Write `package` to a fresh directory, parse it with wit-parser and return the names of
/// every interface world `connector` imports (`airlock:connector/orders@0.2.0`, ...).
fn imports_of(package: &WitPackage) -> BTreeSet<String> {
    let dir = tempfile::tempdir().unwrap();
    package.write(dir.path()).unwrap();
    parsed_imports(dir.path())
}

fn parsed_imports(dir: &Path) -> BTreeSet<String> {
    let mut resolve = wit_parser::Resolve::default();
    let (id, _) = resolve
        .push_dir(dir)
        .unwrap_or_else(|e| panic!("the written WIT parses: {e:#}"));
    let world = resolve.select_world(&[id], Some(WORLD)).unwrap();
    let world = &resolve.worlds[world];
    assert!(
        world.exports.values().any(|item| matches!(item,
            wit_parser::WorldItem::Interface { id, .. }
                if resolve.interfaces[*id].name.as_deref() == Some("handler"))),
        "the world exports handler"
    );
    world
        .imports
        .values()
        .filter_map(|item| match item {
            wit_parser::WorldItem::Interface { id, .. } => resolve.id_of(*id),
            _ => None,
        })
        .collect()
}

/// The contract interfaces among `imports`, by short name.
fn contract(imports: &BTreeSet<String>) -> BTreeSet<String> {
    imports
        .iter()
        .filter_map(|i| i.strip_prefix("airlock:connector/"))
        .map(|i| i.split('@').next().unwrap_or(i).to_owned())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

#[test]
fn a_read_only_manifest_gets_orders_and_its_own_space_only() {
    let imports = imports_of(&world_for(&manifest(&["orders:read"], "")).unwrap());
    assert_eq!(
        contract(&imports),
        set(&["types", "orders", "storage", "log"])
    );
    assert!(
        !imports.iter().any(|i| i.starts_with("wasi:")),
        "{imports:?}"
    );
}

#[test]
fn optional_scopes_count_and_contact_details_add_no_interface() {
    let extra = "[[scopes.optional]]\nscope = \"customers:read-contact\"\nreason = \"Name\"\n\
                 [[scopes.optional]]\nscope = \"inventory:write\"\nreason = \"Fix stock\"\n";
    let package = world_for(&manifest(&["orders:read", "customers:read"], extra)).unwrap();
    assert_eq!(
        contract(&imports_of(&package)),
        set(&[
            "types",
            "orders",
            "customers",
            "inventory-updates",
            "storage",
            "log"
        ])
    );
    let allowed: Vec<_> = package
        .imports
        .iter()
        .map(|i| i.allowed_by.as_str())
        .collect();
    assert_eq!(
        allowed,
        [
            "orders:read",
            "customers:read",
            "inventory:write",
            "no scope",
            "no scope"
        ]
    );
}

#[test]
fn declared_origins_import_outgoing_handler_with_its_wasi_deps() {
    let package = world_for(&manifest(&["orders:read", "orders:write"], HTTP)).unwrap();
    let imports = imports_of(&package);
    assert!(imports.contains(WASI_HTTP_IMPORT), "{imports:?}");
    assert_eq!(
        contract(&imports),
        set(&["types", "orders", "order-updates", "storage", "log"])
    );
    // An attach-only key is no reason to read secrets.
    assert!(
        package
            .files
            .iter()
            .any(|(p, _)| p == "deps/http@0.2.12/http.wit")
    );
    let reading = HTTP.replace("send_to", "readable = true\nsend_to");
    let package = world_for(&manifest(&["orders:read"], &reading)).unwrap();
    assert!(contract(&imports_of(&package)).contains("secrets"));
}

#[test]
fn a_manifest_declaring_everything_gets_the_contract_world() {
    let all = manifest(
        &[
            "orders:read",
            "orders:write",
            "customers:read",
            "customers:read-contact",
            "inventory:read",
            "inventory:write",
        ],
        &HTTP.replace("send_to", "readable = true\nsend_to"),
    );
    let full = contract(&parsed_imports(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit"),
    ));
    assert_eq!(contract(&imports_of(&world_for(&all).unwrap())), full);
}

#[test]
fn every_contract_file_and_every_capability_is_embedded() {
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&wit)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".wit").map(str::to_owned)
        })
        .filter(|name| name != "world")
        .collect();
    let embedded: BTreeSet<String> = CONTRACT.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(on_disk, embedded);
    for (name, text) in CONTRACT {
        let file = wit.join(format!("{name}.wit"));
        assert_eq!(std::fs::read_to_string(file).unwrap(), *text);
    }
    for descriptor in CAPABILITIES {
        assert!(
            embedded.contains(descriptor.interface),
            "`{}` is not embedded",
            descriptor.interface
        );
    }
}

#[test]
fn writing_again_removes_what_the_manifest_no_longer_allows() {
    let dir = tempfile::tempdir().unwrap();
    world_for(&manifest(&["orders:read", "orders:write"], HTTP))
        .unwrap()
        .write(dir.path())
        .unwrap();
    assert!(dir.path().join("order-updates.wit").exists());
    std::fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    world_for(&manifest(&["orders:read"], ""))
        .unwrap()
        .write(dir.path())
        .unwrap();
    assert!(!dir.path().join("order-updates.wit").exists());
    assert!(!dir.path().join("deps/http@0.2.12").exists());
    assert!(dir.path().join("notes.txt").exists(), "not ours to remove");
    assert_eq!(
        contract(&parsed_imports(dir.path())),
        set(&["types", "orders", "storage", "log"])
    );
}

#[test]
fn the_world_keeps_the_contract_package_and_handler() {
    let package = world_for(&manifest(&["orders:read"], "")).unwrap();
    let (_, world) = package
        .files
        .iter()
        .find(|(p, _)| p == "world.wit")
        .unwrap();
    assert!(world.starts_with("package airlock:connector@"), "{world}");
    assert!(world.contains("interface handler"), "{world}");
    assert!(world.contains("`acme.test`"), "{world}");
    assert_eq!(world.lines().filter(|l| l.starts_with("world ")).count(), 1);
}
