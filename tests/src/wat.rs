//! Connectors written in WebAssembly text, for attacks Rust cannot express (several memories,
//! tables that grow): a core module with the contract's exports, made a component with
//! wit-component against `wit/`.

use crate::ManifestBuilder;

/// A connector component whose `handle-event` runs `body` (WAT instructions; local 5 is the
/// length of the event's subject) and then returns an empty outcome. `fields` adds module
/// fields (memories, tables, functions); memory 0 is the one the canonical ABI uses.
pub fn wat_connector(id: &str, fields: &str, body: &str) -> Vec<u8> {
    // `order.created` is the topic these are invoked with, and it needs `orders:read`.
    let manifest = ManifestBuilder::new(id)
        .required(airlock_host::grants::Scope::OrdersRead)
        .name("WAT connector")
        .publisher("Airlock Tests")
        .version("0.1.0")
        .kind("analytics")
        .to_toml();
    let wat = format!(
        r#"(module
  (memory (export "memory") 1)
  {fields}
  (global $next (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
    (local $at i32)
    (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
    (global.set $next (i32.add (local.get $at) (local.get 3)))
    (local.get $at))
  ;; result<outcome, connector-error> at 16: all zeros is ok(outcome(false, "")).
  (func (export "airlock:connector/handler@0.2.0#handle-event")
    (param i32 i32 i32 i32 i32 i32 i64) (result i32)
    {body}
    (i32.const 16))
  (func (export "airlock:connector/handler@0.2.0#health-check") (result i32)
    (i32.const 16)))"#
    );
    let mut module = wat::parse_str(&wat).expect("the WAT parses");
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../wit"))
        .expect("the WIT contract parses");
    let world = resolve
        .select_world(&[package], Some("connector"))
        .expect("the connector world");
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        wit_component::StringEncoding::UTF8,
    )
    .expect("embed the contract");
    let component = wit_component::ComponentEncoder::default()
        .module(&module)
        .expect("a core module")
        .validate(true)
        .encode()
        .expect("a component");
    // Attached framed, as the SDK's `export!` does.
    airlock_host::artifact::with_manifest(&component, manifest.as_bytes())
}

/// What each hog of [`hog_component`] has and grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hog {
    /// A memory, grown by 1 MiB per character of the subject, filling what it grew (so the
    /// host's resident set grows too); the main module grows its own memory the same way.
    Memory,
    /// Its table, by 1000 elements per character of the subject.
    Table,
}

/// A connector component with `hogs` core instances besides its main one, each with a memory
/// or a table of its own, which its `handle-event` grows (see [`Hog`]). Built from `hogs.wat`,
/// since wit-component gives a component only one module that defines memories or tables.
pub fn hog_component(id: &str, hogs: usize, what: Hog) -> Vec<u8> {
    let manifest = ManifestBuilder::new(id)
        .required(airlock_host::grants::Scope::OrdersRead)
        .name("Memory hogs")
        .publisher("Airlock Tests")
        .version("0.1.0")
        .kind("analytics")
        .to_toml();
    let imports: String = (0..hogs)
        .map(|i| format!("(import \"hogs\" \"grow{i}\" (func $grow{i} (param i32)))\n"))
        .collect();
    let calls: String = (0..hogs)
        .map(|i| format!("(call $grow{i} (local.get 5))\n"))
        .collect();
    let fill = "(drop (memory.grow (i32.mul (local.get $n) (i32.const 16))))
        (memory.fill (i32.const 65536) (i32.const 1) (i32.shl (local.get $n) (i32.const 20)))";
    // The main module grows its own memory too; a hog has only what it grows.
    let (main_grows, hog_has, grow) = match what {
        Hog::Memory => (fill, "(memory 1)", fill),
        Hog::Table => (
            "",
            "(table 1 funcref)",
            "(drop (table.grow (ref.null func) (i32.mul (local.get $n) (i32.const 1000))))",
        ),
    };
    let main_grows = main_grows.replace("$n", "5");
    let main = format!(
        r#"(core module $main
    {imports}
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.const 7)) (i32.const -8)))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at))
    (func (export "airlock:connector/handler@0.2.0#handle-event")
      (param i32 i32 i32 i32 i32 i32 i64) (result i32)
      {main_grows}
      {calls}
      (i32.const 16))
    (func (export "airlock:connector/handler@0.2.0#health-check") (result i32)
      (i32.const 16)))
  (core module $hog
    {hog_has}
    (func (export "grow") (param $n i32)
      {grow}))"#
    );
    let mut instances = String::new();
    for i in 0..hogs {
        instances.push_str(&format!(
            "(core instance $hog{i} (instantiate $hog))\n  \
             (alias core export $hog{i} \"grow\" (core func $hog-grow{i}))\n  "
        ));
    }
    let exports: String = (0..hogs)
        .map(|i| format!("(export \"grow{i}\" (func $hog-grow{i}))"))
        .collect();
    instances.push_str(&format!(
        "(core instance $hogs {exports})\n  \
         (core instance $main (instantiate $main (with \"hogs\" (instance $hogs))))"
    ));
    let wat = include_str!("hogs.wat")
        .replace("{main}", &main)
        .replace("{instances}", &instances);
    let component =
        wat::parse_str(&wat).unwrap_or_else(|e| panic!("the component WAT parses: {e}\n{wat}"));
    airlock_host::artifact::with_manifest(&component, manifest.as_bytes())
}
