//! `airlock pack`'s tests, on components written in WAT that import what each test names.

use super::*;
use crate::artifact::CONTRACT_VERSION;

/// A component importing each of `imports` (contract interfaces by short name, or full names).
fn component(imports: &[&str], inside: &str) -> Vec<u8> {
    let imports: String = imports
        .iter()
        .map(|i| {
            let name = if i.contains(':') {
                (*i).to_owned()
            } else {
                format!("airlock:connector/{i}@{CONTRACT_VERSION}")
            };
            format!("(import \"{name}\" (instance))")
        })
        .collect();
    wat::parse_str(format!("(component {imports} {inside})")).unwrap()
}

fn manifest(scopes: &[&str], extra: &str) -> String {
    let mut toml = String::from(
        "id = \"acme.packed\"\nname = \"Packed\"\npublisher = \"Acme\"\nversion = \"1.0.0\"\n\
         kind = \"analytics\"\n",
    );
    for scope in scopes {
        toml.push_str(&format!(
            "[[scopes.required]]\nscope = \"{scope}\"\nreason = \"Because\"\n"
        ));
    }
    toml + extra
}

#[test]
fn a_covered_component_is_packed_with_its_manifest_and_digest() {
    let bytes = component(&["orders", "log"], "");
    let toml = manifest(&["orders:read"], "");
    let packed = pack(&bytes, toml.as_bytes(), false).unwrap();
    let artifact = Artifact::parse(&packed.bytes).unwrap();
    assert_eq!(artifact.manifest, packed.manifest);
    assert_eq!(artifact.digest, packed.digest);
    assert_eq!(packed.digest, Digest::of(&packed.bytes));
    assert!(packed.audit.unused.is_empty(), "{:?}", packed.audit.unused);
    assert!(!packed.replaced);
}

#[test]
fn every_missing_declaration_is_named_in_one_refusal() {
    let bytes = component(
        &[
            "orders",
            "order-updates",
            "customers",
            "inventory-updates",
            "secrets",
            "wasi:http/outgoing-handler@0.2.12",
        ],
        "",
    );
    let toml = manifest(&["orders:read"], "");
    let err = pack(&bytes, toml.as_bytes(), false).unwrap_err();
    let PackError::Undeclared(audit) = &err else {
        panic!("expected the undeclared imports, got {err}");
    };
    assert_eq!(audit.missing.len(), 5, "{audit}");
    let shown = err.to_string();
    for needed in [
        "orders:write",
        "customers:read",
        "inventory:write",
        "readable = true",
        "[[http]]",
    ] {
        assert!(shown.contains(needed), "{needed} missing from: {shown}");
    }
}

#[test]
fn an_unused_declaration_packs_and_says_what_it_costs() {
    let bytes = component(&["orders"], "");
    let toml = manifest(
        &["orders:read", "customers:read-contact", "customers:read"],
        "",
    );
    let packed = pack(&bytes, toml.as_bytes(), false).unwrap();
    let unused: Vec<String> = packed.audit.unused.iter().map(|u| u.to_string()).collect();
    assert_eq!(unused.len(), 2, "{unused:?}");
    assert!(unused.iter().all(|u| u.contains("prompt")), "{unused:?}");
}

#[test]
fn a_bad_manifest_is_refused_naming_the_field() {
    let bytes = component(&["orders"], "");
    let toml = manifest(&["orders:read"], "").replace("publisher = \"Acme\"\n", "");
    let err = pack(&bytes, toml.as_bytes(), false).unwrap_err();
    assert!(matches!(err, PackError::Manifest(_)), "{err}");
    assert!(err.to_string().contains("publisher"), "{err}");
    let toml = manifest(&["orders:read"], "").replace("version = \"1.0.0\"", "version = \"one\"");
    let err = pack(&bytes, toml.as_bytes(), false).unwrap_err();
    assert!(err.to_string().contains("`version`"), "{err}");
}

#[test]
fn a_manifest_already_carried_is_replaced_only_when_asked_nested_or_not() {
    let toml = manifest(&["orders:read"], "");
    let nested = component(
        &["orders"],
        "(core module (@custom \"airlock-manifest\" \"old\") (@custom \"keep\" \"me\"))",
    );
    let top = with_manifest(&component(&["orders"], ""), b"id = 'old'");
    for bytes in [nested, top] {
        let err = pack(&bytes, toml.as_bytes(), false).unwrap_err();
        assert!(matches!(err, PackError::HasManifest), "{err}");
        let packed = pack(&bytes, toml.as_bytes(), true).unwrap();
        assert!(packed.replaced);
        let artifact = Artifact::parse(&packed.bytes).unwrap();
        assert_eq!(artifact.manifest.id, "acme.packed");
        assert_eq!(sections_named(&packed.bytes).unwrap().manifests, 1);
    }
}

#[test]
fn the_other_custom_sections_survive_a_replacement() {
    let nested = component(
        &[],
        "(core module (@custom \"airlock-manifest\" \"old\") (@custom \"keep\" \"me\"))",
    );
    let stripped = strip_custom_sections(&nested, MANIFEST_SECTION).unwrap();
    let names: Vec<String> = wasmparser::Parser::new(0)
        .parse_all(&stripped)
        .filter_map(|p| match p.unwrap() {
            wasmparser::Payload::CustomSection(s) => Some(s.name().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["keep"]);
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&stripped)
        .unwrap();
}

#[test]
fn a_signed_component_or_no_component_is_refused() {
    let toml = manifest(&["orders:read"], "");
    let signed = crate::signing::sign(&component(&["orders"], ""), &[7; 32]).unwrap();
    let err = pack(&signed, toml.as_bytes(), true).unwrap_err();
    assert!(matches!(err, PackError::Signed), "{err}");
    let err = pack(b"PK\x03\x04", toml.as_bytes(), false).unwrap_err();
    assert!(
        matches!(err, PackError::Component(ArtifactError::NotWasm)),
        "{err}"
    );
    let err = pack(b"\0asm\x01\0\0\0", toml.as_bytes(), false).unwrap_err();
    assert!(
        matches!(err, PackError::Component(ArtifactError::CoreModule)),
        "{err}"
    );
}
