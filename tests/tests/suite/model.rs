//! A model-based property test: random sequences of install, approve, revoke, disable, enable,
//! upgrade, uninstall and host calls across several merchants, checked step by step against a simple
//! model. No call may succeed outside the model's grant, no refusal may happen inside it, and
//! the slot count may never drift.

use std::collections::BTreeMap;

use airlock_host::grants::{Scope, ScopeSet};
use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::prompt::Language;
use airlock_host::{CallResult, Error, Host};
use airlock_tests::{ManifestBuilder, TestDb, TestHost, plugins, wasm};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

const MERCHANTS: usize = 2;
/// App 0 is the probe (every scope optional); apps 1..=3 ask for nothing and fill slots.
const APPS: usize = 4;
const SLOTS: usize = 3;
/// Scopes whose refusal a host call shows as `denied` (contact details are withheld instead).
const CALLABLE: [Scope; 5] = [
    Scope::OrdersRead,
    Scope::OrdersWrite,
    Scope::CustomersRead,
    Scope::InventoryRead,
    Scope::InventoryWrite,
];

#[derive(Debug, Clone)]
enum Op {
    Install(usize, usize),
    Approve(usize, usize, Vec<Scope>),
    Revoke(usize, usize, Scope),
    RevokeAll(usize, usize),
    Disable(usize, usize),
    Enable(usize, usize),
    Uninstall(usize, usize),
    Call(usize, Scope),
    /// Offer the next version of filler app `.1` with these required and optional scopes.
    Upgrade(usize, usize, Vec<Scope>, Vec<Scope>),
}

fn op() -> impl Strategy<Value = Op> {
    let m = 0..MERCHANTS;
    // Mostly the probe, the only app with scopes; the fillers exist to fill slots.
    let app = prop_oneof![3 => Just(0usize), 2 => 1..APPS];
    let scope = proptest::sample::select(Scope::ALL.to_vec());
    prop_oneof![
        3 => (m.clone(), app.clone()).prop_map(|(m, a)| Op::Install(m, a)),
        // Often nothing optional, so filler apps get approved and later upgrades can widen them.
        4 => (m.clone(), app.clone(), prop_oneof![Just(Vec::new()), proptest::collection::vec(scope.clone(), 0..4)])
            .prop_map(|(m, a, s)| Op::Approve(m, a, s)),
        3 => (m.clone(), scope.clone()).prop_map(|(m, s)| Op::Revoke(m, 0, s)),
        1 => (m.clone(), app.clone()).prop_map(|(m, a)| Op::RevokeAll(m, a)),
        1 => (m.clone(), app.clone()).prop_map(|(m, a)| Op::Disable(m, a)),
        1 => (m.clone(), app.clone()).prop_map(|(m, a)| Op::Enable(m, a)),
        1 => (m.clone(), app).prop_map(|(m, a)| Op::Uninstall(m, a)),
        6 => (m.clone(), proptest::sample::select(CALLABLE.to_vec())).prop_map(|(m, s)| Op::Call(m, s)),
        3 => (m, 1..APPS, proptest::collection::vec(scope.clone(), 0..3), proptest::collection::vec(scope, 0..3))
            .prop_map(|(m, a, r, o)| Op::Upgrade(m, a, r, o)),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Pending,
    Active,
    Disabled,
}

/// The scopes one version of an app asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Version {
    number: u32,
    required: ScopeSet,
    optional: ScopeSet,
}

impl Version {
    fn declared(self) -> ScopeSet {
        self.required.union(self.optional)
    }
}

#[derive(Debug, Clone, Copy)]
struct Installed {
    status: Status,
    approved: ScopeSet,
    current: Version,
    pending: Option<Version>,
}

fn first_version(app: usize) -> Version {
    let optional = if app == 0 {
        ScopeSet::all()
    } else {
        ScopeSet::EMPTY
    };
    Version {
        number: 0,
        required: ScopeSet::EMPTY,
        optional,
    }
}

/// A valid scope split: contact details need the customer scope beside them.
fn version(number: u32, required: &[Scope], optional: &[Scope]) -> Version {
    let mut required: ScopeSet = required.iter().copied().collect();
    let mut optional: ScopeSet = optional
        .iter()
        .copied()
        .collect::<ScopeSet>()
        .minus(required);
    if required.contains(Scope::CustomersReadContact) {
        required = required.with(Scope::CustomersRead);
        optional = optional.minus(required);
    }
    if optional.contains(Scope::CustomersReadContact) && !required.contains(Scope::CustomersRead) {
        optional = optional.with(Scope::CustomersRead);
    }
    Version {
        number,
        required,
        optional,
    }
}

/// What the host should be doing, per merchant and app.
#[derive(Default)]
struct Model {
    merchants: [BTreeMap<usize, Installed>; MERCHANTS],
}

fn connector(app: usize) -> String {
    if app == 0 {
        "test.probe".into()
    } else {
        format!("acme.filler{app}")
    }
}

fn artifact(app: usize, v: Version) -> Vec<u8> {
    if app == 0 {
        return wasm(plugins::PROBE);
    }
    let mut manifest = ManifestBuilder::new(&format!("acme.filler{app}"))
        .name(&format!("Filler {app}"))
        .version(&format!("1.{}.0", v.number));
    for scope in v.required.iter() {
        manifest = manifest.required(scope).reason("model");
    }
    for scope in v.optional.iter() {
        manifest = manifest.optional(scope).reason("model");
    }
    manifest.artifact()
}

fn command(scope: Scope) -> &'static str {
    match scope {
        Scope::OrdersRead => "orders.get ord_x",
        Scope::OrdersWrite => "orders.set-fulfillment ord_x fulfilled",
        Scope::CustomersRead | Scope::CustomersReadContact => "customers.get cus_x",
        Scope::InventoryRead => "inventory.get SKU-X",
        Scope::InventoryWrite => "inventory.adjust SKU-X 1",
    }
}

/// Apply `op` to the host and the model; any disagreement is a failure.
async fn step(host: &Host, ids: &[MerchantId], model: &mut Model, op: &Op) -> Result<(), String> {
    let outcome = |r: Result<(), Error>| r.map_err(|e| e.to_string());
    match op.clone() {
        Op::Install(m, app) => {
            let got = host
                .install(&ids[m], &artifact(app, first_version(app)), "model")
                .await
                .map(|_| ());
            let apps = &mut model.merchants[m];
            let expect_ok = !apps.contains_key(&app) && apps.len() < SLOTS;
            if expect_ok {
                let current = first_version(app);
                apps.insert(
                    app,
                    Installed {
                        status: Status::Pending,
                        approved: ScopeSet::EMPTY,
                        current,
                        pending: None,
                    },
                );
            }
            check(op, expect_ok, outcome(got))
        }
        Op::Approve(m, app, scopes) => {
            let got =
                airlock_tests::approve_what_waits(host, &ids[m], &connector(app), &scopes, "model")
                    .await
                    .map(|_| ());
            let chosen: ScopeSet = scopes.iter().copied().collect();
            let mut expect_ok = false;
            if let Some(inst) = model.merchants[m].get_mut(&app) {
                // A pending upgrade is what gets approved; otherwise the current version.
                let target = inst.pending.unwrap_or(inst.current);
                if chosen.minus(target.optional).is_empty() {
                    expect_ok = true;
                    let kept = if inst.pending.is_some() {
                        inst.approved.intersect(target.declared())
                    } else {
                        inst.approved
                    };
                    inst.approved = kept.union(target.required).union(chosen);
                    inst.current = target;
                    inst.pending = None;
                    // Only `enable` resumes a disabled app.
                    if inst.status != Status::Disabled {
                        inst.status = Status::Active;
                    }
                }
            }
            check(op, expect_ok, outcome(got))
        }
        Op::Revoke(m, app, scope) => {
            let got = host
                .revoke_scope(&ids[m], &connector(app), scope, "model")
                .await
                .map(|_| ());
            let entry = model.merchants[m].get_mut(&app);
            let expect_ok = entry
                .as_ref()
                .is_some_and(|i| i.approved.contains(scope) && !i.current.required.contains(scope));
            if let Some(inst) = entry.filter(|_| expect_ok) {
                inst.approved = inst.approved.minus(ScopeSet::EMPTY.with(scope));
            }
            check(op, expect_ok, outcome(got))
        }
        Op::RevokeAll(m, app) => {
            let got = host
                .revoke_all(&ids[m], &connector(app), "model")
                .await
                .map(|_| ());
            let entry = model.merchants[m].get_mut(&app);
            let expect_ok = entry.is_some();
            if let Some(inst) = entry {
                inst.status = Status::Pending;
                inst.approved = ScopeSet::EMPTY;
            }
            check(op, expect_ok, outcome(got))
        }
        Op::Disable(m, app) | Op::Enable(m, app) => {
            let disable = matches!(op, Op::Disable(..));
            let got = if disable {
                host.disable(&ids[m], &connector(app), "model").await
            } else {
                host.enable(&ids[m], &connector(app), "model").await
            };
            let (from, to) = if disable {
                (Status::Active, Status::Disabled)
            } else {
                (Status::Disabled, Status::Active)
            };
            let entry = model.merchants[m].get_mut(&app);
            let expect_ok = entry.as_ref().is_some_and(|i| i.status == from);
            if let Some(inst) = entry.filter(|_| expect_ok) {
                inst.status = to;
            }
            check(op, expect_ok, outcome(got.map(|_| ())))
        }
        Op::Uninstall(m, app) => {
            let got = host
                .uninstall(&ids[m], &connector(app), "model")
                .await
                .map(|_| ());
            let expect_ok = model.merchants[m].remove(&app).is_some();
            check(op, expect_ok, outcome(got))
        }
        Op::Upgrade(m, app, required, optional) => {
            let next = model.merchants[m]
                .get(&app)
                .map(|i| i.pending.unwrap_or(i.current).number.max(i.current.number) + 1)
                .unwrap_or(1);
            let offered = version(next, &required, &optional);
            let got = host
                .upgrade(
                    &ids[m],
                    &connector(app),
                    &artifact(app, offered),
                    "model",
                    Language::En,
                )
                .await
                .map(|_| ());
            let entry = model.merchants[m].get_mut(&app);
            let expect_ok = entry.is_some();
            if let Some(inst) = entry {
                let adds_required = offered.required.minus(inst.approved);
                let adds_optional = offered.optional.minus(inst.current.declared());
                // An app never approved waits whatever it asks for.
                let waits = inst.status == Status::Pending
                    || !(adds_required.is_empty() && adds_optional.is_empty());
                if waits {
                    inst.pending = Some(offered);
                } else {
                    inst.approved = inst.approved.intersect(offered.declared());
                    inst.current = offered;
                    // An older upgrade still waiting is superseded by the one now live.
                    inst.pending = None;
                }
            }
            check(op, expect_ok, outcome(got))
        }
        Op::Call(m, scope) => {
            let got = host
                .invoke(&ids[m], "test.probe", Topic::OrderCreated, command(scope))
                .await;
            match (model.merchants[m].get(&0), got) {
                // A direct delivery of `order.created` needs `orders:read`, as emitting does.
                (
                    Some(Installed {
                        status: Status::Active,
                        approved,
                        ..
                    }),
                    got,
                ) if !approved.contains(Scope::OrdersRead) => match got {
                    Err(Error::TopicNotGranted { .. }) => Ok(()),
                    other => Err(format!(
                        "{op:?}: delivered without orders:read: {:?}",
                        other.map(|r| r.result)
                    )),
                },
                (
                    Some(Installed {
                        status: Status::Active,
                        approved,
                        ..
                    }),
                    Ok(report),
                ) => {
                    let CallResult::Done { summary, .. } = &report.result else {
                        return Err(format!(
                            "{op:?}: the probe did not finish: {:?}",
                            report.result
                        ));
                    };
                    let denied = summary.contains("Denied");
                    if denied == approved.contains(scope) {
                        return Err(format!(
                            "{op:?}: model grant {approved}, host answered {summary}"
                        ));
                    }
                    Ok(())
                }
                (
                    Some(Installed {
                        status: Status::Active,
                        ..
                    }),
                    Err(e),
                ) => Err(format!("{op:?}: refused: {e}")),
                (_, Ok(report)) => Err(format!(
                    "{op:?}: ran although not active: {:?}",
                    report.result
                )),
                (_, Err(_)) => Ok(()),
            }
        }
    }
}

/// After every step: the same installations, the same effective grants, the same pending
/// upgrades as the model.
async fn agree(host: &Host, ids: &[MerchantId], model: &Model, op: &Op) -> Result<(), String> {
    for (m, id) in ids.iter().enumerate() {
        let listed = host.list(id).await.map_err(|e| e.to_string())?;
        if listed.len() != model.merchants[m].len() {
            return Err(format!(
                "after {op:?}: {} installed, model has {}",
                listed.len(),
                model.merchants[m].len()
            ));
        }
        for view in listed {
            let app = (0..APPS)
                .find(|a| connector(*a) == view.connector)
                .ok_or("unknown connector")?;
            let inst = model.merchants[m]
                .get(&app)
                .ok_or(format!("after {op:?}: {} not in the model", view.connector))?;
            let expected: Vec<Scope> = inst
                .approved
                .intersect(inst.current.declared())
                .iter()
                .collect();
            if view.effective != expected {
                return Err(format!(
                    "after {op:?}: {} effective {:?}, model {:?}",
                    view.connector, view.effective, expected
                ));
            }
            if view.pending_version.is_some() != inst.pending.is_some() {
                return Err(format!(
                    "after {op:?}: {} pending {:?}, model {:?}",
                    view.connector, view.pending_version, inst.pending
                ));
            }
        }
    }
    Ok(())
}

fn check(op: &Op, expect_ok: bool, got: Result<(), String>) -> Result<(), String> {
    match (expect_ok, got) {
        (true, Ok(())) | (false, Err(_)) => Ok(()),
        (true, Err(e)) => Err(format!(
            "{op:?}: the model allows it, the host refused: {e}"
        )),
        (false, Ok(())) => Err(format!("{op:?}: the model refuses it, the host allowed it")),
    }
}

#[test]
fn random_lifecycles_never_grant_more_than_the_model_and_never_drift_slots() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = TestDb::sqlite();
    let host = rt.block_on(TestHost::new(&db).build());
    let case = std::sync::atomic::AtomicU32::new(0);
    let mut runner = TestRunner::new(Config {
        cases: 96,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&proptest::collection::vec(op(), 1..60), |ops| {
        let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let outcome: Result<(), String> = rt.block_on(async {
            // Fresh merchants per case on one host, so compiled components are reused.
            let ids: Vec<MerchantId> = (0..MERCHANTS)
                .map(|m| MerchantId::new(format!("model-{case}-{m}")))
                .collect();
            for id in &ids {
                host.put_merchant(id, "Model store", "starter")
                    .await
                    .map_err(|e| e.to_string())?;
            }
            let mut model = Model::default();
            for op in &ops {
                step(&host, &ids, &mut model, op).await?;
                agree(&host, &ids, &model, op).await?;
            }
            Ok(())
        });
        outcome.map_err(TestCaseError::fail)
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}
