//! {{display_name}}: asks your payment gateway whether each new order was paid and marks it
//! paid. Calls exactly what `airlock.toml` declares: `orders` (orders:read), `order_updates`
//! (orders:write), `log`, and `http` to the declared origin. The API key is never in the
//! code: the host attaches it where the request says `{{secret:gateway_key}}`.

use airlock_sdk::http::{self, Request};
use airlock_sdk::{
    Connector, ConnectorError, Event, FinancialStatus, Outcome, log, order_updates, orders,
};

const GATEWAY: &str = "https://api.paygate.example";

struct Gateway;

impl Connector for Gateway {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        if event.topic != "order.created" {
            return Ok(Outcome::ignored(format!(
                "not interested in {}",
                event.topic
            )));
        }
        let order = orders::get(&event.subject_id)?;
        if order.financial_status == FinancialStatus::Paid {
            return Ok(Outcome::ignored(format!(
                "{} is already marked paid",
                order.number
            )));
        }
        let payment = Request::get(&format!(
            "{GATEWAY}/v1/payments?reference={}",
            query_value(&order.number)
        ))
        .header(
            "authorization",
            &format!("Bearer {}", http::secret("gateway_key")),
        )
        .send()? // host refusal -> `config`, unreachable -> `provider-unavailable`
        .error_for_status()?; // 401 -> `invalid-credentials`, 429 -> `rate-limited`, ...
        let status = json_field(&payment.text(), "status").unwrap_or_default();
        if status != "captured" {
            return Ok(Outcome::ignored(format!(
                "{}: the payment is {status}, not captured yet",
                order.number
            )));
        }
        order_updates::set_financial_status(&order.id, FinancialStatus::Paid)?;
        log::info(&format!("{} confirmed paid", order.number));
        Ok(Outcome::acted(format!(
            "{} confirmed paid by the gateway and marked paid",
            order.number
        )))
    }
}

/// The string value of `"key"` in a flat JSON object (use a JSON crate for more).
fn json_field(body: &str, key: &str) -> Option<String> {
    let start = body.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = body[start..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    Some(rest[..rest.find('"')?].to_owned())
}

/// Percent-encode a query value.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

airlock_sdk::export!(Gateway, manifest = "../airlock.toml");
