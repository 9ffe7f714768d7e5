//! `airlock:connector/customers`. Needs `customers:read`; contact details cross into the
//! sandbox only under `customers:read-contact`.

use std::sync::Arc;

use super::convert;
use crate::bindings::airlock::connector::customers::Host;
use crate::bindings::airlock::connector::types::{Customer, HostError};
use crate::commerce::CommerceData;
use crate::grants::Scope;
use crate::state::{CallContext, Served};

const READ: Option<Scope> = Some(Scope::CustomersRead);

/// The customers capability of one invocation.
pub(crate) struct CustomersState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl CustomersState {
    pub(crate) fn new(call: Arc<CallContext>, data: Arc<dyn CommerceData>) -> Self {
        CustomersState { call, data }
    }
}

impl Host for CustomersState {
    async fn get(&mut self, id: String) -> Result<Customer, HostError> {
        const OP: &str = "customers.get";
        self.call.admit_id(OP, READ, "customer id", &id).await?;
        let found = self.data.customer(&self.call.merchant, &id).await;
        let customer = self.call.found(OP, READ, found)?;
        let with_contact = self.call.allows(Scope::CustomersReadContact);
        if with_contact {
            // Personal data left the store: audit it as its own line.
            self.call.record(
                "customers.contact",
                Some(Scope::CustomersReadContact),
                Served::Records(1),
            );
        }
        Ok(convert::customer(customer, with_contact))
    }
}
