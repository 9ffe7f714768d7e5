//! `airlock:connector/storage`: the installation's own key-value space. Needs no scope; keys
//! and values are size-capped, and the installation id comes from the Store, never the plugin.

use std::sync::Arc;

use crate::bindings::airlock::connector::storage::Host;
use crate::bindings::airlock::connector::types::HostError;
use crate::commerce::{ConnectorStorage, StorageError, StorageQuota};
use super::{Deps, Descriptor, Requirement};
use crate::call::{CallContext, Served};

/// Longest key, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 256;
/// Largest value, in bytes.
pub(crate) const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most keys one `list-keys` returns.
pub(crate) const MAX_KEYS: u32 = 1000;

/// `airlock:connector/storage`: the connector's own space, no scope.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "storage",
    needs: Requirement::OwnSpace,
    functions: &["get", "set", "delete", "list-keys"],
    unlocks: &[],
};

/// The storage capability of one invocation.
pub(crate) struct StorageState {
    call: Arc<CallContext>,
    store: Arc<dyn ConnectorStorage>,
    quota: StorageQuota,
}

fn check_key(key: &str) -> Result<(), HostError> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES {
        return Err(HostError::InvalidInput(format!(
            "key must be 1 to {MAX_KEY_BYTES} bytes"
        )));
    }
    Ok(())
}

impl StorageState {
    pub(crate) fn new(deps: &Deps) -> Self {
        StorageState {
            call: deps.call.clone(),
            store: deps.storage.clone(),
            quota: deps.storage_quota,
        }
    }

    fn fail(&self, op: &'static str, err: HostError) -> HostError {
        self.call.record(op, None, Served::Failed);
        err
    }
}

impl Host for StorageState {
    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, HostError> {
        const OP: &str = "storage.get";
        self.call.admit(OP, None).await?;
        check_key(&key).map_err(|e| self.fail(OP, e))?;
        let value = self
            .store
            .get(&self.call.installation, &key)
            .await
            .map_err(|e| self.call.unavailable(OP, None, e))?;
        if let Some(bytes) = &value
            && !self.call.take_input(bytes.len() as u64)
        {
            return Err(self.fail(
                OP,
                HostError::LimitExceeded("input allowance of this call used up".into()),
            ));
        }
        self.call
            .record(OP, None, Served::Records(u64::from(value.is_some())));
        Ok(value)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> Result<(), HostError> {
        const OP: &str = "storage.set";
        self.call.admit(OP, None).await?;
        check_key(&key).map_err(|e| self.fail(OP, e))?;
        if value.len() > MAX_VALUE_BYTES {
            let err = HostError::LimitExceeded(format!(
                "value is {} bytes; at most {MAX_VALUE_BYTES}",
                value.len()
            ));
            return Err(self.fail(OP, err));
        }
        // Checked before writing: a write over the allowance is refused, never stored.
        if !self.call.put_out((key.len() + value.len()) as u64) {
            return Err(self.fail(
                OP,
                HostError::LimitExceeded("output allowance of this call used up".into()),
            ));
        }
        match self
            .store
            .set(&self.call.installation, &key, &value, self.quota)
            .await
        {
            Ok(()) => {
                self.call.record(OP, None, Served::Records(1));
                Ok(())
            }
            // The connector sees the quota as a limit, with the number; it may delete and retry.
            Err(quota @ StorageError::Quota { .. }) => {
                Err(self.fail(OP, HostError::LimitExceeded(quota.to_string())))
            }
            Err(StorageError::Data(err)) => Err(self.call.unavailable(OP, None, err)),
        }
    }

    async fn delete(&mut self, key: String) -> Result<(), HostError> {
        const OP: &str = "storage.delete";
        self.call.admit(OP, None).await?;
        check_key(&key).map_err(|e| self.fail(OP, e))?;
        self.store
            .delete(&self.call.installation, &key)
            .await
            .map_err(|e| self.call.unavailable(OP, None, e))?;
        self.call.record(OP, None, Served::Records(1));
        Ok(())
    }

    async fn list_keys(&mut self, prefix: String) -> Result<Vec<String>, HostError> {
        const OP: &str = "storage.list-keys";
        self.call.admit(OP, None).await?;
        if prefix.len() > MAX_KEY_BYTES {
            return Err(self.fail(
                OP,
                HostError::InvalidInput(format!("prefix must be at most {MAX_KEY_BYTES} bytes")),
            ));
        }
        let keys = self
            .store
            .keys(&self.call.installation, &prefix, MAX_KEYS)
            .await
            .map_err(|e| self.call.unavailable(OP, None, e))?;
        self.call
            .record(OP, None, Served::Records(keys.len() as u64));
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{Approvals, call, data, deps, installation, live_call};
    use super::*;
    use crate::live::Signals;

    #[tokio::test]
    async fn own_space_calls_are_refused_once_the_app_is_disabled_or_removed() {
        let (signals, approvals) = (Signals::default(), Arc::new(Approvals::default()));
        let call = live_call(&[], &signals, &approvals);
        let mut state = StorageState::new(&deps(&call, &data(), &[]));
        state.set("k".into(), b"v".to_vec()).await.unwrap();
        approvals.set(None);
        signals.stopped(&installation());
        assert_eq!(
            state.set("k".into(), b"w".to_vec()).await,
            Err(HostError::Unavailable)
        );
        assert_eq!(state.get("k".into()).await, Err(HostError::Unavailable));
        let set = &call.accesses()[0];
        assert_eq!((set.allowed, set.denied), (1, 1));
    }
    use crate::call::CallContext as Call;
    use crate::grants::{Grant, ScopeSet};
    use crate::ids::{InstallationId, MerchantId};

    #[tokio::test]
    async fn values_round_trip_in_the_installations_own_space() {
        let data = data();
        let own = call(&[], 20);
        let mut state = StorageState::new(&deps(&own, &data, &[]));
        state.set("k".into(), b"v".to_vec()).await.unwrap();
        assert_eq!(state.get("k".into()).await.unwrap(), Some(b"v".to_vec()));
        assert_eq!(state.list_keys(String::new()).await.unwrap(), ["k"]);
        // Another installation of the same merchant sees nothing of it.
        let other = Arc::new(Call::new(
            MerchantId::new("shop"),
            InstallationId::new("inst_other"),
            Grant::new(ScopeSet::all(), ScopeSet::EMPTY, ScopeSet::all()),
            None,
            crate::call::Allowances {
                host_calls: 10,
                output_bytes: 4096,
                input_bytes: 4096,
            },
        ));
        let mut theirs = StorageState::new(&deps(&other, &data, &[]));
        assert_eq!(theirs.get("k".into()).await.unwrap(), None);
        state.delete("k".into()).await.unwrap();
        assert_eq!(state.get("k".into()).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_quota_of_the_installation_refuses_the_write_that_crosses_it() {
        let data = data();
        let own = call(&[], 50);
        let mut small = deps(&own, &data, &[]);
        small.storage_quota.bytes = 2048;
        let mut state = StorageState::new(&small);
        // 5 keys (the test quota) and 2048 bytes.
        for n in 0..5 {
            state.set(format!("k{n}"), b"v".to_vec()).await.unwrap();
        }
        let refused = state.set("k5".into(), b"v".to_vec()).await;
        assert!(
            matches!(&refused, Err(HostError::LimitExceeded(why)) if why.contains("5 keys")),
            "{refused:?}"
        );
        assert_eq!(state.get("k5".into()).await.unwrap(), None, "never stored");
        state.set("k0".into(), b"replaced".to_vec()).await.unwrap();
        state.delete("k1".into()).await.unwrap();
        assert!(matches!(
            state.set("k9".into(), vec![0; 2040]).await,
            Err(HostError::LimitExceeded(why)) if why.contains("2048 bytes")
        ));
        state.set("k9".into(), vec![0; 1000]).await.unwrap();
        assert_eq!(
            state.list_keys("k".into()).await.unwrap(),
            ["k0", "k2", "k3", "k4", "k9"]
        );
        let failed = own.accesses().into_iter().find(|a| a.operation == "storage.set");
        assert_eq!(failed.map(|a| a.failed), Some(2));
    }

    #[tokio::test]
    async fn keys_values_and_the_output_allowance_are_capped() {
        let own = call(&[], 20);
        let mut state = StorageState::new(&deps(&own, &data(), &[]));
        assert!(matches!(
            state.get(String::new()).await,
            Err(HostError::InvalidInput(_))
        ));
        assert!(matches!(
            state.set("k".repeat(MAX_KEY_BYTES + 1), vec![]).await,
            Err(HostError::InvalidInput(_))
        ));
        assert!(matches!(
            state.set("k".into(), vec![0; MAX_VALUE_BYTES + 1]).await,
            Err(HostError::LimitExceeded(_))
        ));
        // The test allowance is 4096 bytes out: the write that crosses it is refused.
        state.set("a".into(), vec![0; 4000]).await.unwrap();
        assert!(matches!(
            state.set("b".into(), vec![0; 200]).await,
            Err(HostError::LimitExceeded(_))
        ));
        assert_eq!(state.get("b".into()).await.unwrap(), None, "never stored");
        assert!(own.over_quota().is_some());
    }
}
