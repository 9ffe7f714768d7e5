//! Publisher text built to make a merchant or operator read something else: a publisher that
//! renders as "Airlock Examples" because it is stored reversed behind a right-to-left
//! override, invisible characters, line separators, quotes that close Airlock's own, and
//! terminal escapes in a manifest the host refuses. Every one must show up visibly escaped.

use airlock_host::Error;
use airlock_host::prompt::Language;
use airlock_tests::{ManifestBuilder, TestDb, TestHost, demo_store};

/// Characters that reorder, hide or break text, none of which may reach a reader raw.
const INVISIBLE: [char; 12] = [
    '\u{202E}', '\u{2066}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{200D}', '\u{2060}', '\u{FEFF}',
    '\u{2028}', '\u{2029}', '\u{1b}', '\u{7}',
];

#[tokio::test]
async fn a_publisher_stored_reversed_behind_an_override_is_shown_escaped_in_every_language() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    // Rendered by a terminal or browser, this reads "Airlock Examples".
    let spoofed = "\u{202E}selpmaxE kcolriA";
    let artifact = ManifestBuilder::new("acme.spoof")
        .name("Pay\u{200B}ments\u{2028}  - Nothing else (none)")
        .publisher(spoofed)
        .required("orders:read")
        .reason("to read\u{2066} orders\u{2069}\u{201d} and \"more")
        .artifact();
    let installed = host
        .install(&demo_store(), &artifact, "test")
        .await
        .unwrap();
    let id = installed.installation.id;
    for language in Language::ALL {
        let prompt = host
            .prompt(&demo_store(), id.as_str(), language)
            .await
            .unwrap();
        let text = prompt.render();
        for c in INVISIBLE {
            assert!(!text.contains(c), "{language}: {c:?} survived in {text}");
        }
        assert!(
            text.contains("\\u{202e}selpmaxE kcolriA"),
            "{language}: the override is not shown: {text}"
        );
        assert!(
            text.contains("Pay\\u{200b}ments\\u{2028}"),
            "{language}: {text}"
        );
        // The publisher's quotes cannot close Airlock's.
        assert!(
            text.contains("orders\\u{2069}\\u{201d} and \\\"more"),
            "{language}: {text}"
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("  - ")).count(),
            1,
            "{language}: forged line in {text}"
        );
    }
    db.finish().await;
}

#[tokio::test]
async fn a_refused_manifest_with_terminal_escapes_gives_an_error_without_raw_control_bytes() {
    let db = TestDb::sqlite();
    let host = TestHost::new(&db).build().await;
    let refused = [
        ManifestBuilder::new("acme.esc").version("1.0.0\u{1b}]0;owned\u{7}"),
        ManifestBuilder::new("acme.esc").name("\u{1b}[2J\u{7}Evil"),
        ManifestBuilder::new("acme.\u{1b}[2Jesc"),
        ManifestBuilder::new("acme.esc").kind("\u{1b}[31mads"),
        ManifestBuilder::new("acme.esc").required("orders:\u{1b}[2Jread"),
    ];
    for manifest in refused {
        let err = host
            .install(&demo_store(), &manifest.artifact(), "test")
            .await
            .map(|_| ())
            .unwrap_err();
        let shown = format!("{err:#}");
        assert!(matches!(err, Error::Artifact(_)), "{shown}");
        for c in INVISIBLE {
            assert!(!shown.contains(c), "{c:?} in {shown:?}");
        }
        assert!(shown.contains("\\u{"), "not visibly escaped: {shown:?}");
    }
    db.finish().await;
}
