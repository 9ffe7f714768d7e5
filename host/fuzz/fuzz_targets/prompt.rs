//! Publisher text reaching the prompt: arbitrary names, publishers and reasons (control
//! characters, bidi overrides and isolates, zero-width characters, line separators, quotes,
//! fake list lines, `{placeholders}`) with every scope, topic, origin and key shape, rendered
//! in every language. The manifest is built directly, without
//! validation, so the renderer is tested on inputs validation would refuse too.
#![no_main]

use airlock_host::grants::Scope;
use airlock_host::manifest::{
    ConnectorKind, HttpRequest, Manifest, Origin, ScopeRequest, ScopeRequests, SecretRequest,
};
use airlock_host::topics::Topic;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    name: String,
    publisher: String,
    version: String,
    required: Vec<(u8, String)>,
    optional: Vec<(u8, String)>,
    events: Vec<u8>,
    origins: Vec<(u16, String)>,
    keys: Vec<(String, String, bool)>,
    /// Characters to splice into the name, publisher and reasons, picked from the ones that
    /// spoof (random strings rarely hold them).
    spice: Vec<(u8, u8)>,
}

/// What spoofs a reader: bidi overrides, isolates and marks, zero-width characters, line
/// separators, terminal escapes, and the quotes Airlock puts around publisher text.
const SPICE: [char; 20] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
    '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200D}',
    '\u{FEFF}', '\u{2028}', '\u{2029}', '\u{1b}', '"', '\u{201D}',
];

/// `text` with each `(at, which)` of `spice` inserted (at a char boundary).
fn spiced(mut text: String, spice: &[(u8, u8)]) -> String {
    for (at, which) in spice {
        let c = SPICE[usize::from(*which) % SPICE.len()];
        let at = text
            .char_indices()
            .map(|(i, _)| i)
            .nth(usize::from(*at))
            .unwrap_or(text.len());
        text.insert(at, c);
    }
    text
}

fuzz_target!(|input: Input| {
    let scope = |n: u8| Scope::ALL[usize::from(n) % Scope::ALL.len()];
    let request = |(n, reason): (u8, String)| ScopeRequest {
        scope: scope(n),
        reason,
    };
    let origin = |port: u16| {
        Origin::parse(&format!("https://api.example.com:{}", port.max(1))).expect("valid origin")
    };
    let spice = input.spice.as_slice();
    let request = |(n, reason): (u8, String)| request((n, spiced(reason, spice)));
    let manifest = Manifest {
        id: "fuzz.prompt".into(),
        name: spiced(input.name, spice),
        publisher: spiced(input.publisher, spice),
        version: input.version,
        kind: ConnectorKind::Payment,
        description: String::new(),
        scopes: ScopeRequests {
            required: input.required.into_iter().map(request).collect(),
            optional: input.optional.into_iter().map(request).collect(),
        },
        events: input
            .events
            .into_iter()
            .map(|n| Topic::ALL[usize::from(n) % Topic::ALL.len()])
            .collect(),
        http: input
            .origins
            .iter()
            .map(|(port, reason)| HttpRequest {
                origin: origin(*port),
                reason: reason.clone(),
            })
            .collect(),
        secrets: input
            .keys
            .into_iter()
            .map(|(name, reason, readable)| SecretRequest {
                name,
                reason,
                send_to: vec![origin(443)],
                headers: vec![],
                readable,
            })
            .collect(),
    };
    airlock_fuzz::check_prompt(&manifest);
});
