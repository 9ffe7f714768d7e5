//! The analysis of a dev run on made-up reports and imports: which scopes a run used, where
//! each belongs, every refusal's fix, and a least manifest the host's own parser accepts.

use super::least::least_manifest;
use super::refusals::{denials, origin_uses};
use super::usage::{Reach, scope_uses};
use super::*;
use crate::call::{Access, OutboundCall};
use crate::ids::InstallationId;
use crate::outbound::OFFLINE_REFUSAL;
use crate::report::{AbortReason, CallResult};
use crate::runtime::ComponentImport;
use crate::topics::Topic;

const HEADER: &str = r#"
id = "acme.notifier"
name = "Notifier"
publisher = "Acme"
version = "1.0.0"
kind = "messaging"
events = ["order.created"]
"#;

fn manifest(rest: &str) -> Manifest {
    Manifest::parse(format!("{HEADER}{rest}").as_bytes()).unwrap()
}

fn scopes(required: &[&str], optional: &[&str]) -> String {
    let mut out = String::new();
    for (list, names) in [("required", required), ("optional", optional)] {
        for name in names {
            out.push_str(&format!(
                "[[scopes.{list}]]\nscope = \"{name}\"\nreason = \"because {name}\"\n"
            ));
        }
    }
    out
}

fn event() -> Event {
    event_from_spec("order.created:ord_1001", 1).unwrap()
}

/// The imports of a component calling `functions` (`interface.function`), plus wasi:http.
fn imports(functions: &[&str], http: bool) -> Vec<ComponentImport> {
    let mut out: Vec<ComponentImport> = Vec::new();
    for f in functions {
        let (interface, function) = f.split_once('.').unwrap();
        let name = format!("airlock:connector/{interface}@0.1.0");
        match out.iter_mut().find(|i| i.name == name) {
            Some(i) => i.functions.push(function.to_owned()),
            None => out.push(ComponentImport {
                name,
                functions: vec![function.to_owned()],
            }),
        }
    }
    if http {
        out.push(ComponentImport {
            name: "wasi:http/outgoing-handler@0.2.6".to_owned(),
            functions: vec!["handle".to_owned()],
        });
    }
    out
}

fn access(operation: &'static str, scope: Option<Scope>, allowed: u32, denied: u32) -> Access {
    Access {
        operation,
        scope,
        allowed,
        denied,
        not_found: 0,
        failed: 0,
        records: u64::from(allowed),
    }
}

fn request(origin: &str, error: Option<&str>, status: Option<u16>) -> OutboundCall {
    OutboundCall {
        origin: origin.to_owned(),
        method: "GET".to_owned(),
        status,
        error: error.map(str::to_owned),
        refused: error.is_some(),
        cause: None,
        bytes_received: 0,
        elapsed_ms: 0,
    }
}

fn report(accesses: Vec<Access>, outbound: Vec<OutboundCall>) -> InvocationReport {
    let id = InstallationId::new(DEV_INSTALLATION);
    let limits = Limits::default();
    let mut r = InvocationReport::not_started(
        &id,
        "acme.notifier",
        Some(&event()),
        &limits,
        AbortReason::Stopped,
    );
    r.result = CallResult::Done {
        acted: true,
        summary: "done".to_owned(),
    };
    r.accesses = accesses;
    r.outbound = outbound;
    r
}

fn find(uses: &[ScopeUse], scope: Scope) -> &ScopeUse {
    uses.iter().find(|u| u.scope == scope).unwrap()
}

/// The example notifier's shape: required orders and customers, optional contact and stock,
/// plus an optional write scope its code never calls.
fn notifier() -> (Manifest, Reach) {
    let m = manifest(&scopes(
        &["orders:read", "customers:read"],
        &[
            "customers:read-contact",
            "inventory:read",
            "inventory:write",
        ],
    ));
    let reach = Reach::of(&imports(
        &[
            "orders.get",
            "customers.get",
            "inventory.get",
            "storage.set",
            "log.write",
        ],
        false,
    ));
    (m, reach)
}

#[test]
fn a_run_on_the_minimum_grant_places_each_scope_by_what_it_did() {
    let (m, reach) = notifier();
    let run = report(
        vec![
            access("orders.get", Some(Scope::OrdersRead), 1, 0),
            access("customers.get", Some(Scope::CustomersRead), 1, 0),
            access("inventory.get", Some(Scope::InventoryRead), 0, 2),
            access("storage.set", None, 1, 0),
        ],
        vec![],
    );
    let uses = scope_uses(&m, &reach, m.required(), &event(), Some(&run));
    let orders = find(&uses, Scope::OrdersRead);
    assert_eq!(
        (orders.run, orders.suggestion),
        (RunUse::Used, Placement::Required)
    );
    assert!(orders.for_event, "order.created needs orders:read");
    let contact = find(&uses, Scope::CustomersReadContact);
    assert_eq!(
        (contact.run, contact.suggestion),
        (RunUse::Withheld, Placement::Optional)
    );
    assert!(
        contact.why.contains("--grant customers:read-contact"),
        "{}",
        contact.why
    );
    let stock = find(&uses, Scope::InventoryRead);
    assert_eq!(
        (stock.run, stock.suggestion),
        (RunUse::Denied, Placement::Optional)
    );
    assert_eq!(stock.in_code, ["inventory.get"]);
    let write = find(&uses, Scope::InventoryWrite);
    assert_eq!(
        (write.run, write.suggestion),
        (RunUse::Unused, Placement::Drop)
    );
    assert!(write.why.contains("never calls"), "{}", write.why);
    assert!(
        uses.iter().all(|u| u.scope != Scope::OrdersWrite),
        "neither declared nor reached"
    );

    let refused = denials(&m, &uses, &event(), Some(&run));
    assert_eq!(refused.len(), 1);
    assert_eq!(
        (refused[0].call.as_str(), refused[0].count),
        ("inventory.get", 2)
    );
    assert!(
        refused[0].fix.contains("--grant inventory:read"),
        "{}",
        refused[0].fix
    );
    assert!(
        refused[0].fix.contains("[[scopes.required]]"),
        "{}",
        refused[0].fix
    );

    let origins = origin_uses(&m, &reach, Some(&run));
    let least = least_manifest(&m, &uses, &origins, &reach, Topic::OrderCreated);
    assert_eq!(least.invalid, None, "{}", least.toml);
    assert_eq!(least.required, [Scope::OrdersRead, Scope::CustomersRead]);
    assert_eq!(
        least.optional,
        [Scope::CustomersReadContact, Scope::InventoryRead]
    );
    let parsed = Manifest::parse(least.toml.as_bytes()).unwrap();
    assert!(!parsed.declared().contains(Scope::InventoryWrite));
    assert_eq!(
        parsed.scopes.required[0].reason, "because orders:read",
        "reasons kept"
    );
    assert!(
        least
            .changes
            .iter()
            .any(|c| c.starts_with("scopes: drop `inventory:write`"))
    );
}

#[test]
fn a_required_scope_the_run_never_needed_is_made_optional_or_dropped() {
    let m = manifest(&scopes(
        &["orders:read", "customers:read", "inventory:write"],
        &[],
    ));
    let reach = Reach::of(&imports(&["orders.get", "customers.get"], false));
    let run = report(
        vec![access("orders.get", Some(Scope::OrdersRead), 1, 0)],
        vec![],
    );
    let uses = scope_uses(&m, &reach, m.required(), &event(), Some(&run));
    let customers = find(&uses, Scope::CustomersRead);
    assert_eq!(customers.suggestion, Placement::Optional);
    assert!(
        customers
            .why
            .contains("keep it required only if another event"),
        "{}",
        customers.why
    );
    assert_eq!(
        find(&uses, Scope::InventoryWrite).suggestion,
        Placement::Drop
    );
    let least = least_manifest(&m, &uses, &[], &reach, Topic::OrderCreated);
    assert_eq!(least.invalid, None, "{}", least.toml);
    assert_eq!(least.required, [Scope::OrdersRead]);
}

#[test]
fn contact_details_used_keep_customer_reads_required_with_them() {
    let m = manifest(&scopes(
        &["orders:read", "customers:read", "customers:read-contact"],
        &[],
    ));
    let reach = Reach::of(&imports(&["orders.get", "customers.get"], false));
    let run = report(
        vec![
            access("orders.get", Some(Scope::OrdersRead), 1, 0),
            access("customers.get", Some(Scope::CustomersRead), 1, 0),
            access("customers.contact", Some(Scope::CustomersReadContact), 1, 0),
        ],
        vec![],
    );
    let uses = scope_uses(&m, &reach, m.required(), &event(), Some(&run));
    assert_eq!(find(&uses, Scope::CustomersReadContact).run, RunUse::Used);
    let least = least_manifest(&m, &uses, &[], &reach, Topic::OrderCreated);
    assert_eq!(least.invalid, None, "{}", least.toml);
    assert!(least.required.contains(&Scope::CustomersRead));
}

#[test]
fn an_undelivered_event_is_a_denial_naming_the_topic_scope() {
    let (m, reach) = notifier();
    let uses = scope_uses(&m, &reach, ScopeSet::EMPTY, &event(), None);
    let refused = denials(&m, &uses, &event(), None);
    assert_eq!(refused[0].call, "delivery of `order.created`");
    assert_eq!(refused[0].scope, Some(Scope::OrdersRead));
    assert!(
        refused[0].fix.contains("--grant none"),
        "{}",
        refused[0].fix
    );
    // Nothing ran: every reached scope stays declared, none required by a run that needed it.
    let least = least_manifest(&m, &uses, &[], &reach, Topic::OrderCreated);
    assert_eq!(least.invalid, None, "{}", least.toml);
    assert!(
        least.required.contains(&Scope::OrdersRead),
        "the event needs it"
    );
}

#[test]
fn origins_requested_are_kept_undeclared_ones_added_and_unused_ones_dropped() {
    let m = manifest(&format!(
        "{}{}",
        scopes(&["orders:read"], &[]),
        r#"
[[http]]
origin = "https://api.paygate.example"
reason = "pay"
[[http]]
origin = "https://api.courier.example"
reason = "ship"
[[secrets]]
name = "courier_key"
reason = "courier"
send_to = ["https://api.courier.example"]
"#
    ));
    let reach = Reach::of(&imports(&["orders.get"], true));
    let run = report(
        vec![access("orders.get", Some(Scope::OrdersRead), 1, 0)],
        vec![
            request("https://api.paygate.example", Some(OFFLINE_REFUSAL), None),
            request(
                "https://evil.example",
                Some("origin not declared in the manifest and approved by the merchant"),
                None,
            ),
        ],
    );
    let origins = origin_uses(&m, &reach, Some(&run));
    let placed: Vec<(&str, OriginPlacement)> = origins
        .iter()
        .map(|o| (o.origin.as_str(), o.suggestion))
        .collect();
    assert_eq!(
        placed,
        [
            ("https://api.paygate.example", OriginPlacement::Keep),
            ("https://api.courier.example", OriginPlacement::Drop),
            ("https://evil.example", OriginPlacement::Add),
        ]
    );
    assert_eq!(origins[0].offline, 1);
    let uses = scope_uses(&m, &reach, m.required(), &event(), Some(&run));
    let refused = denials(&m, &uses, &event(), Some(&run));
    assert_eq!(
        refused.len(),
        1,
        "the offline request is no denial: {refused:?}"
    );
    assert!(
        refused[0]
            .fix
            .contains("[[http]] origin = \"https://evil.example\"")
    );
    let least = least_manifest(&m, &uses, &origins, &reach, Topic::OrderCreated);
    assert_eq!(least.invalid, None, "{}", least.toml);
    assert_eq!(
        least.http,
        ["https://api.paygate.example", "https://evil.example"]
    );
    assert!(least.secrets.is_empty(), "its only origin was dropped");
    assert!(least.toml.contains("reason = \"TODO:"), "{}", least.toml);
}

#[test]
fn origins_of_code_without_http_are_dropped_and_with_http_kept_when_nothing_was_requested() {
    let m = manifest(&format!(
        "{}[[http]]\norigin = \"https://api.paygate.example\"\nreason = \"pay\"\n",
        scopes(&["orders:read"], &[])
    ));
    let run = report(vec![], vec![]);
    let without = origin_uses(&m, &Reach::of(&imports(&[], false)), Some(&run));
    assert_eq!(without[0].suggestion, OriginPlacement::Drop);
    let with = origin_uses(&m, &Reach::of(&imports(&[], true)), Some(&run));
    assert_eq!(with[0].suggestion, OriginPlacement::Keep);
}

#[test]
fn a_grant_must_name_a_declared_scope() {
    let bytes = crate::artifact::with_manifest(
        b"\0asm\x0d\0\x01\0",
        format!("{HEADER}{}", scopes(&["orders:read"], &["inventory:read"])).as_bytes(),
    );
    let connector = DevConnector::load(&bytes, None).unwrap();
    let options = |required, grant: Vec<Scope>| DevOptions {
        required,
        grant,
        ..DevOptions::default()
    };
    let granted = connector
        .grants(&options(true, vec![Scope::InventoryRead]))
        .unwrap();
    assert_eq!(
        granted.iter().collect::<Vec<_>>(),
        [Scope::OrdersRead, Scope::InventoryRead]
    );
    assert_eq!(
        connector.grants(&options(false, vec![])).unwrap(),
        ScopeSet::EMPTY
    );
    let err = connector
        .grants(&options(true, vec![Scope::OrdersWrite]))
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("--grant `orders:write`: the manifest does not declare it"),
        "{err}"
    );
    assert!(err.contains("orders:read, inventory:read"), "{err}");
}

#[test]
fn a_manifest_given_replaces_a_missing_one_with_a_note() {
    let bare = b"\0asm\x0d\0\x01\0";
    assert!(matches!(
        DevConnector::load(bare, None),
        Err(DevError::Artifact(ArtifactError::NoManifest))
    ));
    let toml = format!("{HEADER}{}", scopes(&["orders:read"], &[]));
    let connector = DevConnector::load(bare, Some(toml.as_bytes())).unwrap();
    assert_eq!(connector.manifest().id, "acme.notifier");
    assert!(
        connector.notes[0].contains("carries no manifest"),
        "{:?}",
        connector.notes
    );
    let err = DevConnector::load(bare, Some(b"id = 3"))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("the manifest is refused"), "{err}");
    assert!(matches!(
        DevConnector::load(b"PK", Some(toml.as_bytes())),
        Err(DevError::Artifact(ArtifactError::NotWasm))
    ));
}

#[test]
fn publisher_text_in_the_least_manifest_stays_one_toml_string() {
    let m = manifest(
        "[[scopes.required]]\nscope = \"orders:read\"\nreason = \"say \\\"hi\\\" \\\\ \\u202e\"\n",
    );
    let reach = Reach::of(&imports(&["orders.get"], false));
    let uses = scope_uses(&m, &reach, m.required(), &event(), None);
    let least = least_manifest(&m, &uses, &[], &reach, Topic::OrderCreated);
    assert_eq!(least.invalid, None, "{}", least.toml);
    assert!(!least.toml.contains('\u{202e}'), "{}", least.toml);
    let parsed = Manifest::parse(least.toml.as_bytes()).unwrap();
    assert_eq!(
        parsed.scopes.required[0].reason,
        m.scopes.required[0].reason
    );
}
