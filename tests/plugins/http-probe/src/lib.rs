//! HTTP probe: runs the commands in the event's subject id (`;`-separated) and reports what
//! happened, so tests see exactly what the host allowed. Several commands are hostile on
//! purpose: calling unapproved origins, following redirects anywhere, sending a key to the
//! wrong origin, and trying to leak a key through logs, the summary and errors.
//!
//! Commands: `get URL [SECRET]` (SECRET attached as a bearer token), `follow URL` (GET, then
//! GET the `location` of a redirect), `read NAME`, `leak NAME` (read it, then log it,
//! encoded several ways, and return it in the summary), `leak-error NAME` (return it in an
//! error), `fail URL` (GET with `attach_only`, then `?` the status into a connector error),
//! `in-origin URL NAME` (a key in the Origin header), `in-header URL HEADER NAME` (a key in
//! any header), `headers URL NAME` (the x- headers of the answer to a request carrying the
//! key), `headers-reversed URL NAME` (the same, each value reversed, so the report's own
//! redaction cannot hide what the connector saw), `spam URL N` (N requests in a loop).

use airlock_sdk::http::{self, Request};
use airlock_sdk::{Connector, ConnectorError, Event, Outcome, log, secrets};

struct HttpProbe;

fn get(url: &str, secret: Option<&str>) -> String {
    let mut request = Request::get(url);
    if let Some(name) = secret {
        request = request.header("authorization", &format!("Bearer {}", http::secret(name)));
    }
    match request.send() {
        Ok(response) => format!("status {} {}", response.status, response.text()),
        Err(err) => format!("error {err:?}"),
    }
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn one(command: &str) -> Result<String, ConnectorError> {
    let words: Vec<&str> = command.split(' ').collect();
    let arg = |i: usize| words.get(i).copied().unwrap_or("");
    Ok(match arg(0) {
        "get" => get(arg(1), (!arg(2).is_empty()).then(|| arg(2))),
        "follow" => match Request::get(arg(1)).send() {
            Ok(first) if (300..400).contains(&first.status) => {
                let location = first.header("location").unwrap_or("").to_owned();
                format!("redirected; then {}", get(&location, None))
            }
            Ok(first) => format!("status {}", first.status),
            Err(err) => format!("error {err:?}"),
        },
        "in-origin" => match Request::get(arg(1))
            .header("origin", &http::secret(arg(2)))
            .send()
        {
            Ok(response) => format!("status {}", response.status),
            Err(err) => format!("error {err:?}"),
        },
        "in-header" => match Request::get(arg(1))
            .header(arg(2), &http::secret(arg(3)))
            .send()
        {
            Ok(response) => format!("status {}", response.status),
            Err(err) => format!("error {err:?}"),
        },
        "headers" => match Request::get(arg(1))
            .header("authorization", &format!("Bearer {}", http::secret(arg(2))))
            .send()
        {
            Ok(response) => response
                .headers
                .iter()
                .filter(|(name, _)| name.starts_with("x-"))
                .map(|(name, value)| format!("{name}={}", String::from_utf8_lossy(value)))
                .collect::<Vec<_>>()
                .join(","),
            Err(err) => format!("error {err:?}"),
        },
        "headers-reversed" => match Request::get(arg(1))
            .header("authorization", &format!("Bearer {}", http::secret(arg(2))))
            .send()
        {
            Ok(response) => response
                .headers
                .iter()
                .filter(|(name, _)| name.starts_with("x-"))
                .map(|(name, value)| {
                    let reversed: Vec<u8> = value.iter().rev().copied().collect();
                    format!("{name}={}", String::from_utf8_lossy(&reversed))
                })
                .collect::<Vec<_>>()
                .join(","),
            Err(err) => format!("error {err:?}"),
        },
        "spam" => {
            let count: u32 = arg(2).parse().unwrap_or(1000);
            let refused = (0..count)
                .filter(|_| Request::get(arg(1)).send().is_err())
                .count();
            format!("{refused} refused")
        }
        // A key placeholder under a made-up header name `x-aaa…` of N bytes.
        "long-header" => {
            let name = format!("x-{}", "a".repeat(arg(2).parse().unwrap_or(65_000)));
            match Request::get(arg(1))
                .header(&name, &http::secret("api_key"))
                .send()
            {
                Ok(response) => format!("status {}", response.status),
                Err(err) => format!("error {err:?}"),
            }
        }
        "read" => match secrets::get(arg(1)) {
            Ok(value) => format!("read {} bytes", value.len()),
            Err(err) => format!("error {err:?}"),
        },
        "leak" => {
            let value = secrets::get(arg(1))?;
            log::info(&format!("the key is {value}"));
            log::warn(&format!("base64 {}", base64(value.as_bytes())));
            log::error(&format!(
                "shifted {}",
                base64(format!("k={value}").as_bytes())
            ));
            log::info(&format!(
                "url {}",
                value.replace('/', "%2F").replace('+', "%2B")
            ));
            format!("summary carries {value}")
        }
        "leak-error" => {
            let value = secrets::get(arg(1))?;
            return Err(ConnectorError::Other(format!("failed with key {value}")));
        }
        "fail" => {
            Request::get(arg(1))
                .header(
                    "authorization",
                    &format!("Bearer {}", http::secret("attach_only")),
                )
                .send()?
                .error_for_status()?;
            "ok".to_owned()
        }
        other => return Err(ConnectorError::Config(format!("unknown command {other}"))),
    })
}

impl Connector for HttpProbe {
    fn handle_event(event: Event) -> Result<Outcome, ConnectorError> {
        let answers = event
            .subject_id
            .split(';')
            .map(one)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Outcome::acted(answers.join(" | ")))
    }
}

airlock_sdk::export!(HttpProbe, manifest = "../airlock.toml");
