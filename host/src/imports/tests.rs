//! The import audit on components written in WAT: what each interface needs, every problem
//! listed at once, and what unused declarations cost.

use super::*;
use crate::grants::Scope;

const HEAD: &str = r#"
id = "acme.audit"
name = "Audit"
publisher = "Acme"
version = "1.0.0"
kind = "analytics"
"#;

/// A manifest of [`HEAD`] plus `rest` (TOML).
fn manifest(rest: &str) -> Manifest {
    Manifest::parse(format!("{HEAD}{rest}").as_bytes()).expect("test manifest")
}

fn scope(table: &str, scope: Scope) -> String {
    format!("[[scopes.{table}]]\nscope = \"{scope}\"\nreason = \"test\"\n")
}

/// A component importing each of `imports` as an (empty) instance.
fn component(imports: &[&str]) -> Vec<u8> {
    let imports: String = imports
        .iter()
        .map(|name| format!("(import \"{name}\" (instance))\n"))
        .collect();
    wat::parse_str(format!("(component {imports})")).expect("test WAT")
}

fn contract(interface: &str) -> String {
    format!("{CONTRACT_PREFIX}{interface}@0.2.0")
}

#[test]
fn importing_an_interface_needs_its_one_scope_whatever_functions_the_code_calls() {
    let bytes = component(&[&contract("types"), &contract("inventory-updates")]);
    let declared = manifest(&scope("optional", Scope::InventoryWrite));
    let audit = audit(&bytes, &declared).unwrap();
    assert!(audit.is_accepted(), "{audit}");
    assert_eq!(audit.interfaces, ["types", "inventory-updates"]);
    assert_eq!(audit.needed, ScopeSet::EMPTY.with(Scope::InventoryWrite));
    assert_eq!(check(&bytes, &declared).unwrap(), audit.needed);
    assert_eq!(
        audit.to_string(),
        "imports: types, inventory-updates\nneeds: inventory:write"
    );

    let err = check(&bytes, &manifest("")).unwrap_err();
    assert!(
        matches!(&err, ArtifactError::UndeclaredScopes(m) if m.len() == 1),
        "{err}"
    );
    // A read grant is not a write grant, at install as at every call.
    let err = check(&bytes, &manifest(&scope("required", Scope::InventoryRead))).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("inventory:write") && text.contains("inventory-updates"),
        "{text}"
    );
}

#[test]
fn two_undeclared_interfaces_are_both_named_in_one_refusal_with_their_fixes() {
    let bytes = component(&[&contract("order-updates"), &contract("inventory-updates")]);
    let declared = manifest(&scope("required", Scope::OrdersRead));
    let audit = audit(&bytes, &declared).unwrap();
    assert_eq!(
        audit.missing,
        [
            Missing::Scope {
                import: contract("order-updates"),
                scope: Scope::OrdersWrite
            },
            Missing::Scope {
                import: contract("inventory-updates"),
                scope: Scope::InventoryWrite
            },
        ]
    );
    let text = audit.refusal().expect("refused").to_string();
    for needle in [
        "(2 to fix)",
        "`airlock:connector/order-updates@0.2.0` needs the scope `orders:write`",
        "`airlock:connector/inventory-updates@0.2.0` needs the scope `inventory:write`",
        "`[[scopes.required]]` with `scope = \"orders:write\"`",
        "`[[scopes.required]]` with `scope = \"inventory:write\"`",
        "`[[scopes.optional]]`",
    ] {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}

#[test]
fn secrets_need_a_readable_secret_and_wasi_http_an_origin_listed_with_scopes() {
    let bytes = component(&[
        &contract("orders"),
        &contract("secrets"),
        "wasi:http/types@0.2.6",
        "wasi:http/outgoing-handler@0.2.6",
    ]);
    let audit = audit(&bytes, &manifest("")).unwrap();
    assert!(audit.http);
    let kinds: Vec<String> = audit
        .missing
        .iter()
        .map(|m| m.import().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            contract("orders"),
            contract("secrets"),
            "wasi:http/types@0.2.6".into()
        ],
        "one origin problem for both wasi:http imports"
    );
    let declared = manifest(&format!(
        "{}[[http]]\norigin = \"https://api.example\"\nreason = \"r\"\n\
         [[secrets]]\nname = \"key\"\nreason = \"r\"\nreadable = true\n",
        scope("required", Scope::OrdersRead)
    ));
    let audit = super::audit(&bytes, &declared).unwrap();
    assert!(audit.is_accepted() && audit.unused.is_empty(), "{audit}");
}

#[test]
fn unused_declarations_say_what_they_cost_the_merchant() {
    let bytes = component(&[&contract("orders")]);
    let declared = manifest(&format!(
        "{}{}{}[[secrets]]\nname = \"gateway_key\"\nreason = \"r\"\nreadable = true\n\
         [[http]]\norigin = \"https://api.example\"\nreason = \"r\"\n",
        scope("required", Scope::OrdersRead),
        scope("required", Scope::OrdersWrite),
        scope("optional", Scope::CustomersRead),
    ));
    let audit = audit(&bytes, &declared).unwrap();
    assert!(audit.is_accepted());
    assert_eq!(
        audit.unused,
        [
            Unused::Scope {
                scope: Scope::OrdersWrite,
                required: true
            },
            Unused::Scope {
                scope: Scope::CustomersRead,
                required: false
            },
            Unused::ReadableSecret {
                name: "gateway_key".into()
            },
            Unused::Origins { count: 1 },
        ]
    );
    let costs = audit.costs();
    let lines: Vec<&str> = costs.lines().collect();
    assert_eq!(lines.len(), 4, "{costs}");
    assert!(lines[0].contains("CAN CHANGE DATA"), "{}", lines[0]);
    assert!(lines[0].contains("cannot install"), "{}", lines[0]);
    assert!(lines[0].contains("remove `orders:write` from `[[scopes.required]]`"));
    assert!(lines[1].contains("See your customers"), "{}", lines[1]);
    assert!(
        lines[2].contains("THE APP CAN READ THIS KEY"),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains("{{secret:gateway_key}}"), "{}", lines[2]);
    assert!(lines[3].contains("1 server"), "{}", lines[3]);
    assert!(
        audit.to_string().contains("unused: `orders:write`"),
        "{audit}"
    );
}

#[test]
fn scopes_used_by_events_or_unlocked_by_an_import_are_not_unused() {
    let bytes = component(&[&contract("customers")]);
    let declared = manifest(&format!(
        "events = [\"order.created\"]\n{}{}{}",
        scope("required", Scope::OrdersRead),
        scope("required", Scope::CustomersRead),
        scope("optional", Scope::CustomersReadContact),
    ));
    let audit = audit(&bytes, &declared).unwrap();
    assert!(audit.unused.is_empty(), "{audit}");
    assert_eq!(audit.costs(), "");
    let without_customers = super::audit(&component(&[]), &declared).unwrap();
    let personal = Unused::Scope {
        scope: Scope::CustomersReadContact,
        required: false,
    };
    assert!(without_customers.unused.contains(&personal));
    assert!(
        personal.cost().contains("PERSONAL DATA"),
        "{}",
        personal.cost()
    );
}

#[test]
fn a_contract_0_1_import_is_refused_naming_0_2_0_and_how_to_rebuild() {
    let bytes = component(&["airlock:connector/orders@0.1.0"]);
    let declared = manifest(&scope("required", Scope::OrdersRead));
    let err = audit(&bytes, &declared).unwrap_err();
    assert!(
        matches!(err, ArtifactError::UnsupportedContract { .. }),
        "{err}"
    );
    let text = err.to_string();
    for needle in [
        "airlock:connector/orders@0.1.0",
        "no longer runs",
        "rebuild against airlock:connector@0.2.0",
        "update airlock-sdk and rebuild",
        "`airlock wit --manifest airlock.toml --out wit`",
    ] {
        assert!(text.contains(needle), "{needle:?} not in: {text}");
    }
}

#[test]
fn only_the_0_2_contract_is_accepted() {
    assert!(check_version("x", "0.2.0").is_ok());
    assert!(check_version("x", "0.2.7").is_ok());
    for bad in ["0.1.0", "0.3.0", "1.0.0", "banana", ""] {
        let err = check_version("airlock:connector/orders", bad).unwrap_err();
        assert!(err.to_string().contains("0.2.0"), "{err}");
    }
    let later = check_version("x", "1.0.0").unwrap_err().to_string();
    assert!(later.contains("does not know"), "{later}");
}

#[test]
fn unknown_imports_are_listed_and_refuse_first() {
    let bytes = component(&[
        "evil:thing/x",
        &contract("payments"),
        "airlock:connector/orders",
        &contract("order-updates"),
        "wasi:cli/environment@0.2.6",
        "wasi:cli/environment@0.3.0",
    ]);
    let audit = audit(&bytes, &manifest("")).unwrap();
    assert_eq!(
        audit.unknown,
        [
            "evil:thing/x",
            "airlock:connector/payments@0.2.0",
            "airlock:connector/orders",
            "wasi:cli/environment@0.3.0",
        ]
    );
    assert_eq!(audit.missing.len(), 1);
    assert!(matches!(
        audit.refusal(),
        Some(ArtifactError::UnknownImport { import }) if import == "evil:thing/x"
    ));
}

#[test]
fn nested_modules_are_skipped_and_the_imports_after_them_still_read() {
    let bytes = wat::parse_str(format!(
        r#"(component
            (core module (import "evil" "f" (func)) (func (export "g")) (memory 1)
              (data (i32.const 0) "airlock:connector/order-updates@0.2.0"))
            (import "{}" (instance)))"#,
        contract("inventory-updates")
    ))
    .unwrap();
    let audit = audit(&bytes, &manifest("")).unwrap();
    assert_eq!(audit.imports, [contract("inventory-updates")]);
    assert_eq!(audit.interfaces, ["inventory-updates"]);
}

#[test]
fn bytes_that_cannot_be_judged_are_errors_not_panics() {
    let declared = manifest("");
    let good = component(&[&contract("orders")]);
    for cut in 0..good.len() {
        // A cut between sections leaves a smaller component; any other cut is malformed.
        if let Ok(audit) = audit(&good[..cut], &declared) {
            assert!(audit.imports.is_empty(), "cut at {cut}: {audit}");
        }
    }
    assert!(matches!(
        audit(&good[..good.len() - 1], &declared),
        Err(ArtifactError::Malformed(_))
    ));
    assert!(matches!(
        audit(b"\0asm\x01\0\0\0", &declared),
        Err(ArtifactError::CoreModule)
    ));
}
