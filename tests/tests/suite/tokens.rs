//! API tokens on both backends: a platform token stands for everything, a merchant token for
//! its merchant alone; secrets are shown once and stored only hashed; a revoked or rotated-out
//! secret is refused at once; a token for a merchant that does not exist is never made.

use airlock_host::Error;
use airlock_host::ids::MerchantId;
use airlock_host::tokens::Principal;
use airlock_tests::{TestDb, TestHost, demo_store};
use sqlx::Row;

#[tokio::test]
async fn tokens_stand_for_their_holder_until_revoked_or_rotated() {
    for db in TestDb::all().await {
        let host = TestHost::new(&db).build().await;
        let platform = host
            .create_token(None, "ops console", "test")
            .await
            .unwrap();
        let shop = host
            .create_token(Some(&demo_store()), "demo store page", "test")
            .await
            .unwrap();
        assert_eq!(
            host.authenticate(&platform.secret).await.unwrap(),
            Some(Principal::Platform)
        );
        let own = host.authenticate(&shop.secret).await.unwrap().unwrap();
        assert!(own.may_act_for(&demo_store()));
        assert!(!own.may_act_for(&MerchantId::new("other-store")));

        // Only a hash is stored: no column of any token row holds a secret.
        let rows = sqlx::query("SELECT * FROM api_tokens")
            .fetch_all(host.db().pool())
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        for row in &rows {
            for i in 0..row.len() {
                let value: Option<String> = row.try_get(i).unwrap_or(None);
                let value = value.unwrap_or_default();
                assert!(!value.contains(&platform.secret[4..]), "{value}");
                assert!(!value.contains(&shop.secret[4..]), "{value}");
            }
        }
        // Lists never carry a secret.
        let listed = serde_json::to_string(&host.tokens(None).await.unwrap()).unwrap();
        assert!(!listed.contains(&platform.secret) && !listed.contains(&shop.secret));

        // Rotation: the new secret works, the old one is refused, same holder and label.
        let rotated = host.rotate_token(&shop.info.id, "test").await.unwrap();
        assert_eq!(host.authenticate(&shop.secret).await.unwrap(), None);
        assert_eq!(
            host.authenticate(&rotated.secret).await.unwrap(),
            Some(Principal::Merchant {
                merchant: demo_store()
            })
        );
        assert_eq!(rotated.info.label, "demo store page");
        // A rotated-out token cannot be rotated again (that would revive its holder twice).
        assert!(matches!(
            host.rotate_token(&shop.info.id, "test").await,
            Err(Error::UnknownToken(_))
        ));

        // Two rotations at once make one new token, never two live ones.
        let (first, second) = tokio::join!(
            host.rotate_token(&rotated.info.id, "test"),
            host.rotate_token(&rotated.info.id, "test")
        );
        assert_eq!(
            usize::from(first.is_ok()) + usize::from(second.is_ok()),
            1,
            "rotations that succeeded: {} {}",
            first.is_ok(),
            second.is_ok()
        );
        let live = host.tokens(Some(&demo_store())).await.unwrap();
        assert_eq!(live.iter().filter(|t| t.revoked_at.is_none()).count(), 1);

        // Revocation: refused at once; revoking twice says so.
        host.revoke_token(&platform.info.id).await.unwrap();
        assert_eq!(host.authenticate(&platform.secret).await.unwrap(), None);
        assert!(matches!(
            host.revoke_token(&platform.info.id).await,
            Err(Error::UnknownToken(_))
        ));
        let demo_only = host.tokens(Some(&demo_store())).await.unwrap();
        assert_eq!(demo_only.len(), 3);
        assert_eq!(
            demo_only.iter().filter(|t| t.revoked_at.is_none()).count(),
            1
        );

        // Garbage, near misses and unknown merchants.
        for bad in ["", "alk_", "Bearer alk_00", &rotated.secret.to_uppercase()] {
            assert_eq!(host.authenticate(bad).await.unwrap(), None, "{bad}");
        }
        assert!(matches!(
            host.create_token(Some(&MerchantId::new("no-such-store")), "x", "test")
                .await,
            Err(Error::UnknownMerchant(_))
        ));
        assert!(matches!(
            host.create_token(None, " \n", "test").await,
            Err(Error::Token(_))
        ));
        db.finish().await;
    }
}
