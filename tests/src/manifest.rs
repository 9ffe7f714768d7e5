//! The one way tests write a connector manifest (`airlock.toml`) by hand: a builder that
//! renders the TOML, and attaches it to the bare test component when a test needs an artifact.
//!
//! ```text
//! let toml = ManifestBuilder::new("acme.sync")
//!     .required(Scope::OrdersRead)
//!     .http("https://api.partner.example")
//!     .secret("partner_key", "https://api.partner.example")
//!     .to_toml();
//! ```
//! Scopes and kinds are written as given (`impl Display`), so a test can also write ones the
//! host must refuse (`"orders:delete"`, `"casino"`).

use std::fmt::Display;

use airlock_host::artifact::with_manifest;

use crate::{plugins, wasm};

/// The reason every entry gets unless [`ManifestBuilder::reason`] says otherwise.
const DEFAULT_REASON: &str = "test";

/// One `[[...]]` entry: a scope, an origin or a secret.
#[derive(Debug, Clone)]
enum Entry {
    Required(String),
    Optional(String),
    Http(String),
    Secret { name: String, send_to: String },
}

/// A connector manifest being written.
#[derive(Debug, Clone)]
#[must_use]
pub struct ManifestBuilder {
    id: String,
    name: String,
    publisher: String,
    version: String,
    kind: String,
    events: Vec<String>,
    entries: Vec<(Entry, String)>,
}

impl ManifestBuilder {
    /// A manifest for connector `id`, named `id`, by publisher "Acme", version 1.0.0, kind
    /// `ads`, asking for nothing.
    pub fn new(id: &str) -> ManifestBuilder {
        ManifestBuilder {
            id: id.to_owned(),
            name: id.to_owned(),
            publisher: "Acme".into(),
            version: "1.0.0".into(),
            kind: "ads".into(),
            events: Vec::new(),
            entries: Vec::new(),
        }
    }

    /// The display name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.to_owned();
        self
    }

    /// The publisher.
    pub fn publisher(mut self, publisher: &str) -> Self {
        self.publisher = publisher.to_owned();
        self
    }

    /// The version.
    pub fn version(mut self, version: &str) -> Self {
        self.version = version.to_owned();
        self
    }

    /// The kind (`payment`, `ads`, ...).
    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = kind.to_owned();
        self
    }

    /// One more topic in `events`.
    pub fn event(mut self, topic: &str) -> Self {
        self.events.push(topic.to_owned());
        self
    }

    /// A `[[scopes.required]]` entry.
    pub fn required(self, scope: impl Display) -> Self {
        self.entry(Entry::Required(scope.to_string()))
    }

    /// A `[[scopes.optional]]` entry.
    pub fn optional(self, scope: impl Display) -> Self {
        self.entry(Entry::Optional(scope.to_string()))
    }

    /// An `[[http]]` entry for `origin`.
    pub fn http(self, origin: &str) -> Self {
        self.entry(Entry::Http(origin.to_owned()))
    }

    /// A `[[secrets]]` entry for `name`, attached to requests to `send_to`.
    pub fn secret(self, name: &str, send_to: &str) -> Self {
        self.entry(Entry::Secret {
            name: name.to_owned(),
            send_to: send_to.to_owned(),
        })
    }

    /// The reason of the entry added last (default: "test").
    ///
    /// # Panics
    /// When no scope, origin or secret has been added yet.
    pub fn reason(mut self, reason: &str) -> Self {
        let (_, last) = self
            .entries
            .last_mut()
            .expect("reason() follows required(), optional(), http() or secret()");
        *last = reason.to_owned();
        self
    }

    fn entry(mut self, entry: Entry) -> Self {
        self.entries.push((entry, DEFAULT_REASON.to_owned()));
        self
    }

    /// The manifest as TOML: the fields, `events`, then required and optional scopes, origins
    /// and secrets, each group in the order added.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for (key, value) in [
            ("id", &self.id),
            ("name", &self.name),
            ("publisher", &self.publisher),
            ("version", &self.version),
            ("kind", &self.kind),
        ] {
            out.push_str(&format!("{key} = {}\n", quoted(value)));
        }
        if !self.events.is_empty() {
            let events: Vec<String> = self.events.iter().map(|e| quoted(e)).collect();
            out.push_str(&format!("events = [{}]\n", events.join(", ")));
        }
        let group = |keep: fn(&Entry) -> bool| self.entries.iter().filter(move |(e, _)| keep(e));
        let groups = [
            group(|e| matches!(e, Entry::Required(_))),
            group(|e| matches!(e, Entry::Optional(_))),
            group(|e| matches!(e, Entry::Http(_))),
            group(|e| matches!(e, Entry::Secret { .. })),
        ];
        for entries in groups {
            for (entry, reason) in entries {
                out.push_str(&render(entry, reason));
            }
        }
        out
    }

    /// The bare test component (`tests/plugins/no-manifest`) carrying this manifest.
    pub fn artifact(&self) -> Vec<u8> {
        with_manifest(&wasm(plugins::NO_MANIFEST), self.to_toml().as_bytes())
    }
}

fn render(entry: &Entry, reason: &str) -> String {
    let reason = quoted(reason);
    match entry {
        Entry::Required(scope) | Entry::Optional(scope) => {
            let list = if matches!(entry, Entry::Required(_)) {
                "required"
            } else {
                "optional"
            };
            format!(
                "[[scopes.{list}]]\nscope = {}\nreason = {reason}\n",
                quoted(scope)
            )
        }
        Entry::Http(origin) => {
            format!("[[http]]\norigin = {}\nreason = {reason}\n", quoted(origin))
        }
        Entry::Secret { name, send_to } => format!(
            "[[secrets]]\nname = {}\nreason = {reason}\nsend_to = [{}]\n",
            quoted(name),
            quoted(send_to)
        ),
    }
}

/// A TOML basic string.
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    use super::ManifestBuilder;

    #[test]
    fn manifests_render_as_hand_written_ones() {
        let toml = ManifestBuilder::new("acme.sync")
            .name("Sync")
            .kind("marketplace")
            .optional("customers:read")
            .reason("sync")
            .required("orders:read")
            .http("https://api.partner.example")
            .secret("partner_key", "https://api.partner.example")
            .reason("partner key")
            .to_toml();
        assert_eq!(
            toml,
            "id = \"acme.sync\"\nname = \"Sync\"\npublisher = \"Acme\"\nversion = \"1.0.0\"\nkind = \"marketplace\"\n\
             [[scopes.required]]\nscope = \"orders:read\"\nreason = \"test\"\n\
             [[scopes.optional]]\nscope = \"customers:read\"\nreason = \"sync\"\n\
             [[http]]\norigin = \"https://api.partner.example\"\nreason = \"test\"\n\
             [[secrets]]\nname = \"partner_key\"\nreason = \"partner key\"\nsend_to = [\"https://api.partner.example\"]\n"
        );
    }
}
