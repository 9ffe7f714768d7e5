//! Publisher text reaching the prompt: arbitrary names, publishers and reasons (control
//! characters, bidi marks, fake list lines, `{placeholders}`) with every scope, topic,
//! origin and key shape, rendered in every language. The manifest is built directly, without
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
    let manifest = Manifest {
        id: "fuzz.prompt".into(),
        name: input.name,
        publisher: input.publisher,
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
                readable,
            })
            .collect(),
    };
    airlock_fuzz::check_prompt(&manifest);
});
