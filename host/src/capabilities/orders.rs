//! `airlock:connector/orders`. Needs `orders:read`; status changes are `order_updates`.

use std::sync::Arc;

use crate::bindings::airlock::connector::orders::Host;
use crate::bindings::airlock::connector::types::{HostError, Order, OrderQuery};
use crate::commerce::{self, CommerceData};
use crate::grants::Scope;
use super::{Deps, Descriptor, Requirement};
use crate::call::CallContext;

/// Most orders one `list` call returns.
pub(crate) const MAX_LIST: u32 = 100;
const READ: Option<Scope> = Some(Scope::OrdersRead);

/// `airlock:connector/orders`: every function needs `orders:read`.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "orders",
    needs: Requirement::Scope(Scope::OrdersRead),
    functions: &["get", "list"],
    unlocks: &[],
};

/// The orders capability of one invocation.
pub(crate) struct OrdersState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl OrdersState {
    pub(crate) fn new(deps: &Deps) -> Self {
        OrdersState {
            call: deps.call.clone(),
            data: deps.commerce.clone(),
        }
    }
}

impl Host for OrdersState {
    async fn get(&mut self, id: String) -> Result<Order, HostError> {
        const OP: &str = "orders.get";
        self.call.admit_id(OP, READ, "order id", &id).await?;
        let found = self.data.order(&self.call.merchant, &id).await;
        self.call.found(OP, READ, found).map(Into::into)
    }

    async fn list(&mut self, query: OrderQuery) -> Result<Vec<Order>, HostError> {
        const OP: &str = "orders.list";
        self.call.admit(OP, READ).await?;
        let query = commerce::OrderQuery {
            fulfillment_status: query.fulfillment_status.map(Into::into),
            financial_status: query.financial_status.map(Into::into),
            created_after: query.created_after,
            created_before: query.created_before,
            limit: query.limit.min(MAX_LIST),
        };
        let listed = self.data.orders(&self.call.merchant, &query).await;
        let orders = self.call.listed(OP, READ, listed)?;
        Ok(orders.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Approvals, call, data, deps, installation, live_call};
    use super::*;
    use crate::live::Signals;

    #[tokio::test]
    async fn a_revocation_reaches_the_next_host_call_of_a_running_invocation() {
        let (signals, approvals) = (Signals::default(), Arc::new(Approvals::default()));
        let call = live_call(&[Scope::OrdersRead], &signals, &approvals);
        let mut state = OrdersState::new(&deps(&call, &data(), &[]));
        assert!(state.get("ord_1".into()).await.is_ok());
        approvals.set(Some(&[]));
        signals.changed(&installation());
        assert_eq!(
            state.get("ord_1".into()).await,
            Err(HostError::Denied(Scope::OrdersRead.into()))
        );
    }

    fn orders(scopes: &[Scope], host_calls: u32) -> (OrdersState, Arc<CallContext>) {
        let call = call(scopes, host_calls);
        (OrdersState::new(&deps(&call, &data(), &[])), call)
    }

    #[tokio::test]
    async fn orders_get_is_served_with_the_grant_and_denied_without() {
        let (mut granted, call) = orders(&[Scope::OrdersRead], 10);
        assert_eq!(granted.get("ord_1".into()).await.unwrap().number, "#ord_1");
        assert_eq!(call.accesses()[0].records, 1);
        let (mut refused, call) = orders(&[], 10);
        assert_eq!(
            refused.get("ord_1".into()).await,
            Err(HostError::Denied(Scope::OrdersRead.into()))
        );
        assert_eq!(call.accesses()[0].denied, 1);
    }

    #[tokio::test]
    async fn another_merchants_order_is_not_found_like_a_missing_one() {
        let (mut state, call) = orders(&[Scope::OrdersRead], 10);
        assert_eq!(state.get("ord_9".into()).await, Err(HostError::NotFound));
        assert_eq!(state.get("ord_404".into()).await, Err(HostError::NotFound));
        assert_eq!(call.accesses()[0].not_found, 2);
    }

    #[tokio::test]
    async fn empty_and_over_long_ids_are_refused() {
        let (mut state, call) = orders(&[Scope::OrdersRead], 10);
        for bad in [String::new(), "x".repeat(129)] {
            assert!(matches!(
                state.get(bad).await,
                Err(HostError::InvalidInput(_))
            ));
        }
        assert_eq!(call.accesses()[0].failed, 2);
    }

    #[tokio::test]
    async fn the_host_call_quota_refuses_calls_past_it() {
        let (mut state, call) = orders(&[Scope::OrdersRead], 1);
        assert!(state.get("ord_1".into()).await.is_ok());
        assert!(matches!(
            state.get("ord_1".into()).await,
            Err(HostError::LimitExceeded(_))
        ));
        assert!(call.over_quota().is_some());
    }

    #[tokio::test]
    async fn list_is_newest_first_and_only_the_merchants() {
        let (mut state, _) = orders(&[Scope::OrdersRead], 10);
        let query = OrderQuery {
            fulfillment_status: None,
            financial_status: None,
            created_after: None,
            created_before: None,
            limit: 1000,
        };
        let ids: Vec<String> = state
            .list(query)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(ids, ["ord_2", "ord_1"]);
    }
}
