//! Probe: performs the one host call named in the event's subject id (`op arg...`) and reports
//! the raw result in the outcome summary, so tests see exactly what the host returned.

use airlock_sdk::{
    Connector, ConnectorError, Event, FinancialStatus, FulfillmentStatus, OrderQuery, Outcome,
    customers, inventory, inventory_updates, order_updates, orders, storage,
};

struct Probe;

fn show<T: core::fmt::Debug, E: core::fmt::Debug>(result: Result<T, E>) -> String {
    match result {
        Ok(value) => format!("ok {value:?}"),
        Err(err) => format!("err {err:?}"),
    }
}

fn fulfillment(name: &str) -> FulfillmentStatus {
    match name {
        "fulfilled" => FulfillmentStatus::Fulfilled,
        "cancelled" => FulfillmentStatus::Cancelled,
        "partial" => FulfillmentStatus::Partial,
        _ => FulfillmentStatus::Unfulfilled,
    }
}

impl Connector for Probe {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        if let Some(outcome) = delivery_op(&event)? {
            return Ok(outcome);
        }
        // `a;b;c` runs several host calls in one invocation, answers joined by ` | `.
        let commands: Vec<&str> = event.subject_id.split(';').collect();
        let mut answers = commands
            .iter()
            .map(|c| one(c))
            .collect::<Result<Vec<_>, _>>()?;
        if answers.len() > 1 {
            // The host caps a summary at 500 characters: keep every step's answer visible.
            for answer in &mut answers {
                *answer = answer.chars().take(80).collect();
            }
        }
        Ok(Outcome::acted(answers.join(" | ")))
    }

    /// Runs the commands stored under the key `health` (none: healthy), failing on the
    /// first answer that is an error: how tests make a health check use the host.
    fn health_check() -> Result<(), ConnectorError> {
        let Some(commands) = storage::get("health")? else {
            return Ok(());
        };
        let commands = String::from_utf8_lossy(&commands).into_owned();
        for command in commands.split(';') {
            let answer = one(command)?;
            if answer.starts_with("err") {
                return Err(ConnectorError::Other(answer));
            }
        }
        Ok(())
    }
}

/// Operations about delivery itself, keyed on the event id the host keeps on every try:
/// - `fail CAUSE [N]`: fail every try with CAUSE (`unavailable`, `network`, `rate-limited N`,
///   `invalid-credentials`, `verification`, `policy`, `billing`, `trap`);
/// - `flaky N CAUSE`: fail the first N tries of this event with CAUSE, then succeed;
/// - `apply`: a side effect deduplicated on the event id: the first try that gets this far
///   writes `applied:<event id>`; a later try of the same event finds it and does nothing.
fn delivery_op(event: &Event) -> Result<Option<Outcome>, ConnectorError> {
    let words: Vec<&str> = event.subject_id.split(' ').collect();
    match words.as_slice() {
        ["fail", cause @ ..] => Err(failure(cause)),
        ["flaky", n, cause @ ..] => {
            let key = format!("tries:{}", event.id);
            let tries = storage::get(&key)?
                .and_then(|v| String::from_utf8(v).ok())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
                + 1;
            storage::set(&key, tries.to_string().as_bytes())?;
            if tries <= n.parse().unwrap_or(0) {
                return Err(failure(cause));
            }
            Ok(Some(Outcome::acted(format!("succeeded on try {tries}"))))
        }
        ["apply"] => {
            let key = format!("applied:{}", event.id);
            if storage::get(&key)?.is_some() {
                return Ok(Some(Outcome::ignored("already applied")));
            }
            storage::set(&key, b"1")?;
            Ok(Some(Outcome::acted("applied")))
        }
        _ => Ok(None),
    }
}

fn failure(cause: &[&str]) -> ConnectorError {
    match cause {
        ["unavailable"] => ConnectorError::ProviderUnavailable,
        ["network"] => ConnectorError::Network("connection reset".into()),
        ["rate-limited", secs] => ConnectorError::RateLimited(secs.parse().ok()),
        ["invalid-credentials"] => ConnectorError::InvalidCredentials,
        ["verification"] => ConnectorError::VerificationRequired,
        ["policy"] => ConnectorError::PolicyRestricted("template not approved".into()),
        ["billing"] => ConnectorError::BillingIssue,
        ["trap"] => panic!("the probe was told to trap"),
        other => ConnectorError::Config(format!("unknown failure {other:?}")),
    }
}

fn one(command: &str) -> Result<String, ConnectorError> {
    {
        let words: Vec<&str> = command.split(' ').collect();
        let arg = |i: usize| words.get(i).copied().unwrap_or("");
        let summary = match arg(0) {
            "orders.get" => show(orders::get(arg(1))),
            "orders.get-long" => show(orders::get(&"x".repeat(arg(1).parse().unwrap_or(0)))),
            // Order numbers only: whole orders would overrun the host's summary cap.
            "orders.list" => show(
                orders::list(OrderQuery {
                    fulfillment_status: None,
                    financial_status: None,
                    created_after: None,
                    created_before: None,
                    limit: arg(1).parse().unwrap_or(10),
                })
                .map(|list| list.into_iter().map(|o| o.number).collect::<Vec<_>>()),
            ),
            "orders.set-fulfillment" => show(order_updates::set_fulfillment_status(
                arg(1),
                fulfillment(arg(2)),
            )),
            "orders.set-financial" => show(order_updates::set_financial_status(
                arg(1),
                FinancialStatus::Refunded,
            )),
            "orders.set-paid" => show(order_updates::set_financial_status(
                arg(1),
                FinancialStatus::Paid,
            )),
            "customers.get" => show(customers::get(arg(1))),
            "inventory.get" => show(inventory::get(arg(1))),
            "inventory.list" => show(inventory::list(None, arg(1).parse().unwrap_or(10))),
            "inventory.adjust" => show(inventory_updates::adjust(
                arg(1),
                arg(2).parse().unwrap_or(0),
            )),
            "storage.set" => show(storage::set(arg(1), arg(2).as_bytes())),
            "storage.get" => show(
                storage::get(arg(1)).map(|v| v.map(|b| String::from_utf8_lossy(&b).into_owned())),
            ),
            "storage.keys" => show(storage::keys(arg(1))),
            "storage.delete" => show(storage::delete(arg(1))),
            // `storage.fill N SIZE PREFIX`: N keys PREFIX00000… of SIZE bytes, stopping at the
            // first refusal, which is shown.
            "storage.fill" => {
                let (n, size): (usize, usize) =
                    (arg(1).parse().unwrap_or(1), arg(2).parse().unwrap_or(1));
                let mut stored = 0;
                let mut refusal = String::new();
                for i in 0..n {
                    match storage::set(&format!("{}{i:05}", arg(3)), &vec![b'v'; size]) {
                        Ok(()) => stored += 1,
                        Err(err) => {
                            refusal = format!(" then err {err:?}");
                            break;
                        }
                    }
                }
                format!("stored {stored}{refusal}")
            }
            // How many keys `list-keys PREFIX` returned, and the first and last.
            "storage.count" => show(storage::keys(arg(1)).map(|keys| {
                format!(
                    "{} {:?}..{:?}",
                    keys.len(),
                    keys.first().cloned().unwrap_or_default(),
                    keys.last().cloned().unwrap_or_default()
                )
            })),
            // `log.lines N`: N log lines.
            "log.lines" => {
                for i in 0..arg(1).parse().unwrap_or(1) {
                    airlock_sdk::log::info(&format!("line {i}"));
                }
                "logged".to_owned()
            }
            other => return Err(ConnectorError::Config(format!("unknown probe op {other}"))),
        };
        Ok(summary)
    }
}

airlock_sdk::export!(Probe, manifest = "../airlock.toml");
