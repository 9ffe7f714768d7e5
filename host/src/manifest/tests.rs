//! The manifest's tests: what parses, and that every refusal names its field.

use super::*;

const GOOD: &str = r#"
id = "acme.order-notifier"
name = "Order Notifier"
publisher = "Acme Labs"
version = "1.0.0"
kind = "messaging"
events = ["order.created"]

[[scopes.required]]
scope = "orders:read"
reason = "Read the order to write the message"

[[scopes.required]]
scope = "customers:read"
reason = "Find who placed the order"

[[scopes.optional]]
scope = "customers:read-contact"
reason = "Address the customer by name"
"#;

fn field_of(err: ManifestError) -> String {
    match err {
        ManifestError::Invalid { field, .. } => field,
        other => panic!("expected an invalid field, got {other}"),
    }
}

#[test]
fn a_good_manifest_parses_with_its_scope_sets() {
    let m = Manifest::parse(GOOD.as_bytes()).unwrap();
    assert_eq!(m.kind, ConnectorKind::Messaging);
    assert_eq!(m.required().to_string(), "orders:read, customers:read");
    assert_eq!(m.optional().to_string(), "customers:read-contact");
    assert_eq!(m.events, [Topic::OrderCreated]);
}

#[test]
fn unknown_scope_names_the_scope_and_lists_the_valid_ones() {
    let text = GOOD.replace("\"customers:read-contact\"", "\"customers:delete\"");
    let err = Manifest::parse(text.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("customers:delete"), "{err}");
    assert!(err.contains("customers:read-contact"), "{err}");
}

#[test]
fn missing_and_unknown_fields_are_named() {
    let missing = GOOD.replace("publisher = \"Acme Labs\"\n", "");
    let err = Manifest::parse(missing.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("publisher"), "{err}");
    let typo = GOOD.replace("kind = ", "knd = \"x\"\nkind = ");
    let err = Manifest::parse(typo.as_bytes()).unwrap_err().to_string();
    assert!(err.contains("knd"), "{err}");
}

#[test]
fn bad_values_name_their_field() {
    let cases = [
        (GOOD.replace("acme.order-notifier", "Acme Notifier!"), "id"),
        (GOOD.replace("1.0.0", "one"), "version"),
        (
            GOOD.replace("Find who placed the order", " "),
            "scopes.required[1].reason",
        ),
        (
            GOOD.replace("Address the customer by name", "line one\\nline two"),
            "scopes.optional[0].reason",
        ),
        (
            GOOD.replace("\"customers:read-contact\"", "\"orders:read\""),
            "scopes.optional[0].scope",
        ),
        (
            GOOD.replace(
                "[\"order.created\"]",
                "[\"order.created\", \"order.created\"]",
            ),
            "events[1]",
        ),
        (
            GOOD.replace("[\"order.created\"]", "[\"inventory.changed\"]"),
            "events[0]",
        ),
    ];
    for (text, field) in cases {
        assert_eq!(
            field_of(Manifest::parse(text.as_bytes()).unwrap_err()),
            field
        );
    }
}

#[test]
fn contact_scope_needs_the_customer_scope() {
    let text = GOOD.replace(
        "scope = \"customers:read\"\nreason = \"Find who placed the order\"",
        "scope = \"orders:write\"\nreason = \"Mark orders\"",
    );
    let err = Manifest::parse(text.as_bytes()).unwrap_err();
    assert_eq!(field_of(err), "scopes.optional[0].scope");
}

#[test]
fn unknown_kind_and_topic_are_refused() {
    let err = Manifest::parse(GOOD.replace("messaging", "crypto").as_bytes()).unwrap_err();
    assert!(err.to_string().contains("crypto"), "{err}");
    let err =
        Manifest::parse(GOOD.replace("order.created", "order.exploded").as_bytes()).unwrap_err();
    assert!(err.to_string().contains("order.exploded"), "{err}");
}

const CONNECTED: &str = r#"
[[http]]
origin = "https://api.gateway.example"
reason = "Check that the order was paid"

[[http]]
origin = "http://127.0.0.1:8080"
reason = "Local courier"

[[secrets]]
name = "gateway_key"
reason = "Your gateway API key"
send_to = ["https://api.gateway.example"]
"#;

#[test]
fn origins_and_secrets_parse_and_bad_ones_name_their_field() {
    let text = format!("{GOOD}{CONNECTED}");
    let m = Manifest::parse(text.as_bytes()).unwrap();
    assert_eq!(m.origins().count(), 2);
    assert_eq!(m.secret("gateway_key").unwrap().send_to.len(), 1);
    assert!(!m.secret("gateway_key").unwrap().readable);
    let cases = [
        (
            text.replace(
                "origin = \"https://api.gateway.example\"",
                "origin = \"https://api.gateway.example/v1\"",
            ),
            "http[0].origin",
        ),
        (text.replace("Local courier", ""), "http[1].reason"),
        (
            text.replace(
                "send_to = [\"https://api.gateway.example\"]",
                "send_to = [\"https://evil.example\"]",
            ),
            "secrets[0].send_to[0]",
        ),
        (
            text.replace("send_to = [\"https://api.gateway.example\"]", ""),
            "secrets[0].send_to",
        ),
        (
            text.replace("gateway_key", "Gateway Key"),
            "secrets[0].name",
        ),
        (
            text.replace(
                "origin = \"http://127.0.0.1:8080\"",
                "origin = \"https://api.gateway.example:443\"",
            ),
            "http[1].origin",
        ),
    ];
    for (bad, field) in cases {
        let err = Manifest::parse(bad.as_bytes()).unwrap_err();
        let shown = err.to_string();
        match err {
            ManifestError::Invalid { field: f, .. } => assert_eq!(f, field, "{shown}"),
            ManifestError::Syntax(s) => assert!(s.contains("origin"), "{field}: {s}"),
            other => panic!("{field}: {other}"),
        }
    }
}

#[test]
fn oversized_and_non_utf8_manifests_are_refused() {
    let big = vec![b'#'; MAX_MANIFEST_BYTES + 1];
    assert_eq!(
        Manifest::parse(&big),
        Err(ManifestError::TooLarge(big.len()))
    );
    assert_eq!(Manifest::parse(&[0xff, 0xfe]), Err(ManifestError::NotUtf8));
}

#[test]
fn secret_headers_are_http_tokens_never_echoed_ones_and_need_an_origin() {
    let with = |headers: &str, send_to: &str| {
        format!(
            "{GOOD}\n[[http]]\norigin = \"https://api.example.com\"\nreason = \"x\"\n\n\
             [[secrets]]\nname = \"k\"\nreason = \"y\"\nsend_to = [{send_to}]\nheaders = [{headers}]\n"
        )
    };
    let origin = "\"https://api.example.com\"";
    let m = Manifest::parse(with("\"X-Api-Key\"", origin).as_bytes()).unwrap();
    assert_eq!(m.secrets[0].headers, ["X-Api-Key"]);
    for (headers, send_to, says) in [
        ("\"X Api\"", origin, "HTTP header name"),
        ("\"\"", origin, "HTTP header name"),
        ("\"Idempotency-Key\"", origin, "echoed"),
        ("\"Host\"", origin, "echoed"),
        ("\"x-a\", \"X-A\"", origin, "listed twice"),
        ("\"a\", \"b\", \"c\", \"d\", \"e\"", origin, "at most 4"),
        ("\"X-Api-Key\"", "", "send_to"),
    ] {
        let text = with(headers, send_to);
        let err = Manifest::parse(text.as_bytes()).unwrap_err();
        let shown = err.to_string();
        assert!(shown.contains(says), "{headers}: {shown}");
        assert!(field_of(err).starts_with("secrets[0].headers"), "{headers}");
    }
}
