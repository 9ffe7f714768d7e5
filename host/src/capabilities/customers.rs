//! `airlock:connector/customers`. Needs `customers:read`; contact details cross into the
//! sandbox only under `customers:read-contact`.

use std::sync::Arc;

use super::convert;
use crate::bindings::airlock::connector::customers::Host;
use crate::bindings::airlock::connector::types::{Customer, HostError};
use crate::commerce::CommerceData;
use crate::grants::Scope;
use super::{Deps, Descriptor, Requirement};
use crate::call::{CallContext, Served};

const READ: Option<Scope> = Some(Scope::CustomersRead);

/// `airlock:connector/customers`: `customers:read`; contact fields also `customers:read-contact`.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "customers",
    needs: Requirement::Scope(Scope::CustomersRead),
    functions: &["get"],
    unlocks: &[Scope::CustomersReadContact],
};

/// The customers capability of one invocation.
pub(crate) struct CustomersState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl CustomersState {
    pub(crate) fn new(deps: &Deps) -> Self {
        CustomersState {
            call: deps.call.clone(),
            data: deps.commerce.clone(),
        }
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

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, data, deps};
    use super::*;

    fn customers(scopes: &[Scope]) -> (CustomersState, Arc<CallContext>) {
        let call = call(scopes, 10);
        (CustomersState::new(&deps(&call, &data(), &[])), call)
    }

    #[tokio::test]
    async fn contact_details_cross_only_under_read_contact() {
        let (mut plain, call) = customers(&[Scope::CustomersRead]);
        let customer = plain.get("cus_1".into()).await.unwrap();
        assert_eq!((customer.name, customer.email, customer.phone), (None, None, None));
        assert_eq!(call.accesses().len(), 1, "no contact line without the scope");
        let (mut contact, call) = customers(&[Scope::CustomersRead, Scope::CustomersReadContact]);
        let customer = contact.get("cus_1".into()).await.unwrap();
        assert_eq!(customer.name.as_deref(), Some("Asha"));
        assert_eq!(customer.email.as_deref(), Some("asha@example.in"));
        let audited = call.accesses();
        assert_eq!(audited[1].operation, "customers.contact");
        assert_eq!(audited[1].scope, Some(Scope::CustomersReadContact));
    }

    #[tokio::test]
    async fn customers_are_denied_without_read_and_the_neighbours_are_not_found() {
        let (mut refused, _) = customers(&[Scope::CustomersReadContact]);
        assert_eq!(
            refused.get("cus_1".into()).await,
            Err(HostError::Denied(Scope::CustomersRead.into()))
        );
        let (mut granted, _) = customers(&[Scope::CustomersRead]);
        assert_eq!(granted.get("cus_9".into()).await, Err(HostError::NotFound));
        assert!(matches!(
            granted.get(String::new()).await,
            Err(HostError::InvalidInput(_))
        ));
    }

    #[tokio::test]
    async fn customer_calls_count_against_the_quota() {
        let call = call(&[Scope::CustomersRead], 1);
        let mut state = CustomersState::new(&deps(&call, &data(), &[]));
        assert!(state.get("cus_1".into()).await.is_ok());
        assert!(matches!(
            state.get("cus_1".into()).await,
            Err(HostError::LimitExceeded(_))
        ));
    }
}
