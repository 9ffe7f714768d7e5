//! The one `bindgen!` call: Rust types and traits generated from `wit/`. Private to the crate;
//! the public API speaks in [`crate::commerce`] types.

wasmtime::component::bindgen!({
    world: "connector",
    path: "../wit",
    imports: { default: async },
    exports: { default: async },
    // Host-side tests compare what a capability returns.
    additional_derives: [PartialEq],
});
