//! Built without a manifest: the host must refuse it, and tests attach malformed manifests to
//! it to check each is refused with an error naming what is wrong.

use airlock_sdk::{Connector, ConnectorError, Event, Outcome, log};

struct Bare;

impl Connector for Bare {
    fn handle_event(_event: Event) -> Result<Outcome, ConnectorError> {
        log::info("bare connector ran");
        Ok(Outcome::ignored("nothing to do"))
    }
}

airlock_sdk::export!(Bare);
