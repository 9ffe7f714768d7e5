//! Per-event cost: instantiate the example connector and call `handle-event` once, through
//! Airlock's sandbox (grant checks, limits, locked-down WASI, access accounting) and through raw
//! Wasmtime (`InstancePre::instantiate` + call, same engine configuration, host functions that
//! only hand back the same in-memory records). Both read the same data from memory, so the
//! difference is Airlock's own overhead. Run: `cargo bench -p airlock-tests --bench event`.
#![allow(clippy::expect_used, clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use airlock_host::commerce::{
    CommerceData, ConnectorStorage, Customer, DataError, FinancialStatus, FulfillmentStatus,
    InventoryLevel, Order, OrderQuery, StorageError, StorageQuota,
};
use airlock_host::grants::{Grant, Scope, ScopeSet};
use airlock_host::ids::{InstallationId, MerchantId};
use airlock_host::manifest::Topic;
use airlock_host::{CallResult, CallSetup, DataSources, Event, Limits, Sandbox};
use airlock_tests::{TestHost, plugins, wasm};
use criterion::{Criterion, criterion_group, criterion_main};

/// The demo store's records, held in memory.
struct Memory {
    order: Order,
    customer: Customer,
    levels: HashMap<String, InventoryLevel>,
    storage: Mutex<HashMap<String, Vec<u8>>>,
}

fn memory() -> Arc<Memory> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let host = TestHost::at("sqlite::memory:").build().await;
        let m = MerchantId::new(airlock_host::demo::DEMO_MERCHANT);
        let data = airlock_host::db::commerce::SqlCommerce::new(host.db().clone());
        let order = data.order(&m, "ord_1001").await.unwrap().unwrap();
        let customer = data.customer(&m, "cus_asha").await.unwrap().unwrap();
        let mut levels = HashMap::new();
        for item in &order.line_items {
            levels.insert(
                item.sku.clone(),
                data.inventory_level(&m, &item.sku).await.unwrap().unwrap(),
            );
        }
        Arc::new(Memory {
            order,
            customer,
            levels,
            storage: Mutex::new(HashMap::new()),
        })
    })
}

#[async_trait::async_trait]
impl CommerceData for Memory {
    async fn order(&self, _: &MerchantId, id: &str) -> Result<Option<Order>, DataError> {
        Ok((id == self.order.id).then(|| self.order.clone()))
    }
    async fn orders(&self, _: &MerchantId, _: &OrderQuery) -> Result<Vec<Order>, DataError> {
        Ok(vec![self.order.clone()])
    }
    async fn set_fulfillment_status(
        &self,
        _: &MerchantId,
        _: &str,
        _: FulfillmentStatus,
    ) -> Result<bool, DataError> {
        Ok(true)
    }
    async fn set_financial_status(
        &self,
        _: &MerchantId,
        _: &str,
        _: FinancialStatus,
    ) -> Result<bool, DataError> {
        Ok(true)
    }
    async fn customer(&self, _: &MerchantId, id: &str) -> Result<Option<Customer>, DataError> {
        Ok((id == self.customer.id).then(|| self.customer.clone()))
    }
    async fn inventory_level(
        &self,
        _: &MerchantId,
        sku: &str,
    ) -> Result<Option<InventoryLevel>, DataError> {
        Ok(self.levels.get(sku).cloned())
    }
    async fn inventory_levels(
        &self,
        _: &MerchantId,
        _: Option<&str>,
        _: u32,
    ) -> Result<Vec<InventoryLevel>, DataError> {
        Ok(self.levels.values().cloned().collect())
    }
    async fn adjust_inventory(&self, _: &MerchantId, _: &str, _: i64) -> Result<bool, DataError> {
        Ok(true)
    }
}

#[async_trait::async_trait]
impl ConnectorStorage for Memory {
    async fn get(&self, _: &InstallationId, key: &str) -> Result<Option<Vec<u8>>, DataError> {
        Ok(self.storage.lock().unwrap().get(key).cloned())
    }
    async fn set(
        &self,
        _: &InstallationId,
        key: &str,
        value: &[u8],
        _: StorageQuota,
    ) -> Result<(), StorageError> {
        self.storage
            .lock()
            .unwrap()
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    async fn delete(&self, _: &InstallationId, key: &str) -> Result<(), DataError> {
        self.storage.lock().unwrap().remove(key);
        Ok(())
    }
    async fn keys(&self, _: &InstallationId, _: &str, _: u32) -> Result<Vec<String>, DataError> {
        Ok(self.storage.lock().unwrap().keys().cloned().collect())
    }
    async fn wipe(&self, _: &InstallationId) -> Result<u64, DataError> {
        let mut storage = self.storage.lock().unwrap();
        let keys = storage.len() as u64;
        storage.clear();
        Ok(keys)
    }
}

fn event(n: u64) -> Event {
    Event {
        id: format!("evt_{n}"),
        topic: Topic::OrderCreated,
        subject_id: "ord_1001".into(),
        occurred_at: 0,
    }
}

mod raw {
    //! The same component on plain Wasmtime: no grants, no accounting, no limits beyond the
    //! engine's, WASI linked with a default context.
    use super::*;
    use wasmtime::component::{HasSelf, Linker, ResourceTable};
    use wasmtime::{Engine, Store};
    use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

    wasmtime::component::bindgen!({
        world: "connector",
        path: "../wit",
        imports: { default: async },
        exports: { default: async },
    });
    use airlock::connector::types as t;

    pub struct State {
        wasi: WasiCtx,
        table: ResourceTable,
        data: Arc<Memory>,
    }

    impl WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.wasi,
                table: &mut self.table,
            }
        }
    }

    fn money(m: &airlock_host::commerce::Money) -> t::Money {
        t::Money {
            amount_minor: m.amount_minor,
            currency: m.currency.clone(),
        }
    }

    fn order(o: &Order) -> t::Order {
        t::Order {
            id: o.id.clone(),
            number: o.number.clone(),
            customer_id: o.customer_id.clone(),
            financial_status: t::FinancialStatus::Pending,
            fulfillment_status: t::FulfillmentStatus::Unfulfilled,
            total: money(&o.total),
            created_at: o.created_at,
            line_items: o
                .line_items
                .iter()
                .map(|i| t::LineItem {
                    sku: i.sku.clone(),
                    title: i.title.clone(),
                    quantity: i.quantity,
                    unit_price: money(&i.unit_price),
                })
                .collect(),
        }
    }

    fn level(l: &InventoryLevel) -> t::InventoryLevel {
        t::InventoryLevel {
            sku: l.sku.clone(),
            title: l.title.clone(),
            available: l.available,
            updated_at: l.updated_at,
        }
    }

    impl t::Host for State {}
    impl airlock::connector::orders::Host for State {
        async fn get(&mut self, id: String) -> Result<t::Order, t::HostError> {
            (id == self.data.order.id)
                .then(|| order(&self.data.order))
                .ok_or(t::HostError::NotFound)
        }
        async fn list(&mut self, _: t::OrderQuery) -> Result<Vec<t::Order>, t::HostError> {
            Ok(vec![order(&self.data.order)])
        }
    }
    // The notifier imports no writes; the world still lists the interfaces.
    impl airlock::connector::order_updates::Host for State {
        async fn set_fulfillment_status(
            &mut self,
            _: String,
            _: t::FulfillmentStatus,
        ) -> Result<(), t::HostError> {
            Ok(())
        }
        async fn set_financial_status(
            &mut self,
            _: String,
            _: t::FinancialStatus,
        ) -> Result<(), t::HostError> {
            Ok(())
        }
    }
    impl airlock::connector::customers::Host for State {
        async fn get(&mut self, _: String) -> Result<t::Customer, t::HostError> {
            let c = &self.data.customer;
            Ok(t::Customer {
                id: c.id.clone(),
                orders_count: c.orders_count,
                accepts_marketing: c.accepts_marketing,
                created_at: c.created_at,
                name: Some(c.contact.name.clone()),
                email: c.contact.email.clone(),
                phone: c.contact.phone.clone(),
                address: None,
            })
        }
    }
    impl airlock::connector::inventory::Host for State {
        async fn get(&mut self, sku: String) -> Result<t::InventoryLevel, t::HostError> {
            self.data
                .levels
                .get(&sku)
                .map(level)
                .ok_or(t::HostError::NotFound)
        }
        async fn list(
            &mut self,
            _: Option<String>,
            _: u32,
        ) -> Result<Vec<t::InventoryLevel>, t::HostError> {
            Ok(self.data.levels.values().map(level).collect())
        }
    }
    impl airlock::connector::inventory_updates::Host for State {
        async fn adjust(&mut self, _: String, _: i32) -> Result<(), t::HostError> {
            Ok(())
        }
    }
    impl airlock::connector::storage::Host for State {
        async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, t::HostError> {
            Ok(self.data.storage.lock().unwrap().get(&key).cloned())
        }
        async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), t::HostError> {
            self.data.storage.lock().unwrap().insert(key, value);
            Ok(())
        }
        async fn delete(&mut self, key: String) -> Result<(), t::HostError> {
            self.data.storage.lock().unwrap().remove(&key);
            Ok(())
        }
        async fn list_keys(&mut self, _: String) -> Result<Vec<String>, t::HostError> {
            Ok(Vec::new())
        }
    }
    impl airlock::connector::log::Host for State {
        async fn write(&mut self, _: airlock::connector::log::Level, _: String) {}
    }
    // The notifier imports no secrets; the world still lists the interface.
    impl airlock::connector::secrets::Host for State {
        async fn get(&mut self, _: String) -> Result<String, t::HostError> {
            Err(t::HostError::NotFound)
        }
    }

    pub struct Raw {
        engine: Engine,
        pre: ConnectorPre<State>,
        data: Arc<Memory>,
    }

    impl Raw {
        pub fn new(data: Arc<Memory>) -> Raw {
            // The same engine settings Airlock uses, so only Airlock's own work differs.
            let engine = Engine::new(&airlock_host::engine_config(&Limits::default())).unwrap();
            let mut linker = Linker::new(&engine);
            wasmtime_wasi::p2::add_to_linker_async(&mut linker).unwrap();
            Connector::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s).unwrap();
            let component =
                wasmtime::component::Component::new(&engine, wasm(plugins::ORDER_NOTIFIER))
                    .unwrap();
            let pre = ConnectorPre::new(linker.instantiate_pre(&component).unwrap()).unwrap();
            Raw { engine, pre, data }
        }

        pub async fn run(&self, n: u64) -> bool {
            let state = State {
                wasi: WasiCtx::builder().build(),
                table: ResourceTable::new(),
                data: self.data.clone(),
            };
            let mut store = Store::new(&self.engine, state);
            store.set_epoch_deadline(u64::MAX / 2);
            // Same engine config, so fuel is metered here too; same budget as Airlock's.
            store.set_fuel(11_000_000).unwrap();
            let instance = self.pre.instantiate_async(&mut store).await.unwrap();
            let e = t::Event {
                id: format!("raw_evt_{n}"),
                topic: "order.created".into(),
                subject_id: "ord_1001".into(),
                occurred_at: 0,
            };
            let outcome = instance
                .airlock_connector_handler()
                .call_handle_event(&mut store, &e)
                .await
                .unwrap();
            outcome.unwrap().acted
        }
    }
}

fn per_event(c: &mut Criterion) {
    // Current-thread: the future runs on the bench thread, with no cross-thread wake-ups.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let data = memory();
    let limits = Limits::default();
    let sandbox = Sandbox::new(&limits).unwrap();
    let prepared = sandbox.load(&wasm(plugins::ORDER_NOTIFIER)).unwrap();
    let sources = DataSources {
        commerce: data.clone(),
        storage: data.clone(),
        secrets: None,
    };
    let granted: ScopeSet = [
        Scope::OrdersRead,
        Scope::CustomersRead,
        Scope::CustomersReadContact,
        Scope::InventoryRead,
    ]
    .into_iter()
    .collect();
    let grant = Grant::new(prepared.manifest.declared(), granted, ScopeSet::all());
    let setup = || {
        CallSetup::new(
            MerchantId::new("demo-store"),
            InstallationId::new("inst_bench"),
            grant,
        )
    };
    let raw = raw::Raw::new(data.clone());

    // Both paths must really handle the event before anything is timed.
    let report = rt.block_on(sandbox.invoke(&prepared, setup(), &sources, &limits, &event(0)));
    assert!(
        matches!(report.result, CallResult::Done { acted: true, .. }),
        "{:?}",
        report.result
    );
    assert!(rt.block_on(raw.run(0)));

    let mut group = c.benchmark_group("per_event");
    let mut n = 1;
    group.bench_function("airlock", |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(sandbox.invoke(&prepared, setup(), &sources, &limits, &event(n)))
        })
    });
    group.bench_function("raw_wasmtime", |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(raw.run(n))
        })
    });
    group.finish();
}

criterion_group!(benches, per_event);
criterion_main!(benches);
