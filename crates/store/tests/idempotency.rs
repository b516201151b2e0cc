//! The idempotency-key contract: claiming, replaying, releasing, taking over claims whose
//! request died, expiring and sweeping keys, on SQLite and on PostgreSQL with the same
//! test bodies.

use std::future::Future;
use std::sync::Arc;

use chrono::{TimeDelta, TimeZone, Utc};
use leadline_core::{Clock, ManualClock, WorkspaceId};
use leadline_store::idempotency::{ClaimToken, IDEMPOTENCY_KEY_TTL, KeyClaim, StoredAnswer};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store, StoreOptions};

/// How long a claim is held before another request may take it over, in these tests.
const TAKEOVER: TimeDelta = TimeDelta::seconds(90);

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

async fn claim(store: &Store, workspace: WorkspaceId, key: &str, fingerprint: &str) -> KeyClaim {
    store
        .claim_idempotency_key(workspace, key, fingerprint, TAKEOVER)
        .await
        .unwrap()
}

/// Claims a key that must be free, returning the claim's token.
async fn claimed(
    store: &Store,
    workspace: WorkspaceId,
    key: &str,
    fingerprint: &str,
) -> ClaimToken {
    match claim(store, workspace, key, fingerprint).await {
        KeyClaim::Claimed {
            token,
            took_over: false,
        } => token,
        other => panic!("expected a fresh claim of {key}, got {other:?}"),
    }
}

fn in_progress(claim: &KeyClaim) -> bool {
    matches!(claim, KeyClaim::InProgress { .. })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_claimed_once_then_replayed() {
    on_both(|store, clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let ws = workspace.id;
        let token = claimed(&store, ws, "key-1", "fp-a").await;
        assert_eq!(
            claim(&store, ws, "key-1", "fp-a").await,
            KeyClaim::InProgress {
                takeover_at: clock.now() + TAKEOVER
            }
        );
        assert_eq!(claim(&store, ws, "key-1", "fp-b").await, KeyClaim::Mismatch);

        // Bytes that are not UTF-8 come back unchanged.
        let stored = answer(201, b"{\"id\":1}\xff\x00");
        assert!(
            store
                .complete_idempotency_key(ws, "key-1", &token, &stored)
                .await
                .unwrap()
        );
        assert_eq!(
            claim(&store, ws, "key-1", "fp-a").await,
            KeyClaim::Replay(stored.clone())
        );
        assert_eq!(claim(&store, ws, "key-1", "fp-b").await, KeyClaim::Mismatch);
        // A completed key is neither completed again nor released, nor taken over.
        assert!(
            !store
                .complete_idempotency_key(ws, "key-1", &token, &answer(200, b"x"))
                .await
                .unwrap()
        );
        store
            .release_idempotency_key(ws, "key-1", &token)
            .await
            .unwrap();
        clock.advance(TAKEOVER * 2);
        assert_eq!(
            claim(&store, ws, "key-1", "fp-a").await,
            KeyClaim::Replay(stored)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_without_content_type_or_body_is_kept() {
    on_both(|store, _clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let token = claimed(&store, workspace.id, "k", "fp").await;
        let empty = StoredAnswer {
            status: 204,
            content_type: None,
            body: Vec::new(),
        };
        store
            .complete_idempotency_key(workspace.id, "k", &token, &empty)
            .await
            .unwrap();
        assert_eq!(
            claim(&store, workspace.id, "k", "fp").await,
            KeyClaim::Replay(empty)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_key_can_be_claimed_again() {
    on_both(|store, _clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let ws = workspace.id;
        let token = claimed(&store, ws, "retry-me", "fp").await;
        // Releasing with another claim's token does nothing.
        let other = claimed(&store, ws, "other-key", "fp").await;
        store
            .release_idempotency_key(ws, "retry-me", &other)
            .await
            .unwrap();
        assert!(in_progress(&claim(&store, ws, "retry-me", "fp").await));
        store
            .release_idempotency_key(ws, "retry-me", &token)
            .await
            .unwrap();
        // After a release the old claim can store nothing.
        assert!(
            !store
                .complete_idempotency_key(ws, "retry-me", &token, &answer(201, b"{}"))
                .await
                .unwrap()
        );
        claimed(&store, ws, "retry-me", "fp").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_belong_to_their_workspace() {
    on_both(|store, _clock| async move {
        let (a, _) = store.create_workspace("A").await.unwrap();
        let (b, _) = store.create_workspace("B").await.unwrap();
        let token_a = claimed(&store, a.id, "shared", "fp").await;
        let token_b = claimed(&store, b.id, "shared", "fp").await;
        store
            .complete_idempotency_key(a.id, "shared", &token_a, &answer(201, b"a"))
            .await
            .unwrap();
        assert!(in_progress(&claim(&store, b.id, "shared", "fp").await));
        // A token is no good in another workspace.
        assert!(
            !store
                .complete_idempotency_key(a.id, "shared", &token_b, &answer(201, b"b"))
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_request_died_is_taken_over_after_the_timeout() {
    on_both(|store, clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let ws = workspace.id;
        let dead = claimed(&store, ws, "crashed", "fp").await;
        clock.advance(TAKEOVER - TimeDelta::microseconds(1));
        assert!(in_progress(&claim(&store, ws, "crashed", "fp").await));
        // Another request under the key is still refused as a mismatch.
        assert_eq!(
            claim(&store, ws, "crashed", "other").await,
            KeyClaim::Mismatch
        );
        clock.advance(TimeDelta::microseconds(1));
        let KeyClaim::Claimed {
            token: retry,
            took_over: true,
        } = claim(&store, ws, "crashed", "fp").await
        else {
            panic!("the stale claim is taken over");
        };
        // The new claim is fresh: held again for the whole timeout.
        assert_eq!(
            claim(&store, ws, "crashed", "fp").await,
            KeyClaim::InProgress {
                takeover_at: clock.now() + TAKEOVER
            }
        );
        // The dead owner can neither store an answer nor release the retry's claim.
        assert!(
            !store
                .complete_idempotency_key(ws, "crashed", &dead, &answer(201, b"late"))
                .await
                .unwrap()
        );
        store
            .release_idempotency_key(ws, "crashed", &dead)
            .await
            .unwrap();
        let stored = answer(201, b"retried");
        assert!(
            store
                .complete_idempotency_key(ws, "crashed", &retry, &stored)
                .await
                .unwrap()
        );
        assert_eq!(
            claim(&store, ws, "crashed", "fp").await,
            KeyClaim::Replay(stored)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_retries_take_a_stale_claim_over_once() {
    on_both(|store, clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        claimed(&store, workspace.id, "stale", "fp").await;
        clock.advance(TAKEOVER * 3);
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let store = store.clone();
            tasks.spawn(async move { claim(&store, workspace.id, "stale", "fp").await });
        }
        let mut took_over = 0;
        while let Some(outcome) = tasks.join_next().await {
            match outcome.unwrap() {
                KeyClaim::Claimed {
                    took_over: true, ..
                } => took_over += 1,
                KeyClaim::InProgress { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(took_over, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_expire_after_the_ttl() {
    on_both(|store, clock| async move {
        let (workspace, _) = store.create_workspace("A").await.unwrap();
        let ws = workspace.id;
        let token = claimed(&store, ws, "daily", "fp-a").await;
        let stored = answer(201, b"first");
        store
            .complete_idempotency_key(ws, "daily", &token, &stored)
            .await
            .unwrap();
        clock.advance(IDEMPOTENCY_KEY_TTL);
        assert_eq!(
            claim(&store, ws, "daily", "fp-a").await,
            KeyClaim::Replay(stored)
        );
        clock.advance(TimeDelta::microseconds(1));
        // Expired: the key is free again, even for a different request.
        let late = claimed(&store, ws, "daily", "fp-b").await;
        assert_eq!(claim(&store, ws, "daily", "fp-a").await, KeyClaim::Mismatch);

        // A claim that was never completed expires too.
        clock.advance(IDEMPOTENCY_KEY_TTL + TimeDelta::seconds(1));
        claimed(&store, ws, "daily", "fp-a").await;
        // The expired claim's owner can no longer store its answer.
        assert!(
            !store
                .complete_idempotency_key(ws, "daily", &late, &answer(201, b"late"))
                .await
                .unwrap()
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_keys_are_swept_in_batches() {
    on_both(|store, clock| async move {
        let (a, _) = store.create_workspace("A").await.unwrap();
        let (b, _) = store.create_workspace("B").await.unwrap();
        // Seven old keys over two workspaces, one second apart; two of the oldest four
        // were never completed (their requests died).
        for n in 0..7 {
            let workspace = if n % 2 == 0 { a.id } else { b.id };
            let token = claimed(&store, workspace, &format!("old-{n}"), "fp").await;
            if n != 1 && n != 3 {
                store
                    .complete_idempotency_key(
                        workspace,
                        &format!("old-{n}"),
                        &token,
                        &answer(201, b"x"),
                    )
                    .await
                    .unwrap();
            }
            clock.advance(TimeDelta::seconds(1));
        }
        clock.advance(IDEMPOTENCY_KEY_TTL - TimeDelta::seconds(3));
        let young = claimed(&store, a.id, "young", "fp").await;
        // Now old-0..=old-3 are past the TTL; old-4..=old-6 are not yet.
        assert_eq!(store.delete_expired_idempotency_keys(3).await.unwrap(), 3);
        assert_eq!(store.delete_expired_idempotency_keys(3).await.unwrap(), 1);
        assert_eq!(store.delete_expired_idempotency_keys(3).await.unwrap(), 0);
        // What remains is what has not expired: still replayed.
        for (workspace, key) in [(a.id, "old-4"), (b.id, "old-5")] {
            assert_eq!(
                claim(&store, workspace, key, "fp").await,
                KeyClaim::Replay(answer(201, b"x"))
            );
        }
        clock.advance(TimeDelta::seconds(10));
        assert_eq!(store.delete_expired_idempotency_keys(100).await.unwrap(), 3);
        // The young claim is untouched and still completes.
        assert!(
            store
                .complete_idempotency_key(a.id, "young", &young, &answer(200, b"y"))
                .await
                .unwrap()
        );
        // Swept keys are free again (claimed afresh, not taken over).
        claimed(&store, a.id, "old-0", "other").await;
        claimed(&store, b.id, "old-1", "other").await;
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
            tasks.spawn(async move { claim(&store, workspace.id, "race", "fp").await });
        }
        let mut claimed = 0;
        while let Some(outcome) = tasks.join_next().await {
            match outcome.unwrap() {
                KeyClaim::Claimed {
                    took_over: false, ..
                } => claimed += 1,
                KeyClaim::InProgress { .. } => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(claimed, 1);
    })
    .await;
}
