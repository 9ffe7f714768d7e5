//! What the capability unit tests share: a demo merchant and a neighbour with records in an
//! in-memory data source, and a bare call context with a chosen grant and quota. No Wasm, no
//! database: the host functions are called directly, as the linker would.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::Deps;
use crate::call::{Allowances, CallContext, Live};
use crate::commerce::{
    Contact, Customer, DataError, FinancialStatus, FulfillmentStatus, InventoryLevel, Money, Order,
};
use crate::grants::{Grant, Scope, ScopeSet};
use crate::ids::{InstallationId, MerchantId};
use crate::live::{GrantSource, Signals};
use crate::memory::MemoryData;

/// The merchant every test call runs for.
pub(super) fn shop() -> MerchantId {
    MerchantId::new("shop")
}

/// Another merchant, whose records must look like missing ones.
pub(super) fn neighbour() -> MerchantId {
    MerchantId::new("neighbour")
}

/// The installation of the test calls.
pub(super) fn installation() -> InstallationId {
    InstallationId::new("inst_test")
}

fn order(id: &str, customer: &str, created_at: u64) -> Order {
    Order {
        id: id.into(),
        number: format!("#{id}"),
        customer_id: Some(customer.into()),
        financial_status: FinancialStatus::Pending,
        fulfillment_status: FulfillmentStatus::Unfulfilled,
        total: Money {
            amount_minor: 1000,
            currency: "INR".into(),
        },
        created_at,
        line_items: Vec::new(),
    }
}

fn customer(id: &str) -> Customer {
    Customer {
        id: id.into(),
        orders_count: 1,
        accepts_marketing: false,
        created_at: 1,
        contact: Contact {
            name: "Asha".into(),
            email: Some("asha@example.in".into()),
            phone: Some("+91 90000 00000".into()),
            address: None,
        },
    }
}

fn stock(sku: &str, available: i64) -> InventoryLevel {
    InventoryLevel {
        sku: sku.into(),
        title: sku.into(),
        available,
        updated_at: 1,
    }
}

/// The shop has orders `ord_1`, `ord_2`, customer `cus_1`, stock `SKU-1` and `SKU-2`; the
/// neighbour has `ord_9`, `cus_9` and `SKU-9`.
pub(super) fn data() -> Arc<MemoryData> {
    let data = MemoryData::default();
    data.put_order(&shop(), order("ord_1", "cus_1", 10));
    data.put_order(&shop(), order("ord_2", "cus_1", 20));
    data.put_customer(&shop(), customer("cus_1"));
    data.put_stock(&shop(), stock("SKU-1", 5));
    data.put_stock(&shop(), stock("SKU-2", 7));
    data.put_order(&neighbour(), order("ord_9", "cus_9", 30));
    data.put_customer(&neighbour(), customer("cus_9"));
    data.put_stock(&neighbour(), stock("SKU-9", 1));
    Arc::new(data)
}

/// A call of the shop's installation granted exactly `scopes`, with `host_calls` calls.
pub(super) fn call(scopes: &[Scope], host_calls: u32) -> Arc<CallContext> {
    context(scopes, host_calls, None)
}

fn context(scopes: &[Scope], host_calls: u32, live: Option<Live>) -> Arc<CallContext> {
    let granted: ScopeSet = scopes.iter().copied().collect();
    Arc::new(CallContext::new(
        shop(),
        installation(),
        Grant::new(ScopeSet::all(), granted, ScopeSet::all()),
        live,
        Allowances {
            host_calls,
            output_bytes: 4096,
            input_bytes: 4096,
        },
    ))
}

/// What the merchant has approved now, as a running call re-reads it; `None`: the app is
/// disabled or gone.
#[derive(Default)]
pub(super) struct Approvals(Mutex<Option<ScopeSet>>);

impl Approvals {
    /// The merchant now approves exactly `scopes` (`None`: the app is gone).
    pub(super) fn set(&self, scopes: Option<&[Scope]>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) =
            scopes.map(|s| s.iter().copied().collect());
    }
}

#[async_trait::async_trait]
impl GrantSource for Approvals {
    async fn approved(&self, _: &InstallationId) -> Result<Option<ScopeSet>, DataError> {
        Ok(*self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A call granted `scopes` that follows revocations: `signals` carry a change to it while it
/// runs, and it re-reads `approvals` at its next host call.
pub(super) fn live_call(
    scopes: &[Scope],
    signals: &Signals,
    approvals: &Arc<Approvals>,
) -> Arc<CallContext> {
    approvals.set(Some(scopes));
    let signal = signals.get(&installation());
    let live = Live {
        started: signal.generation(),
        signal,
        source: approvals.clone(),
        declared: ScopeSet::all(),
        policy: ScopeSet::all(),
    };
    context(scopes, 100, Some(live))
}

/// What a capability is built from, over `data`, with `readable` secrets.
pub(super) fn deps(call: &Arc<CallContext>, data: &Arc<MemoryData>, readable: &[&str]) -> Deps {
    Deps {
        call: call.clone(),
        commerce: data.clone(),
        storage: data.clone(),
        storage_quota: crate::commerce::StorageQuota {
            bytes: 8192,
            keys: 5,
        },
        secrets: Some(data.clone()),
        readable: Arc::new(
            readable
                .iter()
                .map(|s| s.to_string())
                .collect::<HashSet<_>>(),
        ),
        max_log_lines: 3,
    }
}
