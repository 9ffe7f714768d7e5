//! The macro behind the one list of capabilities in `mod.rs`: from one line per capability
//! it declares the module and generates the per-invocation state (one field per capability),
//! the descriptor table and the linker registration, so none of them can miss one.

macro_rules! capabilities {
    ($($module:ident: $state:ident),* $(,)?) => {
        $(pub(crate) mod $module;)*

        /// The capability states of one invocation: one field per capability.
        pub(crate) struct Capabilities {
            $(pub(crate) $module: $module::$state,)*
        }

        impl Capabilities {
            /// Fresh states for one invocation.
            pub(crate) fn new(deps: &Deps) -> Self {
                Capabilities { $($module: $module::$state::new(deps),)* }
            }
        }

        /// What importing each capability interface needs, and its functions: the table the
        /// install check, the linker and the prompt tests read.
        pub const CAPABILITIES: &[Descriptor] = &[$($module::DESCRIPTOR,)*];

        /// Register every capability with the linker, each reaching only its own state.
        pub(crate) fn add_to_linker<T: HasCapabilities>(
            linker: &mut wasmtime::component::Linker<T>,
        ) -> wasmtime::Result<()> {
            use crate::bindings::airlock::connector as wit;
            use wasmtime::component::HasSelf;
            $(wit::$module::add_to_linker::<T, HasSelf<$module::$state>>(linker, |t| {
                &mut t.capabilities().$module
            })?;)*
            Ok(())
        }
    };
}
