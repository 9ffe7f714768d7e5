//! Admission of calls against the engine's instance pool, per merchant. The pool is host-wide
//! ([`crate::Limits::pool_instances`]), and a call holds its slot for as long as it runs,
//! including while it waits in `wasi:io/poll` or on a provider, which costs it no fuel and no
//! worker time. Without a share, one merchant's connectors sleeping until their deadlines
//! could hold every slot, and every other merchant's instantiation would fail. So each
//! merchant holds at most [`crate::Limits::merchant_instances`] slots; a call over that waits
//! a little for one of them, then is refused, while other merchants still instantiate.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::ids::MerchantId;

/// How long a call over its merchant's share waits for a slot before it is refused (never
/// past its deadline): long enough to absorb a burst of short calls, short enough that a
/// caller hears `merchant-busy` before it would have heard anything else.
pub(crate) const ADMISSION_WAIT: Duration = Duration::from_millis(100);

/// Above this many merchants, those with nothing running are swept out when a call arrives.
const SWEEP_ABOVE: usize = 1024;

/// Every merchant's share of the pool.
pub(crate) struct Admission {
    share: u32,
    merchants: Arc<Mutex<HashMap<MerchantId, Arc<Semaphore>>>>,
}

/// A call's slot in its merchant's share; dropping it frees the slot.
pub(crate) struct Admitted {
    merchant: MerchantId,
    permit: Option<OwnedSemaphorePermit>,
    merchants: Arc<Mutex<HashMap<MerchantId, Arc<Semaphore>>>>,
}

impl Admission {
    /// Each merchant may hold `share` slots at once (at least 1).
    pub(crate) fn new(share: u32) -> Self {
        Admission {
            share: share.max(1),
            merchants: Arc::default(),
        }
    }

    /// The slots one merchant may hold.
    pub(crate) fn share(&self) -> u32 {
        self.share
    }

    /// A slot for a call of `merchant`, waiting at most `wait` for one; `None` when its share
    /// stayed in use that long.
    pub(crate) async fn admit(&self, merchant: &MerchantId, wait: Duration) -> Option<Admitted> {
        let semaphore = {
            let mut merchants = self.lock();
            if merchants.len() > SWEEP_ABOVE {
                merchants.retain(|_, s| Arc::strong_count(s) > 1);
            }
            merchants
                .entry(merchant.clone())
                .or_insert_with(|| Arc::new(Semaphore::new(self.share as usize)))
                .clone()
        };
        let permit = match semaphore.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => match tokio::time::timeout(wait, semaphore.acquire_owned()).await {
                Ok(Ok(permit)) => permit,
                // Timed out, or closed (never: nothing closes it).
                Ok(Err(_)) | Err(_) => return None,
            },
        };
        Some(Admitted {
            merchant: merchant.clone(),
            permit: Some(permit),
            merchants: self.merchants.clone(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<MerchantId, Arc<Semaphore>>> {
        self.merchants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut merchants = self
            .merchants
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        drop(self.permit.take());
        // Only the map holds it: nothing of this merchant runs or waits.
        if merchants
            .get(&self.merchant)
            .is_some_and(|s| Arc::strong_count(s) == 1)
        {
            merchants.remove(&self.merchant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_merchant_over_its_share_waits_then_is_refused_while_others_are_admitted() {
        let admission = Admission::new(2);
        let (busy, quiet) = (MerchantId::new("busy"), MerchantId::new("quiet"));
        let short = Duration::from_millis(10);
        let first = admission.admit(&busy, short).await;
        let second = admission.admit(&busy, short).await;
        assert!(first.is_some() && second.is_some());
        assert!(admission.admit(&busy, short).await.is_none());
        let other = admission.admit(&quiet, short).await;
        assert!(other.is_some(), "another merchant still gets a slot");
        // A slot freed while a call waits goes to it.
        let (waited, ()) = tokio::join!(admission.admit(&busy, Duration::from_secs(5)), async {
            tokio::time::sleep(short).await;
            drop(first);
        });
        assert!(waited.is_some());
        drop(waited);
        drop((second, other));
        assert!(admission.lock().is_empty(), "idle merchants leave no entry");
    }
}
