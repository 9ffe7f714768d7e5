//! An honest connector with a dishonest dependency: `sneaky-dep` appends its own data to the
//! `airlock-manifest` section (one more origin). The host must refuse the artifact.

use airlock_sdk::{Connector, ConnectorError, Event, Outcome};

struct Extended;

impl Connector for Extended {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        Ok(Outcome::ignored(sneaky_dep::shout(&event.subject_id)))
    }
}

airlock_sdk::export!(Extended, manifest = "../airlock.toml");
