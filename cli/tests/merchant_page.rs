//! The merchant page in a real browser: the `airlock` binary serves it (`serve --listen`) on a
//! fresh SQLite store seeded like the demo, and headless Debian `chromium` driven through
//! `chromium-driver` (WebDriver, via fantoccini) signs in with a merchant token, approves a
//! prompt choosing one optional scope, stops sharing that scope, replaces an API key and
//! disconnects the app. After each step the database, read through `airlock --json`, must say
//! what the page said. A connector whose manifest name is `<script>alert(1)</script>` must
//! render as text. Screenshots go to `target/tmp/merchant-page/`; with
//! `AIRLOCK_UPDATE_SCREENSHOT=1` the approval screen is also copied to
//! `docs/merchant-page.png` (the README's).
//!
//! The browser and driver are installed with `apt-get install -y chromium chromium-driver`
//! when missing. If that is impossible the test skips with a note, unless `CI` is set: then it
//! fails.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use airlock_tests::ManifestBuilder;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::Value;

use common::{Running, SHIP_ON_PAYMENT_WASM, command, serve_listening, text};

/// The example WhatsApp order notifier (two optional scopes), built by this crate's build script.
const ORDER_NOTIFIER_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/order_notifier.wasm"));
/// A vault key for the test's secrets (the binary refuses secrets without one).
const VAULT_KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const HOSTILE_NAME: &str = "<script>alert(1)</script>";

fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

fn runs(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// True when chromium and chromedriver run, installing them with apt first if they do not.
/// Outside CI a failed install skips the test with a note; in CI it fails it.
fn browser_present() -> bool {
    if runs("chromium") && runs("chromedriver") {
        return true;
    }
    eprintln!("note: installing chromium and chromium-driver with apt-get");
    let installed = Command::new("apt-get")
        .args(["install", "-y", "chromium", "chromium-driver"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success())
        || (Command::new("apt-get")
            .arg("update")
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("apt-get")
                .args(["install", "-y", "chromium", "chromium-driver"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success()));
    let present = installed && runs("chromium") && runs("chromedriver");
    if !present {
        assert!(
            !in_ci(),
            "chromium and chromium-driver are required in CI (CI is set)"
        );
        eprintln!("note: chromium or chromedriver is missing and could not be installed; skipping");
    }
    present
}

/// `airlock` with the test's vault key.
fn airlock(args: &[&str]) -> std::process::Output {
    command(args)
        .env("AIRLOCK_VAULT_KEY", VAULT_KEY)
        .output()
        .expect("run airlock")
}

/// `airlock … --json`, parsed; the command must succeed.
fn json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = airlock(&all);
    assert!(
        out.status.success(),
        "airlock {args:?}: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Start chromedriver on a free port and wait until it answers.
fn chromedriver() -> (Running, String) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    (Running(child), format!("http://127.0.0.1:{port}"))
}

async fn browser(driver: &str) -> Client {
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1100,1500", "--lang=en"]
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver)
        .await
        .expect("connect to chromedriver")
}

/// Where screenshots go.
fn shots() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("merchant-page/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) -> PathBuf {
    let path = shots().join(format!("{name}.png"));
    std::fs::write(&path, c.screenshot().await.unwrap()).unwrap();
    path
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Clicks what loads another page (a link or a form's button) and waits until the page it
/// was on is gone: a click returns once the request is sent, so without this the next lookup
/// can find the old page's notice, which then goes stale under it (seen in CI).
async fn navigate(c: &Client, css: &str) {
    let before = c.find(Locator::Css("html")).await.unwrap();
    click(c, css).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match before.tag_name().await {
            Err(e) if e.is_stale_element_reference() => return,
            Err(e) => panic!("after clicking {css}: {e}"),
            Ok(_) if std::time::Instant::now() > deadline => {
                panic!("clicking {css} did not load another page in 20 s")
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn type_into(c: &Client, css: &str, value: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(value)
        .await
        .unwrap();
}

/// The text of the one-shot notice on this page.
async fn notice(c: &Client) -> String {
    // The click returns when the POST is sent; wait for the page it redirects to.
    let found = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id("flash"))
        .await;
    match found {
        Ok(found) => found.text().await.unwrap(),
        Err(e) => panic!(
            "no notice at {} ({e}); the page: {}",
            c.current_url().await.unwrap(),
            c.source().await.unwrap_or_default()
        ),
    }
}

/// The element with id `id` says `words` (waiting for it: a click returns when the form is
/// sent, not when the next page has loaded).
async fn element_says(c: &Client, id: &str, words: &str) {
    let found = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::Id(id))
        .await;
    let found = found.unwrap_or_else(|e| panic!("no #{id} ({e})"));
    let said = found.text().await.unwrap();
    assert!(said.contains(words), "expected `{words}` in #{id}: {said}");
}

/// The notice on this page says `words`.
async fn says(c: &Client, words: &str) {
    let said = notice(c).await;
    assert!(
        said.contains(words),
        "expected `{words}` in the notice: {said}"
    );
}

/// The installation of `connector` as `airlock list` shows it, if installed.
fn installation(db: &str, connector: &str) -> Option<Value> {
    json(&["list", "--db", db, "--merchant", "demo-store"])
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["connector"] == connector)
        .cloned()
}

fn effective(app: &Value) -> Vec<String> {
    app["effective"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

fn install(db: &str, dir: &Path, name: &str, bytes: &[u8]) -> Value {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    json(&[
        "install",
        "--db",
        db,
        "--merchant",
        "demo-store",
        path.to_str().unwrap(),
    ])
}

/// The seeded store: the notifier pending (its prompt offers two optional scopes), the
/// pay-then-ship app approved with its gateway key set, and the hostile-named app pending.
fn seed(db: &str, dir: &Path) {
    let out = airlock(&["init", "--db", db]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    install(db, dir, "notifier.wasm", ORDER_NOTIFIER_WASM);
    let ship = install(db, dir, "ship.wasm", SHIP_ON_PAYMENT_WASM);
    let digest = ship["installation"]["digest"].as_str().unwrap().to_owned();
    json(&[
        "approve",
        "--db",
        db,
        "--merchant",
        "demo-store",
        "acme.ship-on-payment",
        "--digest",
        &digest,
        "--by",
        "setup",
    ]);
    let mut set = command(&[
        "secrets",
        "set",
        "--db",
        db,
        "--merchant",
        "demo-store",
        "acme.ship-on-payment",
        "gateway_key",
    ])
    .env("AIRLOCK_VAULT_KEY", VAULT_KEY)
    .stdin(Stdio::piped())
    .stdout(Stdio::null())
    .spawn()
    .unwrap();
    set.stdin
        .take()
        .unwrap()
        .write_all(b"gw-first-value-0001")
        .unwrap();
    assert!(set.wait().unwrap().success());
    let hostile = ManifestBuilder::new("evil.app")
        .name(HOSTILE_NAME)
        .publisher("<b>Evil</b> & Co")
        .required("orders:read")
        .artifact();
    install(db, dir, "evil.wasm", &hostile);
}

fn gateway_key(db: &str) -> Value {
    json(&[
        "secrets",
        "list",
        "--db",
        db,
        "--merchant",
        "demo-store",
        "acme.ship-on-payment",
    ])
    .as_array()
    .unwrap()
    .iter()
    .find(|s| s["name"] == "gateway_key")
    .cloned()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_approves_revokes_rotates_and_disconnects_in_a_real_browser() {
    if !browser_present() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("page.db").display());
    seed(&db, dir.path());
    let merchant_token = json(&[
        "tokens",
        "create",
        "--db",
        &db,
        "--merchant",
        "demo-store",
        "--label",
        "page",
    ]);
    let platform_token = json(&["tokens", "create", "--db", &db, "--label", "ops"]);
    let (_serve, base) = serve_listening(&db, &[], &[("AIRLOCK_VAULT_KEY", VAULT_KEY)]);
    let (_driver, driver_url) = chromedriver();
    let c = browser(&driver_url).await;
    let result = drive(&c, &db, &base, &merchant_token, &platform_token).await;
    let _ = c.close().await;
    result.unwrap();
}

async fn drive(
    c: &Client,
    db: &str,
    base: &str,
    merchant: &Value,
    platform: &Value,
) -> Result<(), String> {
    // A platform token does not open the page.
    c.goto(&format!("{base}/m/signin")).await.unwrap();
    type_into(c, "#token", platform["secret"].as_str().unwrap()).await;
    navigate(c, "#sign-in").await;
    element_says(c, "signin-notice", "platform token").await;

    // The merchant token does.
    type_into(c, "#token", merchant["secret"].as_str().unwrap()).await;
    navigate(c, "#sign-in").await;
    element_says(c, "slots", "3 of 3 app slots used").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/m/apps");

    // The hostile name is text: escaped in the source, no script element, no alert.
    let source = c.source().await.unwrap();
    assert!(
        source.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "the name is not escaped"
    );
    assert!(
        c.find_all(Locator::Css("script")).await.unwrap().is_empty(),
        "a script element rendered"
    );
    assert!(c.get_alert_text().await.is_err(), "an alert opened");
    shot(c, "1-apps").await;

    // Approve the notifier with one of its two optional scopes.
    let notifier = installation(db, "airlock.order-notifier").unwrap();
    let id = notifier["id"].as_str().unwrap().to_owned();
    navigate(c, &format!("#open-{}", id.replace('_', "-"))).await;
    let digest = c
        .find(Locator::Id("digest"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        digest,
        notifier["digest"].as_str().unwrap(),
        "the page names the digest waiting"
    );
    click(c, "#opt-customers-read-contact").await;
    let section = c.find(Locator::Css("section.prompt")).await.unwrap();
    let prompt = shots().join("2-prompt.png");
    std::fs::write(&prompt, section.screenshot().await.unwrap()).unwrap();
    if std::env::var("AIRLOCK_UPDATE_SCREENSHOT").is_ok_and(|v| v == "1") {
        let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/merchant-page.png");
        std::fs::copy(&prompt, docs).unwrap();
    }
    navigate(c, "#approve").await;
    says(c, "Approved").await;
    let now = installation(db, "airlock.order-notifier").unwrap();
    assert_eq!(now["status"], "active");
    let granted = effective(&now);
    assert!(
        granted.contains(&"customers:read-contact".to_owned()),
        "{granted:?}"
    );
    assert!(
        !granted.contains(&"inventory:read".to_owned()),
        "{granted:?}"
    );
    // Its access report flags the new scope as approved but unused, with a revoke button,
    // and offers the report as CSV and JSON.
    element_says(c, "report-h", "What this app accessed").await;
    c.find(Locator::Id("revoke-unused-customers-read-contact"))
        .await
        .unwrap();
    c.find(Locator::Css("a[href$='/access.csv']"))
        .await
        .unwrap();
    shot(c, "3-approved").await;

    // Stop sharing that scope.
    navigate(c, "#revoke-customers-read-contact").await;
    says(c, "can no longer use customers:read-contact").await;
    let granted = effective(&installation(db, "airlock.order-notifier").unwrap());
    assert!(
        !granted.contains(&"customers:read-contact".to_owned()),
        "{granted:?}"
    );
    assert!(
        c.find_all(Locator::Id("scope-customers-read-contact"))
            .await
            .unwrap()
            .is_empty()
    );

    // Replace the payment gateway key on the other app.
    let before = gateway_key(db);
    let ship = installation(db, "acme.ship-on-payment").unwrap();
    c.goto(&format!("{base}/m/apps/{}", ship["id"].as_str().unwrap()))
        .await
        .unwrap();
    let new_value = "gw-rotated-value-0002";
    type_into(c, "#key-gateway-key", new_value).await;
    navigate(c, "#save-key-gateway-key").await;
    says(c, "Saved the new value of gateway_key").await;
    assert!(
        !c.source().await.unwrap().contains(new_value),
        "the key's value was echoed"
    );
    let after = gateway_key(db);
    assert_eq!(after["rotated_by"], "merchant:demo-store (page)");
    assert!(after["rotated_at"].as_i64() >= before["rotated_at"].as_i64());
    assert_eq!(after["problem"], Value::Null);
    shot(c, "4-key").await;

    // Disconnect the notifier, through its confirmation step.
    c.goto(&format!("{base}/m/apps/{id}")).await.unwrap();
    navigate(c, "#disconnect").await;
    navigate(c, "#confirm").await;
    says(c, "Its slot is free now: 2 of 3 used").await;
    assert!(
        installation(db, "airlock.order-notifier").is_none(),
        "still installed"
    );
    assert!(
        c.find(Locator::Id("slots"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("2 of 3 app slots used, 1 free")
    );
    shot(c, "5-disconnected").await;

    // A revoked token ends its session at the next request.
    let out = airlock(&[
        "tokens",
        "revoke",
        "--db",
        db,
        merchant["id"].as_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    c.goto(&format!("{base}/m/apps")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/m/signin");
    element_says(c, "signin-notice", "signed out").await;
    Ok(())
}
