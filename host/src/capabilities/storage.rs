//! `airlock:connector/storage`: the installation's own key-value space. Needs no scope; keys
//! and values are size-capped, and the installation id comes from the Store, never the plugin.

use std::sync::Arc;

use crate::bindings::airlock::connector::storage::Host;
use crate::bindings::airlock::connector::types::HostError;
use crate::commerce::ConnectorStorage;
use crate::state::{CallContext, Served};

/// Longest key, in bytes.
pub(crate) const MAX_KEY_BYTES: usize = 256;
/// Largest value, in bytes.
pub(crate) const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Most keys one `list-keys` returns.
pub(crate) const MAX_KEYS: u32 = 1000;

/// The storage capability of one invocation.
pub(crate) struct StorageState {
    call: Arc<CallContext>,
    store: Arc<dyn ConnectorStorage>,
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
    pub(crate) fn new(call: Arc<CallContext>, store: Arc<dyn ConnectorStorage>) -> Self {
        StorageState { call, store }
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
        self.store
            .set(&self.call.installation, &key, &value)
            .await
            .map_err(|e| self.call.unavailable(OP, None, e))?;
        self.call.record(OP, None, Served::Records(1));
        Ok(())
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
