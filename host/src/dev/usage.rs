//! Which scopes a run really used against what the manifest declares, and where each belongs
//! in the least manifest. Two sources of truth meet here: the component's imports (what the
//! code can reach on any path, known for certain) and the run's access records (the one path
//! this event took).

use serde::Serialize;

use crate::capabilities::{CAPABILITIES, Requirement, requirement};
use crate::grants::{Scope, ScopeSet};
use crate::manifest::Manifest;
use crate::report::{Event, InvocationReport};
use crate::runtime::ComponentImport;
use crate::topics::Topic;

const CONTRACT_PREFIX: &str = "airlock:connector/";

/// How the manifest declares a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Declared {
    /// Under `[[scopes.required]]`.
    Required,
    /// Under `[[scopes.optional]]`.
    Optional,
    /// Not at all.
    No,
}

impl Declared {
    /// How `manifest` declares `scope`.
    pub fn of(manifest: &Manifest, scope: Scope) -> Declared {
        if manifest.required().contains(scope) {
            Declared::Required
        } else if manifest.optional().contains(scope) {
            Declared::Optional
        } else {
            Declared::No
        }
    }
}

/// What the run did with a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunUse {
    /// Calls under it were served.
    Used,
    /// Calls under it were refused: it was not granted.
    Denied,
    /// Not granted, and a call it completes was served without what it adds (contact
    /// details): the host withholds silently, so the run cannot show whether it was needed.
    Withheld,
    /// Not touched by this run.
    Unused,
}

/// Where a scope goes in the least manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// `[[scopes.required]]`.
    Required,
    /// `[[scopes.optional]]`.
    Optional,
    /// Not declared.
    Drop,
}

impl Placement {
    /// The placement as the least manifest's comments say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Placement::Required => "required",
            Placement::Optional => "optional",
            Placement::Drop => "dropped",
        }
    }
}

/// One scope: declared, granted, reached by the code, used by the run, and where it belongs.
#[derive(Debug, Clone, Serialize)]
pub struct ScopeUse {
    /// The scope.
    pub scope: Scope,
    /// How the manifest declares it.
    pub declared: Declared,
    /// Whether this run granted it.
    pub granted: bool,
    /// What the run did with it.
    pub run: RunUse,
    /// The event's topic needs it: without it the host does not deliver the event at all.
    pub for_event: bool,
    /// Calls under it that were served (found, not found or failed on their input).
    pub calls: u32,
    /// Calls under it that were refused.
    pub denied_calls: u32,
    /// Records read or changed under it.
    pub records: u64,
    /// The host operations this run made under it.
    pub operations: Vec<String>,
    /// The functions the component imports that need it (any path, not only this run's).
    pub in_code: Vec<String>,
    /// Imported functions whose answers it completes (contact fields of a customer).
    pub completes: Vec<String>,
    /// Where it belongs in the least manifest.
    pub suggestion: Placement,
    /// Why, in one sentence.
    pub why: String,
}

/// What the component's code can reach on any path, read from its imports.
#[derive(Debug, Default)]
pub(crate) struct Reach {
    /// Each scope with an imported function that needs it.
    needs: Vec<(Scope, String)>,
    /// Each scope that completes the answer of an imported function.
    completes: Vec<(Scope, String)>,
    /// It imports `wasi:http/outgoing-handler`.
    pub http: bool,
    /// It imports the function that reads a secret's value.
    pub reads_secrets: bool,
}

impl Reach {
    /// The reach of a component with `imports`.
    pub(crate) fn of(imports: &[ComponentImport]) -> Reach {
        let mut reach = Reach::default();
        for import in imports {
            if import.name.starts_with("wasi:http/outgoing-handler") {
                reach.http = true;
            }
            let Some(rest) = import.name.strip_prefix(CONTRACT_PREFIX) else {
                continue;
            };
            let interface = rest.split('@').next().unwrap_or(rest);
            for function in &import.functions {
                let name = format!("{interface}.{function}");
                match requirement(interface, function) {
                    Some(Requirement::Scope(scope)) => {
                        reach.needs.push((scope, name.clone()));
                        for d in CAPABILITIES.iter().filter(|d| d.interface == interface) {
                            let unlocks = d.unlocks.iter().map(|s| (*s, name.clone()));
                            reach.completes.extend(unlocks);
                        }
                    }
                    Some(Requirement::ReadableSecret) => reach.reads_secrets = true,
                    Some(Requirement::OwnSpace | Requirement::Nothing) | None => {}
                }
            }
        }
        reach
    }

    fn names(list: &[(Scope, String)], scope: Scope) -> Vec<String> {
        let mut names: Vec<String> = list
            .iter()
            .filter(|(s, _)| *s == scope)
            .map(|(_, n)| n.clone())
            .collect();
        names.dedup();
        names
    }

    /// The imported functions that need `scope`.
    pub(crate) fn functions_needing(&self, scope: Scope) -> Vec<String> {
        Reach::names(&self.needs, scope)
    }

    /// Scopes the code needs declared to be installed at all.
    pub(crate) fn needed(&self) -> ScopeSet {
        self.needs.iter().map(|(s, _)| *s).collect()
    }
}

/// What the run's access records say of one scope.
#[derive(Default)]
struct Seen {
    calls: u32,
    denied: u32,
    records: u64,
    operations: Vec<String>,
}

fn seen(report: Option<&InvocationReport>, scope: Scope) -> Seen {
    let mut seen = Seen::default();
    for a in report.iter().flat_map(|r| &r.accesses) {
        if a.scope != Some(scope) {
            continue;
        }
        seen.calls += a.allowed + a.not_found + a.failed;
        seen.denied += a.denied;
        seen.records += a.records;
        seen.operations.push(a.operation.to_owned());
    }
    seen
}

/// Whether a call `scope` completes was served without it.
fn withheld(report: Option<&InvocationReport>, scope: Scope, granted: ScopeSet) -> bool {
    if granted.contains(scope) {
        return false;
    }
    let carriers: ScopeSet = CAPABILITIES
        .iter()
        .filter(|d| d.unlocks.contains(&scope))
        .filter_map(|d| d.needs.scope())
        .collect();
    report
        .iter()
        .flat_map(|r| &r.accesses)
        .any(|a| a.scope.is_some_and(|s| carriers.contains(s)) && a.allowed > 0)
}

/// Every scope worth a line: declared, reached by the code, touched by the run, or needed
/// for the event; each with where it belongs in the least manifest.
pub(crate) fn scope_uses(
    manifest: &Manifest,
    reach: &Reach,
    granted: ScopeSet,
    event: &Event,
    report: Option<&InvocationReport>,
) -> Vec<ScopeUse> {
    let mut uses: Vec<ScopeUse> = Scope::ALL
        .into_iter()
        .filter_map(|scope| {
            let seen = seen(report, scope);
            let run = if seen.denied > 0 {
                RunUse::Denied
            } else if seen.calls > 0 && granted.contains(scope) {
                RunUse::Used
            } else if withheld(report, scope, granted) {
                RunUse::Withheld
            } else {
                RunUse::Unused
            };
            let use_ = ScopeUse {
                scope,
                declared: Declared::of(manifest, scope),
                granted: granted.contains(scope),
                run,
                for_event: event.topic.needs() == Some(scope),
                calls: seen.calls,
                denied_calls: seen.denied,
                records: seen.records,
                operations: seen.operations,
                in_code: Reach::names(&reach.needs, scope),
                completes: Reach::names(&reach.completes, scope),
                suggestion: Placement::Drop,
                why: String::new(),
            };
            let listed = use_.declared != Declared::No
                || use_.run != RunUse::Unused
                || use_.for_event
                || !use_.in_code.is_empty();
            listed.then_some(use_)
        })
        .collect();
    for use_ in &mut uses {
        let (placement, why) = place(use_, manifest, event.topic);
        use_.suggestion = placement;
        use_.why = why;
    }
    keep_what_scopes_require(&mut uses);
    uses
}

/// The placement the author chose, or required for a scope the run needs and nobody declared.
fn as_declared(declared: Declared) -> Placement {
    match declared {
        Declared::Optional => Placement::Optional,
        Declared::Required | Declared::No => Placement::Required,
    }
}

/// Where one scope goes, and why.
fn place(u: &ScopeUse, manifest: &Manifest, topic: Topic) -> (Placement, String) {
    let s = u.scope;
    let ops = u.operations.join(", ");
    match u.run {
        RunUse::Used => {
            let mut why = format!("used by this run: {ops} ({} call(s))", u.calls);
            if u.for_event {
                why.push_str(&format!("; also needed for `{topic}` to be delivered"));
            }
            if u.declared == Declared::Optional {
                why.push_str(&format!(
                    "; optional, so this run had it only through `--grant {s}`: rerun without \
                     it to check the connector copes when a merchant declines it"
                ));
            }
            return (as_declared(u.declared), why);
        }
        RunUse::Denied => {
            let why = format!(
                "asked for by this run and refused: {ops} ({} call(s)); see the denial below",
                u.denied_calls
            );
            return (as_declared(u.declared), why);
        }
        RunUse::Withheld if u.declared == Declared::No => {
            let why = format!(
                "not declared, so {} answered without {}; declare it only if the connector \
                 needs that",
                u.completes.join(", "),
                adds(s)
            );
            return (Placement::Drop, why);
        }
        RunUse::Withheld => {
            let why = format!(
                "not granted in this run, so {} answered without {} (the host withholds it \
                 silently); this run cannot show whether the connector needs it: rerun with \
                 `--grant {s}`",
                u.completes.join(", "),
                adds(s)
            );
            return (as_declared(u.declared), why);
        }
        RunUse::Unused => {}
    }
    if u.for_event {
        let mut why = format!("needed for `{topic}` to be delivered at all");
        match u.declared {
            Declared::Optional => why.push_str(&format!(
                "; optional, so a merchant who declines it never sends the connector \
                 `{topic}`: make it required if the connector exists for these events"
            )),
            Declared::No => why.push_str(": declare it, and subscribe to the topic"),
            Declared::Required => {}
        }
        return (as_declared(u.declared), why);
    }
    let other_topics: Vec<&str> = manifest
        .events
        .iter()
        .filter(|t| t.needs() == Some(s))
        .map(|t| t.as_str())
        .collect();
    if !other_topics.is_empty() {
        let why = format!(
            "needed to receive {}, which this run did not send",
            other_topics.join(", ")
        );
        return (as_declared(u.declared), why);
    }
    if !u.in_code.is_empty() || !u.completes.is_empty() {
        let code = [u.in_code.as_slice(), u.completes.as_slice()]
            .concat()
            .join(", ");
        let mut why = format!(
            "not used by this run, but the code calls {code} on some path; optional is the \
             least a run that never needed it can justify"
        );
        if !u.in_code.is_empty() {
            why.push_str(" (install needs it declared while the code calls it)");
        }
        if u.declared == Declared::Required {
            why.push_str(": keep it required only if another event needs it (rerun with one)");
        }
        return (Placement::Optional, why);
    }
    let why = "the code never calls a function that needs it (true for every event, not only \
               this one)"
        .to_owned();
    (Placement::Drop, why)
}

/// What a scope that completes answers adds to them, in words.
fn adds(scope: Scope) -> String {
    match scope {
        Scope::CustomersReadContact => {
            "the customer's name, email, phone and address (customers:read-contact)".to_owned()
        }
        other => format!("what `{other}` adds"),
    }
}

/// A scope that needs another (contact details need the customer) keeps it declared, and
/// required when it is required itself: the rule manifests are validated by.
fn keep_what_scopes_require(uses: &mut [ScopeUse]) {
    for i in 0..uses.len() {
        let (placement, scope) = (uses[i].suggestion, uses[i].scope);
        let Some(needed) = scope.requires() else {
            continue;
        };
        let Some(base) = uses.iter_mut().find(|u| u.scope == needed) else {
            continue;
        };
        let raise = match placement {
            Placement::Required => base.suggestion != Placement::Required,
            Placement::Optional => base.suggestion == Placement::Drop,
            Placement::Drop => false,
        };
        if raise {
            base.suggestion = placement;
            base.why.push_str(&format!(
                "; kept {} because `{scope}` needs it",
                placement.as_str()
            ));
        }
    }
}
