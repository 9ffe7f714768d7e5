//! `airlock:connector/secrets`: read one of the installation's own secrets, only when the
//! manifest declares it `readable`. The installation comes from the Store; the value joins the
//! call's redaction list, so it cannot reappear in the call's logs, summary or errors.

use std::collections::HashSet;
use std::sync::Arc;

use crate::bindings::airlock::connector::secrets::Host;
use crate::bindings::airlock::connector::types::HostError;
use super::{Deps, Descriptor, Requirement};
use crate::call::{CallContext, Served};
use crate::commerce::SecretSource;
use crate::text::sanitize;

/// The secrets capability of one invocation.
pub(crate) struct SecretsState {
    call: Arc<CallContext>,
    secrets: Option<Arc<dyn SecretSource>>,
    readable: Arc<HashSet<String>>,
}

/// `airlock:connector/secrets`: only secrets the manifest declares `readable`.
pub(crate) const DESCRIPTOR: Descriptor = Descriptor {
    interface: "secrets",
    needs: Requirement::ReadableSecret,
    functions: &["get"],
    unlocks: &[],
};

impl SecretsState {
    pub(crate) fn new(deps: &Deps) -> Self {
        SecretsState {
            call: deps.call.clone(),
            secrets: deps.secrets.clone(),
            readable: deps.readable.clone(),
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
                sanitize(&name, 64)
            )));
        }
        let Some(secrets) = &self.secrets else {
            self.call.record(OP, None, Served::Failed);
            tracing::warn!(installation = %self.call.installation, operation = OP,
                "a connector read a secret but the host has no vault key");
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
                self.call.used_key(&name);
                Ok(value.as_str().to_owned())
            }
            Ok(None) => {
                self.call.record(OP, None, Served::NotFound);
                Err(HostError::NotFound)
            }
            Err(err) => {
                self.call.record(OP, None, Served::Failed);
                tracing::warn!(installation = %self.call.installation, operation = OP,
                    secret = %sanitize(&name, 64), error = %err, "opening a secret failed");
                Err(HostError::Unavailable)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{call, data, deps, installation};
    use super::*;

    #[tokio::test]
    async fn a_readable_secret_is_read_and_then_redacted_from_what_the_call_leaves() {
        let data = data();
        data.put_secret(&installation(), "signing", "s3cr3t-value");
        let own = call(&[], 10);
        let mut state = SecretsState::new(&deps(&own, &data, &["signing"]));
        assert_eq!(state.get("signing".into()).await.unwrap(), "s3cr3t-value");
        assert_eq!(own.redact("got s3cr3t-value"), "got [REDACTED]");
        assert_eq!(own.accesses()[0].records, 1);
    }

    #[tokio::test]
    async fn undeclared_unset_and_vaultless_secrets_are_refused() {
        let data = data();
        data.put_secret(&installation(), "attach_only", "v");
        let own = call(&[], 10);
        let mut state = SecretsState::new(&deps(&own, &data, &["signing"]));
        assert!(matches!(
            state.get("attach_only".into()).await,
            Err(HostError::InvalidInput(_))
        ));
        assert!(matches!(
            state.get("signing".into()).await,
            Err(HostError::NotFound)
        ));
        let mut vaultless = SecretsState::new(&Deps {
            secrets: None,
            ..deps(&own, &data, &["signing"])
        });
        assert!(matches!(
            vaultless.get("signing".into()).await,
            Err(HostError::Unavailable)
        ));
        let quota = call(&[], 0);
        let mut state = SecretsState::new(&deps(&quota, &data, &["signing"]));
        assert!(matches!(
            state.get("signing".into()).await,
            Err(HostError::LimitExceeded(_))
        ));
    }
}
