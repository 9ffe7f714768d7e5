//! `airlock:connector/order-updates`. Needs `orders:write`; never answers with order data, so
//! a write grant never doubles as a read grant.

use std::sync::Arc;

use super::{Deps, Descriptor, Requirement};
use crate::bindings::airlock::connector::order_updates::Host;
use crate::bindings::airlock::connector::types::{FinancialStatus, FulfillmentStatus, HostError};
use crate::call::CallContext;
use crate::commerce::{self, CommerceData};
use crate::grants::Scope;

const WRITE: Option<Scope> = Some(Scope::OrdersWrite);

/// `airlock:connector/order-updates`: every function needs `orders:write`.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "order-updates",
    needs: Requirement::Scope(Scope::OrdersWrite),
    functions: &["set-fulfillment-status", "set-financial-status"],
    unlocks: &[],
};

/// The order-updates capability of one invocation.
pub(crate) struct OrderUpdatesState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl OrderUpdatesState {
    pub(crate) fn new(deps: &Deps) -> Self {
        OrderUpdatesState {
            call: deps.call.clone(),
            data: deps.commerce.clone(),
        }
    }
}

// The audit log keeps the operation names of contract 0.1 (`orders.set-...`), so an
// installation's history reads the same across the split of the interface.
impl Host for OrderUpdatesState {
    async fn set_fulfillment_status(
        &mut self,
        id: String,
        status: FulfillmentStatus,
    ) -> Result<(), HostError> {
        const OP: &str = "orders.set-fulfillment-status";
        self.call.admit_id(OP, WRITE, "order id", &id).await?;
        let changed = self
            .data
            .set_fulfillment_status(&self.call.merchant, &id, status.into())
            .await;
        self.call.changed(OP, WRITE, changed)
    }

    async fn set_financial_status(
        &mut self,
        id: String,
        status: FinancialStatus,
    ) -> Result<(), HostError> {
        const OP: &str = "orders.set-financial-status";
        self.call.admit_id(OP, WRITE, "order id", &id).await?;
        let status: commerce::FinancialStatus = status.into();
        if status == commerce::FinancialStatus::Paid {
            // Fail closed: "paid" is written after the call, and only if it succeeds, so a
            // payment connector that fails or traps later in the call never leaves an order
            // marked paid. The order must exist now, as for any write.
            let exists = self
                .data
                .order(&self.call.merchant, &id)
                .await
                .map(|order| order.is_some());
            if let Ok(true) = exists {
                self.call.stage_paid(id);
            }
            return self.call.changed(OP, WRITE, exists);
        }
        let changed = self
            .data
            .set_financial_status(&self.call.merchant, &id, status)
            .await;
        self.call.changed(OP, WRITE, changed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, data, deps, shop};
    use super::*;

    #[tokio::test]
    async fn status_writes_need_the_write_scope_and_a_read_grant_is_not_enough() {
        let data = data();
        let reader = call(&[Scope::OrdersRead], 10);
        let mut state = OrderUpdatesState::new(&deps(&reader, &data, &[]));
        assert_eq!(
            state
                .set_fulfillment_status("ord_1".into(), FulfillmentStatus::Fulfilled)
                .await,
            Err(HostError::Denied(Scope::OrdersWrite.into()))
        );
        let order = data.order_now(&shop(), "ord_1").unwrap();
        assert_eq!(order.fulfillment_status, commerce::FulfillmentStatus::Unfulfilled);
        let writer = call(&[Scope::OrdersWrite], 10);
        let mut state = OrderUpdatesState::new(&deps(&writer, &data, &[]));
        state
            .set_financial_status("ord_1".into(), FinancialStatus::Refunded)
            .await
            .unwrap();
        assert_eq!(
            data.order_now(&shop(), "ord_1").unwrap().financial_status,
            commerce::FinancialStatus::Refunded
        );
        // "Paid" is staged for the host to write after the call, only if it succeeds.
        state
            .set_financial_status("ord_1".into(), FinancialStatus::Paid)
            .await
            .unwrap();
        assert_eq!(
            data.order_now(&shop(), "ord_1").unwrap().financial_status,
            commerce::FinancialStatus::Refunded
        );
        assert_eq!(writer.staged_paid(), ["ord_1"]);
        assert_eq!(
            state
                .set_financial_status("ord_9".into(), FinancialStatus::Paid)
                .await,
            Err(HostError::NotFound)
        );
    }
}
