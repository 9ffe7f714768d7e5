//! `airlock:connector/types`: the shared records and errors. It has no functions, but the
//! linker still wants its (empty) instance.

use super::{Deps, Descriptor, Requirement};

/// No functions, so nothing to check.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "types",
    needs: Requirement::Nothing,
    functions: &[],
    unlocks: &[],
};

/// The (stateless) types interface of one invocation.
pub(crate) struct TypesState;

impl TypesState {
    pub(crate) fn new(_: &Deps) -> Self {
        TypesState
    }
}

impl crate::bindings::airlock::connector::types::Host for TypesState {}
