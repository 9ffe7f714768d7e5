//! The capability table against `wit/` itself: every interface world `connector` imports has
//! a module, every function an entry, and what the WIT's docs say each function needs is the
//! one requirement its interface has in the table.

use super::*;
use crate::grants::Scope;

/// One interface world `connector` imports, read from `wit/`: its docs and each function's.
struct WitInterface {
    name: String,
    docs: String,
    functions: Vec<(String, String)>,
}

fn contract() -> Vec<WitInterface> {
    let wit = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(&wit).expect("wit/ parses");
    let world = resolve
        .select_world(&[package], Some("connector"))
        .expect("world connector");
    let mut out = Vec::new();
    for item in resolve.worlds[world].imports.values() {
        let wit_parser::WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let interface = &resolve.interfaces[*id];
        out.push(WitInterface {
            name: interface.name.clone().expect("named interface"),
            docs: one_line(interface.docs.contents.as_deref()),
            functions: interface
                .functions
                .iter()
                .map(|(name, f)| (name.clone(), one_line(f.docs.contents.as_deref())))
                .collect(),
        });
    }
    out
}

/// Doc text with its line breaks (and runs of spaces) made single spaces.
fn one_line(docs: Option<&str>) -> String {
    docs.unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scope a doc comment says is needed: the first scope name after "Needs ".
fn needs_in_docs(docs: &str) -> Option<Scope> {
    let rest = &docs[docs.find("Needs `")? + "Needs `".len()..];
    rest.split('`').next()?.parse().ok()
}

#[test]
fn every_function_of_world_connector_has_an_entry_in_the_table() {
    let contract = contract();
    let functions: usize = contract.iter().map(|i| i.functions.len()).sum();
    assert!(functions >= 14, "read too little of wit/: {functions}");
    for interface in &contract {
        assert!(
            descriptor(&interface.name).is_some(),
            "interface `{}` has no capability module",
            interface.name
        );
        for (function, _) in &interface.functions {
            assert!(
                requirement(&interface.name, function).is_some(),
                "`{}.{function}` has no entry in its DESCRIPTOR",
                interface.name
            );
        }
    }
    for d in CAPABILITIES {
        let wit = contract.iter().find(|i| i.name == d.interface);
        let wit = wit.unwrap_or_else(|| panic!("`{}` is in the table, not in wit/", d.interface));
        for function in d.functions {
            assert!(
                wit.functions.iter().any(|(f, _)| f == function),
                "`{}.{function}` is in the table but not in wit/",
                d.interface
            );
        }
    }
}

#[test]
fn every_interface_s_functions_share_the_one_requirement_its_docs_name() {
    for interface in contract() {
        let table = descriptor(&interface.name).map(|d| d.needs.scope());
        let table = table.unwrap_or_else(|| panic!("`{}` not in the table", interface.name));
        for (function, docs) in &interface.functions {
            assert_eq!(
                needs_in_docs(docs),
                table,
                "`{}.{function}`: its WIT docs and the table disagree on what it needs",
                interface.name
            );
        }
        if let Some(scope) = table {
            let says = format!("Importing this interface needs `{scope}` declared");
            assert!(
                interface.docs.contains(&says),
                "`{}`'s WIT docs should say: {says}",
                interface.name
            );
        }
    }
}

#[test]
fn the_docs_reader_finds_the_first_scope_named() {
    assert_eq!(
        needs_in_docs("One customer. Needs `customers:read`; `customers:read-contact` too."),
        Some(Scope::CustomersRead)
    );
    assert_eq!(needs_in_docs("Needs no scope."), None);
    assert_eq!(needs_in_docs(""), None);
}
