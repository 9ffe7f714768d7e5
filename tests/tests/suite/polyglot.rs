//! Connectors in JavaScript and Python, made by `airlock new`'s library function from the
//! templates and built with the pinned componentize-js and componentize-py against the world
//! `airlock wit` writes (`airlock_tests::polyglot` installs the tools and caches the builds),
//! then packed with an honest minimal manifest and run in a real host: a granted call, the
//! typed denial of a scope not approved, another merchant's order as not found, and an
//! uncaught exception's message in the report. The one line not from a template makes the
//! handler throw for the subject `test:throw`.
//!
//! And the complaint contract 0.2 answers: the same JavaScript built against the contract's
//! full world is refused by `pack`, naming every missing scope at once.

use std::path::Path;
use std::sync::OnceLock;
use std::time::Instant;

use airlock_host::authoring::new::{self, Language};
use airlock_host::authoring::pack::{PackError, pack};
use airlock_host::authoring::wit::world_for;
use airlock_host::grants::Scope;
use airlock_host::ids::InstallationId;
use airlock_host::manifest::{ConnectorKind, Manifest, Topic};
use airlock_host::{AbortReason, CallResult, ConnectorFailure, Host, InvocationReport};
use airlock_tests::polyglot::{self, Built};
use airlock_tests::{ManifestBuilder, TestDb, TestHost, approve_what_waits, demo_store, summary};

/// The subject that makes the test variant throw.
const THROW: &str = "test:throw";

/// A template project in a fresh directory, with the throwing line added.
struct Project {
    dir: tempfile::TempDir,
    project: new::Project,
}

fn template(language: Language, kind: ConnectorKind) -> Project {
    let options = new::Options {
        name: format!("airlock.polyglot-{}", kind.as_str()),
        language,
        kind,
        publisher: "Airlock Tests".to_owned(),
        sdk_path: new::default_sdk_path(),
    };
    let mut project = new::project(&options).expect("the template renders");
    let (source, entry, line) = match language {
        Language::Js => (
            "app.js",
            "  async handleEvent(event) {\n",
            "    if (event.subjectId === 'test:throw') throw new Error('uncaught on purpose');\n",
        ),
        Language::Python => (
            "app.py",
            "    def handle_event(self, event: types.Event) -> types.Outcome:\n",
            "        if event.subject_id == \"test:throw\":\n            raise RuntimeError(\"uncaught on purpose\")\n",
        ),
        Language::Rust => unreachable!("the Rust template builds with cargo"),
    };
    let file = project.files.iter_mut().find(|f| f.path == source).unwrap();
    assert!(file.text.contains(entry), "the template's handler moved");
    file.text = file.text.replacen(entry, &format!("{entry}{line}"), 1);
    let dir = tempfile::tempdir().unwrap();
    project.write(dir.path()).unwrap();
    Project { dir, project }
}

/// Build `project` against the world in `wit` (relative to the project, or absolute).
fn build(project: &Project, language: Language, wit: &Path) -> Option<Built> {
    let tool = match language {
        Language::Js => polyglot::componentize_js()?,
        Language::Python => polyglot::componentize_py()?,
        Language::Rust => unreachable!(),
    };
    let mut command = new::componentize_command(language, &project.project.manifest);
    // The template builds against `wit/`; the full-world build names the contract's.
    if let Some(at) = command.iter().position(|a| a == "wit") {
        command[at] = wit.to_string_lossy().into_owned();
    }
    let wit_dir = project.dir.path().join(wit);
    let built = polyglot::build(project.dir.path(), &wit_dir, &command, &tool);
    eprintln!(
        "{language:?} {}: {} bytes, {} in {:.1} s",
        project.project.manifest.id,
        built.component.len(),
        if built.cached {
            "from the cache"
        } else {
            "built"
        },
        built.seconds
    );
    Some(built)
}

/// A template built against the world `airlock wit` writes from its own manifest.
fn built(language: Language, kind: ConnectorKind) -> Option<Built> {
    let project = template(language, kind);
    world_for(&project.project.manifest)
        .unwrap()
        .write(&project.dir.path().join("wit"))
        .unwrap();
    build(&project, language, Path::new("wit"))
}

/// The JavaScript messaging template, built once per run.
fn javascript() -> Option<&'static Built> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    BUILT
        .get_or_init(|| built(Language::Js, ConnectorKind::Messaging))
        .as_ref()
}

/// The Python logistics template, built once per run.
fn python() -> Option<&'static Built> {
    static BUILT: OnceLock<Option<Built>> = OnceLock::new();
    BUILT
        .get_or_init(|| built(Language::Python, ConnectorKind::Logistics))
        .as_ref()
}

/// Pack, install (timing the compile) and approve `optional` of what the manifest declares.
async fn install(
    host: &Host,
    component: &[u8],
    manifest: &str,
    optional: &[Scope],
) -> InstallationId {
    let packed = pack(component, manifest.as_bytes(), false).expect("an honest manifest packs");
    assert!(packed.audit.unused.is_empty(), "{}", packed.audit);
    let started = Instant::now();
    let installed = host
        .install(&demo_store(), &packed.bytes, "test")
        .await
        .unwrap();
    eprintln!(
        "{}: installed (compiled) in {:.1} s",
        packed.manifest.id,
        started.elapsed().as_secs_f64()
    );
    let id = installed.installation.id;
    approve_what_waits(host, &demo_store(), id.as_str(), optional, "owner")
        .await
        .unwrap();
    id
}

async fn event(host: &Host, id: &InstallationId, subject: &str) -> InvocationReport {
    host.invoke(&demo_store(), id.as_str(), Topic::OrderCreated, subject)
        .await
        .unwrap()
}

fn failure(report: &InvocationReport) -> &ConnectorFailure {
    match &report.result {
        CallResult::Failed { error } => error,
        other => panic!(
            "expected a connector error, got {other:?}; stderr {:?}",
            report.stderr
        ),
    }
}

/// Another merchant's order and a missing one answer alike; an uncaught exception ends the
/// call with its message in the report's stderr.
async fn isolated_and_uncaught(host: &Host, id: &InstallationId) {
    let theirs = event(host, id, "ord_2001").await;
    let missing = event(host, id, "ord_9999").await;
    let not_found = ConnectorFailure::Other {
        message: "record not found".into(),
    };
    assert_eq!(failure(&theirs), &not_found);
    assert_eq!(theirs.result, missing.result);
    assert_eq!(theirs.accesses.len(), missing.accesses.len());
    let thrown = event(host, id, THROW).await;
    assert!(
        matches!(
            &thrown.result,
            CallResult::Aborted {
                reason: AbortReason::Trap { .. }
            }
        ),
        "{:?}",
        thrown.result
    );
    assert!(
        thrown
            .stderr
            .iter()
            .any(|l| l.contains("uncaught on purpose")),
        "{:?}",
        thrown.stderr
    );
}

#[tokio::test]
async fn a_javascript_connector_from_the_template_is_granted_denied_isolated_and_reports_exceptions()
 {
    // Building and compiling a 12 MB component keeps both cores busy: not beside a test that
    // asserts a wall-clock figure.
    let _serial = crate::timing_sensitive().await;
    let Some(built) = javascript() else { return };
    // The template's manifest with `customers:read` optional, so the merchant can withhold it.
    let manifest = ManifestBuilder::new("airlock.polyglot-messaging")
        .kind("messaging")
        .event("order.created")
        .required(Scope::OrdersRead)
        .optional(Scope::CustomersRead)
        .optional(Scope::CustomersReadContact)
        .to_toml();
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let id = install(
        &host,
        &built.component,
        &manifest,
        &[Scope::CustomersRead, Scope::CustomersReadContact],
    )
    .await;

    let granted = event(&host, &id, "ord_1001").await;
    assert_eq!(
        summary(&granted),
        "confirmation for #1001 to +91•••10",
        "{:?}",
        granted.stderr
    );
    assert!(
        granted.logs.iter().any(|l| l.message.contains("#1001")),
        "{:?}",
        granted.logs
    );

    host.revoke_scope(&demo_store(), id.as_str(), Scope::CustomersRead, "owner")
        .await
        .unwrap();
    let denied = event(&host, &id, "ord_1001").await;
    assert_eq!(
        failure(&denied),
        &ConnectorFailure::PermissionMissing {
            scope: Scope::CustomersRead
        }
    );

    isolated_and_uncaught(&host, &id).await;
    db.finish().await;
}

#[tokio::test]
async fn a_python_connector_from_the_template_is_granted_denied_isolated_and_reports_exceptions() {
    let _serial = crate::timing_sensitive().await;
    let Some(built) = python() else { return };
    // The template's manifest with `orders:write` optional, so the merchant can withhold it.
    let manifest = ManifestBuilder::new("airlock.polyglot-logistics")
        .kind("logistics")
        .event("order.created")
        .required(Scope::OrdersRead)
        .optional(Scope::OrdersWrite)
        .to_toml();
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let id = install(&host, &built.component, &manifest, &[Scope::OrdersWrite]).await;

    let granted = event(&host, &id, "ord_1001").await;
    assert_eq!(
        summary(&granted),
        "booked a pickup for #1001 (3 units) and marked it fulfilled",
        "{:?}",
        granted.stderr
    );
    let again = event(&host, &id, "ord_1001").await;
    assert_eq!(summary(&again), "#1001 is already fulfilled");

    host.revoke_scope(&demo_store(), id.as_str(), Scope::OrdersWrite, "owner")
        .await
        .unwrap();
    let denied = event(&host, &id, "ord_1002").await;
    assert_eq!(
        failure(&denied),
        &ConnectorFailure::PermissionMissing {
            scope: Scope::OrdersWrite
        }
    );

    isolated_and_uncaught(&host, &id).await;
    db.finish().await;
}

#[tokio::test]
async fn pack_names_every_scope_a_full_world_build_lacks_and_the_narrowed_world_packs_clean() {
    let _serial = crate::timing_sensitive().await;
    let Some(narrowed) = javascript() else { return };
    let project = template(Language::Js, ConnectorKind::Messaging);
    let contract = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    let Some(full) = build(&project, Language::Js, &contract) else {
        return;
    };
    // The template's own manifest: honest and minimal for what the code calls.
    let manifest = project
        .project
        .files
        .iter()
        .find(|f| f.path == "airlock.toml")
        .unwrap()
        .text
        .clone();
    let err = pack(&full.component, manifest.as_bytes(), false).unwrap_err();
    let PackError::Undeclared(audit) = &err else {
        panic!("expected the missing declarations, got {err}");
    };
    let shown = err.to_string();
    for missing in [
        "orders:write",
        "inventory:read",
        "inventory:write",
        "readable = true",
    ] {
        assert!(shown.contains(missing), "`{missing}` not named in: {shown}");
    }
    assert_eq!(audit.missing.len(), 4, "{shown}");
    let parsed = Manifest::parse(manifest.as_bytes()).unwrap();
    let packed = pack(&narrowed.component, manifest.as_bytes(), false).unwrap();
    assert_eq!(packed.manifest, parsed);
    assert!(
        packed.audit.is_accepted() && packed.audit.unused.is_empty(),
        "{}",
        packed.audit
    );
}
