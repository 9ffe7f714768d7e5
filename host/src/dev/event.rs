//! The event a dev run delivers: from a JSON file (`{topic, subject_id, id?, occurred_at?}`)
//! or from `TOPIC:ID` on the command line. Every refusal names the field that is wrong.

use serde_json::{Map, Value};

use crate::report::Event;
use crate::text::sanitize_quoted;
use crate::topics::Topic;

/// The event id a dev run uses when the event gives none.
pub const DEV_EVENT_ID: &str = "evt_dev";
/// Longest subject or event id accepted, in bytes (as the host's own events).
const MAX_ID_BYTES: usize = 128;
/// The fields an event file may have.
const FIELDS: [&str; 4] = ["topic", "subject_id", "id", "occurred_at"];

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The text is not a JSON object.
    #[error("the event is not a JSON object: {0}")]
    NotJson(String),
    /// A field is missing, unknown or has a value the host does not accept.
    #[error("event field `{field}`: {problem}")]
    Field {
        /// The field, such as `subject_id`.
        field: String,
        /// What is wrong and what would do.
        problem: String,
    },
    /// `TOPIC:ID` without its `:`.
    #[error("`{0}` is neither an event file nor TOPIC:ID (such as `order.created:ord_1001`)")]
    NotASpec(String),
}

fn field(field: &str, problem: impl Into<String>) -> EventError {
    EventError::Field {
        field: field.to_owned(),
        problem: problem.into(),
    }
}

/// An event from `TOPIC:ID`, such as `order.created:ord_1001`, occurring at `now_ms`.
pub fn event_from_spec(spec: &str, now_ms: u64) -> Result<Event, EventError> {
    let (topic, subject) = spec
        .split_once(':')
        .ok_or_else(|| EventError::NotASpec(sanitize_quoted(spec, 64)))?;
    Ok(Event {
        id: DEV_EVENT_ID.to_owned(),
        topic: topic_of(topic)?,
        subject_id: id_of("subject_id", subject)?,
        occurred_at: now_ms,
    })
}

/// An event from the JSON text of an event file; `occurred_at` defaults to `now_ms`.
pub fn event_from_json(text: &str, now_ms: u64) -> Result<Event, EventError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| EventError::NotJson(e.to_string()))?;
    let Value::Object(object) = value else {
        return Err(EventError::NotJson(
            "expected an object such as {\"topic\": \"order.created\", \"subject_id\": \"ord_1001\"}"
                .to_owned(),
        ));
    };
    if let Some(unknown) = object.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(field(
            &sanitize_quoted(unknown, 64),
            format!("not an event field; the fields are {}", FIELDS.join(", ")),
        ));
    }
    let topic = string(&object, "topic")?.ok_or_else(|| missing("topic"))?;
    let subject = string(&object, "subject_id")?.ok_or_else(|| missing("subject_id"))?;
    let id = match string(&object, "id")? {
        Some(id) => id_of("id", id)?,
        None => DEV_EVENT_ID.to_owned(),
    };
    let occurred_at = match object.get("occurred_at") {
        None | Some(Value::Null) => now_ms,
        Some(value) => value.as_u64().ok_or_else(|| {
            field(
                "occurred_at",
                "must be a whole number of milliseconds since the Unix epoch",
            )
        })?,
    };
    Ok(Event {
        id,
        topic: topic_of(topic)?,
        subject_id: id_of("subject_id", subject)?,
        occurred_at,
    })
}

fn missing(name: &str) -> EventError {
    let example = match name {
        "topic" => "such as \"order.created\"",
        _ => "the id of the record the event is about, such as \"ord_1001\"",
    };
    field(name, format!("missing; give it as a string, {example}"))
}

/// The string field `name`, if present.
fn string<'a>(object: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, EventError> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(field(name, "must be a string")),
    }
}

fn topic_of(text: &str) -> Result<Topic, EventError> {
    text.parse()
        .map_err(|problem: String| field("topic", problem))
}

/// An id as the host accepts one: 1 to 128 bytes, no control characters.
fn id_of(name: &str, text: &str) -> Result<String, EventError> {
    if text.is_empty() || text.len() > MAX_ID_BYTES {
        return Err(field(name, format!("must be 1 to {MAX_ID_BYTES} bytes")));
    }
    if text.chars().any(char::is_control) {
        return Err(field(name, "must not hold control characters"));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_names_topic_and_subject() {
        let event = event_from_spec("order.created:ord_1001", 7).unwrap();
        assert_eq!(event.topic, Topic::OrderCreated);
        assert_eq!(event.subject_id, "ord_1001");
        assert_eq!((event.id.as_str(), event.occurred_at), (DEV_EVENT_ID, 7));
        // Only the first `:` splits: a subject may hold more.
        let probe = event_from_spec("order.created:orders.get a:b", 7).unwrap();
        assert_eq!(probe.subject_id, "orders.get a:b");
    }

    #[test]
    fn a_bad_spec_is_named() {
        let err = event_from_spec("order.shipped:ord_1", 0).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("event field `topic`: unknown event topic `order.shipped`"),
            "{err}"
        );
        let err = event_from_spec("order.created:", 0).unwrap_err();
        assert!(
            err.to_string()
                .contains("`subject_id`: must be 1 to 128 bytes"),
            "{err}"
        );
        assert!(matches!(
            event_from_spec("ord_1001", 0),
            Err(EventError::NotASpec(_))
        ));
    }

    #[test]
    fn a_file_event_takes_its_optional_fields() {
        let text = r#"{"topic": "inventory.changed", "subject_id": "MUG-CLAY", "id": "evt_9", "occurred_at": 5}"#;
        let event = event_from_json(text, 99).unwrap();
        assert_eq!(event.topic, Topic::InventoryChanged);
        assert_eq!((event.id.as_str(), event.occurred_at), ("evt_9", 5));
        let plain = event_from_json(r#"{"topic":"order.paid","subject_id":"ord_1"}"#, 99).unwrap();
        assert_eq!((plain.id.as_str(), plain.occurred_at), (DEV_EVENT_ID, 99));
    }

    #[test]
    fn every_refusal_of_a_file_names_its_field() {
        for (text, named) in [
            (r#"{"subject_id": "ord_1"}"#, "event field `topic`: missing"),
            (
                r#"{"topic": "order.created"}"#,
                "event field `subject_id`: missing",
            ),
            (
                r#"{"topic": 3, "subject_id": "x"}"#,
                "event field `topic`: must be a string",
            ),
            (
                r#"{"topic": "order.made", "subject_id": "x"}"#,
                "event field `topic`: unknown event topic",
            ),
            (
                r#"{"topic": "order.created", "subject_id": "x", "occurred_at": -1}"#,
                "event field `occurred_at`",
            ),
            (
                r#"{"topic": "order.created", "subject_id": "x", "id": ""}"#,
                "event field `id`",
            ),
            (
                r#"{"topic": "order.created", "subjectId": "x"}"#,
                "event field `subjectId`: not an event field",
            ),
            (
                r#"{"topic": "order.created", "subject_id": "a\u0007b"}"#,
                "event field `subject_id`: must not hold control",
            ),
        ] {
            let err = event_from_json(text, 0).unwrap_err().to_string();
            assert!(err.starts_with(named), "{text}: {err}");
        }
        assert!(matches!(
            event_from_json("[1]", 0),
            Err(EventError::NotJson(_))
        ));
        assert!(matches!(
            event_from_json("{", 0),
            Err(EventError::NotJson(_))
        ));
    }
}
