//! `airlock:connector/orders`. Reads need `orders:read`; status changes need `orders:write`.

use std::sync::Arc;

use crate::bindings::airlock::connector::orders::Host;
use crate::bindings::airlock::connector::types::{
    FinancialStatus, FulfillmentStatus, HostError, Order, OrderQuery,
};
use crate::commerce::{self, CommerceData};
use crate::grants::Scope;
use crate::state::CallContext;

/// Most orders one `list` call returns.
pub(crate) const MAX_LIST: u32 = 100;
const READ: Option<Scope> = Some(Scope::OrdersRead);
const WRITE: Option<Scope> = Some(Scope::OrdersWrite);

/// The orders capability of one invocation.
pub(crate) struct OrdersState {
    call: Arc<CallContext>,
    data: Arc<dyn CommerceData>,
}

impl OrdersState {
    pub(crate) fn new(call: Arc<CallContext>, data: Arc<dyn CommerceData>) -> Self {
        OrdersState { call, data }
    }
}

/// `types` has no functions, but the linker still wants its (empty) instance.
impl crate::bindings::airlock::connector::types::Host for OrdersState {}

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
        let changed = self
            .data
            .set_financial_status(&self.call.merchant, &id, status.into())
            .await;
        self.call.changed(OP, WRITE, changed)
    }
}
