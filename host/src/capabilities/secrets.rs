//! `airlock:connector/secrets`: read one of the installation's own secrets, only when the
//! manifest declares it `readable`. The installation comes from the Store; the value joins the
//! call's redaction list, so it cannot reappear in the call's logs, summary or errors.

use std::collections::HashSet;
use std::sync::Arc;

use crate::bindings::airlock::connector::secrets::Host;
use crate::bindings::airlock::connector::types::HostError;
use crate::db::secrets::Secrets;
use crate::state::{CallContext, Served};

/// The secrets capability of one invocation.
pub(crate) struct SecretsState {
    call: Arc<CallContext>,
    secrets: Option<Arc<Secrets>>,
    readable: Arc<HashSet<String>>,
}

impl SecretsState {
    pub(crate) fn new(
        call: Arc<CallContext>,
        secrets: Option<Arc<Secrets>>,
        readable: Arc<HashSet<String>>,
    ) -> Self {
        SecretsState {
            call,
            secrets,
            readable,
        }
    }
}

impl Host for SecretsState {
    async fn get(&mut self, name: String) -> Result<String, HostError> {
        const OP: &str = "secrets.get";
        self.call.admit(OP, None).await?;
        if !self.readable.contains(&name) {
            self.call.record(OP, None, Served::Failed);
            return Err(HostError::InvalidInput(format!(
                "secret `{}` is not declared readable in the manifest",
                crate::capabilities::log::sanitize(&name, 64)
            )));
        }
        let Some(secrets) = &self.secrets else {
            self.call.record(OP, None, Served::Failed);
            eprintln!(
                "airlock: {OP} for {}: the host has no vault key",
                self.call.installation
            );
            return Err(HostError::Unavailable);
        };
        match secrets.reveal(&self.call.installation, &name).await {
            Ok(Some(value)) => {
                self.call.remember_secret(&value);
                if !self.call.take_input(value.len() as u64) {
                    self.call.record(OP, None, Served::Failed);
                    return Err(HostError::LimitExceeded(
                        "input allowance of this call used up".into(),
                    ));
                }
                self.call.record(OP, None, Served::Records(1));
                Ok(value.as_str().to_owned())
            }
            Ok(None) => {
                self.call.record(OP, None, Served::NotFound);
                Err(HostError::NotFound)
            }
            Err(err) => {
                self.call.record(OP, None, Served::Failed);
                eprintln!(
                    "airlock: {OP} `{name}` for {}: {err}",
                    self.call.installation
                );
                Err(HostError::Unavailable)
            }
        }
    }
}
