//! Shared pieces of the fuzz targets: a valid manifest to attach to generated components, and
//! the invariants every rendered prompt must keep.

use airlock_host::prompt::{Language, Prompt};

/// A manifest the host accepts, so a generated component gets past the manifest checks and
/// its bytes reach compilation and the import check.
pub const MANIFEST: &str = r#"id = "fuzz.component"
name = "Fuzz"
publisher = "Fuzz"
version = "1.0.0"
kind = "analytics"

[[scopes.optional]]
scope = "orders:read"
reason = "fuzzing"
"#;

/// Render `prompt` in every language and check what the merchant sees: no control characters
/// but line breaks, and exactly one host-written list line per scope, topic, origin and key
/// (publisher text can never add a line that looks like the host's).
pub fn check_prompt(manifest: &airlock_host::manifest::Manifest) {
    for language in Language::ALL {
        let prompt = Prompt::for_manifest(manifest, language);
        let text = prompt.render();
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "control character in {text:?}"
        );
        let listed = text.lines().filter(|l| l.starts_with("  - ")).count();
        let expected = prompt.required.len()
            + prompt.optional.len()
            + prompt.events.len()
            + prompt.connects_to.len()
            + prompt.keys.len();
        assert_eq!(listed, expected, "forged list line in:\n{text}");
    }
}
