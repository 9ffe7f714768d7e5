//! `app.installed` and `app.uninstalled`: written in the install's and the uninstall's own
//! transaction (a refused install writes none), delivered to the merchant's other apps that
//! subscribe to them (no scope needed: they carry only a connector id), never to the app the
//! event is about, and never to another merchant's apps.

use airlock_host::ids::MerchantId;
use airlock_host::manifest::Topic;
use airlock_host::outbox::DeliveryFilter;
use airlock_host::{DispatchOptions, Host};
use airlock_tests::{ManifestBuilder, TestDb, TestHost, approve_what_waits};

async fn install(
    host: &Host,
    merchant: &MerchantId,
    id: &str,
) -> Result<String, airlock_host::Error> {
    let artifact = ManifestBuilder::new(id)
        .event("app.installed")
        .event("app.uninstalled")
        .artifact();
    let installed = host.install(merchant, &artifact, "test").await?;
    let key = installed.installation.id.to_string();
    approve_what_waits(host, merchant, &key, &[], "test").await?;
    Ok(key)
}

/// Every delivery of `merchant`'s installation `key`, as (topic, subject), sorted.
async fn told(host: &Host, merchant: &MerchantId, key: &str) -> Vec<(String, String)> {
    let filter = DeliveryFilter {
        installation: Some(airlock_host::ids::InstallationId::new(key)),
        ..DeliveryFilter::default()
    };
    let list = host.deliveries(merchant, &filter, 100).await.unwrap();
    let mut told: Vec<(String, String)> = list
        .into_iter()
        .map(|d| (d.event.topic.to_string(), d.event.subject_id))
        .collect();
    told.sort();
    told
}

async fn deliver_all(host: &Host) {
    while !host
        .dispatch_once(&DispatchOptions::default())
        .await
        .unwrap()
        .idle()
    {}
}

#[tokio::test]
async fn other_apps_hear_of_an_app_coming_and_going_the_app_itself_never() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let (shop, other) = (MerchantId::new("app-events"), MerchantId::new("elsewhere"));
        host.put_plan("two", "Two", 2).await.unwrap();
        for m in [&shop, &other] {
            host.put_merchant(m, m.as_str(), "two").await.unwrap();
        }
        let watcher = install(&host, &shop, "test.watcher").await.unwrap();
        let outsider = install(&host, &other, "test.outsider").await.unwrap();
        deliver_all(&host).await;
        // The watcher's own arrival is not news to it.
        assert_eq!(told(&host, &shop, &watcher).await, []);

        let newcomer = install(&host, &shop, "test.newcomer").await.unwrap();
        // The plan has two slots: a third install is refused and writes no event.
        let refused = install(&host, &shop, "test.third").await.unwrap_err();
        assert!(
            refused.to_string().contains("allows 2 connected app"),
            "{refused}"
        );
        host.uninstall(&shop, &newcomer, "test").await.unwrap();
        deliver_all(&host).await;

        assert_eq!(
            told(&host, &shop, &watcher).await,
            [
                (Topic::AppInstalled.to_string(), "test.newcomer".to_owned()),
                (
                    Topic::AppUninstalled.to_string(),
                    "test.newcomer".to_owned()
                ),
            ]
        );
        // Another merchant's app hears nothing of this store.
        assert_eq!(told(&host, &other, &outsider).await, []);
        db.finish().await;
    }
}
