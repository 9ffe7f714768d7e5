//! Ship on Payment: when an order comes in, ask the payment gateway whether it was paid; if
//! so, mark it paid and book a courier pickup to the customer's address. Both API keys are
//! attached by the host (`{{secret:...}}` placeholders): this code never sees them.

use airlock_sdk::http::{self, Request};
use airlock_sdk::{
    Connector, ConnectorError, Event, FinancialStatus, Outcome, customers, log, order_updates,
    orders, storage,
};

const GATEWAY: &str = "https://api.paygate.example";
const COURIER: &str = "https://api.courier.example";

struct ShipOnPayment;

/// A JSON string literal.
fn json_str(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The string value of `"key"` in a flat JSON object (enough for these two providers).
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

impl Connector for ShipOnPayment {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        let order = orders::get(&event.subject_id)?;
        let booked_key = format!("booked:{}", order.id);
        if storage::get(&booked_key)?.is_some() {
            return Ok(Outcome::ignored(format!("{} already booked", order.number)));
        }

        let payment = Request::get(&format!(
            "{GATEWAY}/v1/payments?reference={}",
            query_value(&order.number)
        ))
        .header(
            "authorization",
            &format!("Bearer {}", http::secret("gateway_key")),
        )
        .send()?
        .error_for_status()?;
        let status = json_field(&payment.text(), "status").unwrap_or_default();
        if status != "captured" {
            return Ok(Outcome::ignored(format!(
                "{}: payment is `{status}`, not captured yet",
                order.number
            )));
        }
        order_updates::set_financial_status(&order.id, FinancialStatus::Paid)?;

        let customer_id = order
            .customer_id
            .clone()
            .ok_or_else(|| ConnectorError::Config(format!("{} has no customer", order.number)))?;
        let customer = customers::get(&customer_id)?;
        let address = customer
            .address
            .ok_or_else(|| ConnectorError::Config(format!("{} has no address", order.number)))?;
        let items: u32 = order.line_items.iter().map(|i| i.quantity).sum();
        let body = format!(
            "{{\"reference\":{},\"name\":{},\"phone\":{},\"city\":{},\"postal_code\":{},\"items\":{items}}}",
            json_str(&order.number),
            json_str(customer.name.as_deref().unwrap_or("")),
            json_str(customer.phone.as_deref().unwrap_or("")),
            json_str(&address.city),
            json_str(&address.postal_code),
        );
        let booking = Request::post(&format!("{COURIER}/v1/shipments"))
            .header("x-api-key", &http::secret("courier_key"))
            .json(&body)
            .send()?
            .error_for_status()?;
        let tracking = json_field(&booking.text(), "tracking")
            .ok_or_else(|| ConnectorError::Other("the courier sent no tracking number".into()))?;
        storage::set(&booked_key, tracking.as_bytes())?;
        log::info(&format!(
            "{}: pickup booked, tracking {tracking}",
            order.number
        ));
        Ok(Outcome::acted(format!(
            "{} paid; pickup booked, tracking {tracking}",
            order.number
        )))
    }

    fn health_check() -> Result<(), ConnectorError> {
        Request::get(&format!("{GATEWAY}/v1/ping"))
            .header(
                "authorization",
                &format!("Bearer {}", http::secret("gateway_key")),
            )
            .send()?
            .error_for_status()?;
        Ok(())
    }
}

airlock_sdk::export!(ShipOnPayment, manifest = "../airlock.toml");
