//! The crate's layering, checked on every test run: the `crate::` edges between top-level
//! modules (read from the source, test code left out) must form no cycle, and the leaves that
//! every host call goes through must not reach up into the runtime, outbound HTTP or the
//! database. `cargo test -p airlock-host --lib layering -- --nocapture` prints the edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// What each leaf may depend on, and nothing more.
const LEAVES: &[(&str, &[&str])] = &[
    ("text", &[]),
    ("ids", &[]),
    ("grants", &[]),
    ("limits", &[]),
    ("redact", &[]),
    ("failure", &["grants"]),
    ("commerce", &["ids"]),
    ("live", &["commerce", "grants", "ids"]),
    (
        "call",
        &[
            "bindings", "commerce", "failure", "grants", "ids", "live", "redact", "text",
        ],
    ),
    (
        "capabilities",
        &["bindings", "call", "commerce", "grants", "ids", "text"],
    ),
];

/// Source text without comments and without what follows the first `#[cfg(test)]`.
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Names `lib.rs` re-exports at the crate root (`pub use module::{A, B}`), by defining module:
/// `crate::Host` is an edge to `host`.
fn reexports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    // Not `code_of`: lib.rs declares a test-only module before its re-exports.
    let code: Vec<&str> = lib
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect();
    for statement in code.join("\n").split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let module = leading_ident(rest);
        let names = rest.split_once('{').map_or(rest, |(_, n)| n);
        for name in names.split([',', '}']) {
            let name = name.rsplit("::").next().unwrap_or("").trim();
            if !name.is_empty() {
                out.insert(name.to_owned(), module.clone());
            }
        }
    }
    out
}

/// Top-level modules `code` names through `crate::x` or `use crate::{x, y::z}`.
fn references(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                out.insert(leading_ident(item.trim()));
            }
        } else {
            out.insert(leading_ident(rest));
        }
    }
    out.retain(|m| !m.is_empty());
    out
}

fn leading_ident(text: &str) -> String {
    text.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

fn collect(dir: &Path, src: &Path, graph: &mut Graph) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("src/ is readable").collect();
    entries.sort_by_key(|e| e.as_ref().map(|e| e.path()).ok());
    for entry in entries.into_iter().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, src, graph);
            continue;
        }
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".rs") || name.contains("test") {
            continue;
        }
        let relative = path.strip_prefix(src).expect("inside src/");
        let top = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_owned();
        if top == "lib" || top == "layering" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source is readable");
        let targets = references(&code_of(&text));
        let edges = graph.entry(top.clone()).or_default();
        edges.extend(targets.into_iter().filter(|t| *t != top));
    }
}

/// The module graph of this crate.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    collect(&src, &src, &mut graph);
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs is readable");
    let reexported = reexports(&lib);
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (module, edges) in graph.iter_mut() {
        let named: BTreeSet<String> = std::mem::take(edges)
            .into_iter()
            .map(|t| reexported.get(&t).cloned().unwrap_or(t))
            .filter(|t| modules.contains(t) && t != module)
            .collect();
        *edges = named;
    }
    graph
}

/// One cycle of `graph`, if it has any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_modules_form_no_cycle() {
    let graph = graph();
    for (module, edges) in &graph {
        let list: Vec<&str> = edges.iter().map(String::as_str).collect();
        println!("{module} -> {}", list.join(" "));
    }
    assert!(graph.len() > 20, "read too few modules: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("module cycle: {}", cycle.join(" -> "));
    }
}

#[test]
fn what_every_host_call_goes_through_depends_on_nothing_above_it() {
    let graph = graph();
    for (leaf, allowed) in LEAVES {
        let edges = graph
            .get(*leaf)
            .unwrap_or_else(|| panic!("no module `{leaf}`"));
        for target in edges {
            assert!(
                allowed.contains(&target.as_str()),
                "`{leaf}` depends on `{target}`; it may depend only on {allowed:?}"
            );
        }
    }
}

#[test]
fn the_checker_sees_grouped_imports_and_finds_cycles() {
    let refs = references("use crate::{a::X, b};\nfn f() { crate::c::g(); }");
    assert_eq!(refs, BTreeSet::from(["a".into(), "b".into(), "c".into()]));
    assert!(references(&code_of("// crate::d\n#[cfg(test)]\nuse crate::e;")).is_empty());
    let mut cyclic = Graph::new();
    cyclic.insert("x".into(), BTreeSet::from(["y".into()]));
    cyclic.insert("y".into(), BTreeSet::from(["x".into()]));
    assert!(find_cycle(&cyclic).is_some());
    cyclic.insert("y".into(), BTreeSet::new());
    assert!(find_cycle(&cyclic).is_none());
    let roots = reexports("pub use host::{Host, HostBuilder};\npub use a::b::C;");
    assert_eq!(roots.get("Host").map(String::as_str), Some("host"));
    assert_eq!(roots.get("C").map(String::as_str), Some("a"));
}
