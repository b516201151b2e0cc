//! The idempotency-key contract: claiming, replaying, releasing and expiring keys, on
//! SQLite and on PostgreSQL with the same test bodies.

use std::future::Future;
use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use leadline_core::ManualClock;
use leadline_store::idempotency::{IDEMPOTENCY_KEY_TTL, KeyClaim, StoredAnswer};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store, StoreOptions};

/// Runs `body` against a fresh store of each backend, on a clock the test moves.
async fn on_both<F, Fut>(body: F)
where
    F: Fn(Store, Arc<ManualClock>) -> Fut,
    Fut: Future<Output = ()>,
{
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            continue;
        };
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2025, 3, 9, 12, 0, 0).unwrap(),
        ));
        let store = Store::open(&database.url, StoreOptions::default(), clock.clone())
            .await
            .unwrap_or_else(|e| panic!("{kind:?} store opens: {e}"));
        body(store.clone(), clock).await;
        store.close().await;
    }
}

fn answer(status: u16, body: &[u8]) -> StoredAnswer {
    StoredAnswer {
        status,
        content_type: Some("application/json".to_owned()),
        body: body.to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_claimed_once_then_replayed() {
    on_both(|store, _clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let claim = |fingerprint: &'static str| {
            let store = store.clone();
            async move {
                store
                    .claim_idempotency_key(workspace.id, "key-1", fingerprint)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim("fp-a").await, KeyClaim::Claimed);
        assert_eq!(claim("fp-a").await, KeyClaim::InProgress);
        assert_eq!(claim("fp-b").await, KeyClaim::Mismatch);

        // Bytes that are not UTF-8 come back unchanged.
        let stored = answer(201, b"{\"id\":1}\xff\x00");
        assert!(
            store
                .complete_idempotency_key(workspace.id, "key-1", "fp-a", &stored)
                .await
                .unwrap()
        );
        assert_eq!(claim("fp-a").await, KeyClaim::Replay(stored.clone()));
        assert_eq!(claim("fp-b").await, KeyClaim::Mismatch);
        // A completed key is neither completed again nor released.
        assert!(
            !store
                .complete_idempotency_key(workspace.id, "key-1", "fp-a", &answer(200, b"x"))
                .await
                .unwrap()
        );
        store
            .release_idempotency_key(workspace.id, "key-1", "fp-a")
            .await
            .unwrap();
        assert_eq!(claim("fp-a").await, KeyClaim::Replay(stored));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_content_type_or_body_is_kept() {
    on_both(|store, _clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        store
            .claim_idempotency_key(workspace.id, "k", "fp")
            .await
            .unwrap();
        let empty = StoredAnswer {
            status: 204,
            content_type: None,
            body: Vec::new(),
        };
        store
            .complete_idempotency_key(workspace.id, "k", "fp", &empty)
            .await
            .unwrap();
        assert_eq!(
            store
                .claim_idempotency_key(workspace.id, "k", "fp")
                .await
                .unwrap(),
            KeyClaim::Replay(empty)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_key_can_be_claimed_again() {
    on_both(|store, _clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let claim = || store.claim_idempotency_key(workspace.id, "retry-me", "fp");
        assert_eq!(claim().await.unwrap(), KeyClaim::Claimed);
        // Releasing with another fingerprint is not this claim's owner: nothing happens.
        store
            .release_idempotency_key(workspace.id, "retry-me", "other")
            .await
            .unwrap();
        assert_eq!(claim().await.unwrap(), KeyClaim::InProgress);
        store
            .release_idempotency_key(workspace.id, "retry-me", "fp")
            .await
            .unwrap();
        // After a release the old claim can store nothing.
        assert!(
            !store
                .complete_idempotency_key(workspace.id, "retry-me", "fp", &answer(201, b"{}"))
                .await
                .unwrap()
        );
        assert_eq!(claim().await.unwrap(), KeyClaim::Claimed);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_belong_to_their_workspace() {
    on_both(|store, _clock| async move {
        let (a, _) = store.create_workspace("A").await.unwrap();
        let (b, _) = store.create_workspace("B").await.unwrap();
        for workspace in [a.id, b.id] {
            assert_eq!(
                store
                    .claim_idempotency_key(workspace, "shared", "fp")
                    .await
                    .unwrap(),
                KeyClaim::Claimed
            );
        }
        store
            .complete_idempotency_key(a.id, "shared", "fp", &answer(201, b"a"))
            .await
            .unwrap();
        assert_eq!(
            store
                .claim_idempotency_key(b.id, "shared", "fp")
                .await
                .unwrap(),
            KeyClaim::InProgress
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_expire_after_the_ttl() {
    on_both(|store, clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let claim = |fingerprint: &'static str| {
            store.claim_idempotency_key(workspace.id, "daily", fingerprint)
        };
        assert_eq!(claim("fp-a").await.unwrap(), KeyClaim::Claimed);
        let stored = answer(201, b"first");
        store
            .complete_idempotency_key(workspace.id, "daily", "fp-a", &stored)
            .await
            .unwrap();
        clock.advance(IDEMPOTENCY_KEY_TTL);
        assert_eq!(claim("fp-a").await.unwrap(), KeyClaim::Replay(stored));
        clock.advance(TimeDelta::microseconds(1));
        // Expired: the key is free again, even for a different request.
        assert_eq!(claim("fp-b").await.unwrap(), KeyClaim::Claimed);
        assert_eq!(claim("fp-a").await.unwrap(), KeyClaim::Mismatch);

        // A claim that was never completed expires too.
        clock.advance(IDEMPOTENCY_KEY_TTL + TimeDelta::seconds(1));
        assert_eq!(claim("fp-a").await.unwrap(), KeyClaim::Claimed);
        // The expired claim's owner can no longer store its answer.
        assert!(
            !store
                .complete_idempotency_key(workspace.id, "daily", "fp-b", &answer(201, b"late"))
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_have_one_winner() {
    on_both(|store, _clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.spawn(async move {
                store
                    .claim_idempotency_key(workspace.id, "race", "fp")
                    .await
                    .unwrap()
            });
        }
        let mut claimed = 0;
        while let Some(outcome) = tasks.join_next().await {
            match outcome.unwrap() {
                KeyClaim::Claimed => claimed += 1,
                KeyClaim::InProgress => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(claimed, 1);
    })
    .await;
}
