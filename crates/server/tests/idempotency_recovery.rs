//! `Idempotency-Key`s that recover: a key whose request died is usable again after the
//! request timeout and its margin, a request past its timeout is stopped, expired keys
//! are swept, and bulk bodies over 1 MiB are fingerprinted and replayed. On a simulated
//! clock, on both stores.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{StatusCode, Uri};
use axum::routing::post;
use chrono::{TimeDelta, TimeZone, Utc};
use common::idempotency::{json_of, replayed, send_raw};
use common::waits::within;
use common::{TestApp, assert_problem};
use leadline_core::{ManualClock, WorkspaceId};
use leadline_server::idempotency::sweeper::{Swept, run_reporting, sweep_once};
use leadline_server::idempotency::{
    IdempotencyOptions, TAKEOVER_MARGIN, fingerprint, honour_idempotency_key,
};
use leadline_server::serve::ServerOptions;
use leadline_store::idempotency::{IDEMPOTENCY_KEY_TTL, KeyClaim};
use reqwest::Method;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower_http::catch_panic::CatchPanicLayer;

const KEY: &str = "idempotency-key";

/// The request timeout of these apps: what a claim is measured against.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Defines `NAME::sqlite` and `NAME::postgres`, each running `run(kind)`.
/// An app without background workers on a clock the test moves.
async fn simulated(kind: leadline_store::BackendKind) -> Option<(TestApp, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 2, 3, 9, 0, 0).unwrap(),
    ));
    let options = ServerOptions {
        without_dispatcher: true,
        idempotency: IdempotencyOptions {
            request_timeout: TIMEOUT,
        },
        ..ServerOptions::default()
    };
    let app = TestApp::spawn_with(kind, clock.clone(), options).await?;
    Some((app, clock))
}

fn takeover_after() -> TimeDelta {
    TimeDelta::from_std(TIMEOUT + TAKEOVER_MARGIN).unwrap()
}

async fn a_key_whose_request_died_is_usable_after_the_timeout(kind: leadline_store::BackendKind) {
    let Some((app, clock)) = simulated(kind).await else {
        return;
    };
    let body = br#"{"email":"jane@acme.com"}"#;
    let create = || {
        app.request(Method::POST, "/api/v1/users")
            .header(KEY, "crashed-1")
            .header("content-type", "application/json")
            .body(body.to_vec())
    };
    // The state a node leaves when it dies mid-request: the key claimed for exactly this
    // request, never completed nor released.
    let workspace: WorkspaceId = app.workspace_id.parse().unwrap();
    let uri: Uri = "/api/v1/users".parse().unwrap();
    let dead = app
        .store
        .claim_idempotency_key(
            workspace,
            "crashed-1",
            &fingerprint(&axum::http::Method::POST, &uri, body),
            takeover_after(),
        )
        .await
        .unwrap();
    let KeyClaim::Claimed { token: dead, .. } = dead else {
        panic!("the key was free: {dead:?}");
    };

    // Until the timeout and its margin have passed, a retry waits.
    clock.advance(takeover_after() - TimeDelta::seconds(1));
    let (status, content_type, problem) = app.send(create()).await;
    assert_problem(status, &content_type, &problem, 409);
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("can be used again from 2026-02-03T09:00:40Z"),
        "{problem}"
    );

    clock.advance(TimeDelta::seconds(1));
    let (status, headers, first) = send_raw(create()).await;
    assert_eq!(status, 201, "{}", json_of(&first));
    assert!(!replayed(&headers), "the retry ran the request");
    let (status, headers, again) = send_raw(create()).await;
    assert_eq!((status, &again), (201, &first));
    assert!(replayed(&headers));
    let (_, users) = app.get("/api/v1/users").await;
    assert_eq!(users["data"].as_array().unwrap().len(), 1, "{users}");
    // The dead request's claim can store nothing any more.
    assert!(
        !app.store
            .complete_idempotency_key(
                workspace,
                "crashed-1",
                &dead,
                &leadline_store::idempotency::StoredAnswer {
                    status: 500,
                    content_type: None,
                    body: Vec::new(),
                },
            )
            .await
            .unwrap()
    );
    app.stop().await;
}
on_both_stores!(
    a_key_whose_request_died_is_usable_after_the_timeout_,
    a_key_whose_request_died_is_usable_after_the_timeout
);

/// A server with one route behind the idempotency layer, over `app`'s store, whose
/// first call never ends and whose later calls answer 201; it counts calls.
async fn hanging_server(app: &TestApp, timeout: Duration, calls: Arc<AtomicUsize>) -> String {
    let state = leadline_server::testing::app_state(
        app.store.clone(),
        IdempotencyOptions {
            request_timeout: timeout,
        },
    );
    let router = Router::new()
        .route(
            "/hangs",
            post(move || async move {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => std::future::pending().await,
                    n => (StatusCode::CREATED, format!("call {n}")),
                }
            }),
        )
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            honour_idempotency_key,
        ))
        .layer(CatchPanicLayer::new())
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

async fn a_request_past_its_timeout_is_stopped_and_taken_over_later(
    kind: leadline_store::BackendKind,
) {
    let Some((app, clock)) = simulated(kind).await else {
        return;
    };
    let timeout = Duration::from_millis(300);
    let calls = Arc::new(AtomicUsize::new(0));
    let base = hanging_server(&app, timeout, calls.clone()).await;
    let request = || {
        app.client
            .post(format!("{base}/hangs"))
            .header("x-api-key", &app.api_key)
            .header(KEY, "slow-1")
            .body("same body")
    };
    let started = std::time::Instant::now();
    let (status, headers, problem) = send_raw(request()).await;
    assert!(started.elapsed() >= timeout);
    let problem = json_of(&problem);
    assert_eq!(status, 503, "{problem}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(
        headers["retry-after"],
        TAKEOVER_MARGIN.as_secs().to_string().as_str()
    );
    assert!(
        problem["detail"].as_str().unwrap().contains("was stopped"),
        "{problem}"
    );
    // The claim is kept like that of a request whose node died: 409 for now.
    let (status, content_type, problem) = app.send(request()).await;
    assert_problem(status, &content_type, &problem, 409);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the handler did not run again"
    );

    clock.advance(TimeDelta::from_std(timeout + TAKEOVER_MARGIN).unwrap());
    let (status, headers, body) = send_raw(request()).await;
    assert_eq!((status, body.as_slice()), (201, b"call 1".as_slice()));
    assert!(!replayed(&headers));
    let (status, headers, body) = send_raw(request()).await;
    assert_eq!((status, body.as_slice()), (201, b"call 1".as_slice()));
    assert!(replayed(&headers));
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    app.stop().await;
}
on_both_stores!(
    a_request_past_its_timeout_is_stopped_and_taken_over_later_,
    a_request_past_its_timeout_is_stopped_and_taken_over_later
);

/// Rows left in the key table.
async fn stored_keys(app: &TestApp) -> i64 {
    let query = "SELECT COUNT(*) FROM idempotency_keys";
    match app.database.kind {
        leadline_store::BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database.url).await.unwrap();
            let count = sqlx::query_scalar(query).fetch_one(&pool).await.unwrap();
            pool.close().await;
            count
        }
        leadline_store::BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database.url).await.unwrap();
            let count = sqlx::query_scalar(query).fetch_one(&pool).await.unwrap();
            pool.close().await;
            count
        }
    }
}

async fn expired_keys_are_swept(kind: leadline_store::BackendKind) {
    let Some((app, clock)) = simulated(kind).await else {
        return;
    };
    for n in 0..5 {
        let (status, _, _) = send_raw(
            app.request(Method::POST, "/api/v1/users")
                .header(KEY, format!("old-{n}"))
                .json(&json!({"email": format!("old-{n}@acme.com")})),
        )
        .await;
        assert_eq!(status, 201);
    }
    clock.advance(IDEMPOTENCY_KEY_TTL + TimeDelta::seconds(1));
    let young = || {
        app.request(Method::POST, "/api/v1/users")
            .header(KEY, "young")
            .json(&json!({"email": "young@acme.com"}))
    };
    let (status, _, first) = send_raw(young()).await;
    assert_eq!(status, 201);
    assert_eq!(stored_keys(&app).await, 6);

    // Step by step, two at a time, until nothing is left.
    let mut swept = Vec::new();
    while let Swept::Worked(n) = sweep_once(&app.store, 2).await.unwrap() {
        swept.push(n);
    }
    assert_eq!(swept, vec![2, 2, 1]);
    assert_eq!(stored_keys(&app).await, 1);
    let (status, headers, again) = send_raw(young()).await;
    assert_eq!((status, again), (201, first));
    assert!(replayed(&headers), "the young key is kept");

    // The supervised loop sweeps as soon as it starts: its first sweep ends long before
    // its hour-long interval, and leaves no key behind.
    clock.advance(IDEMPOTENCY_KEY_TTL + TimeDelta::seconds(1));
    let shutdown = CancellationToken::new();
    let (sweeps, mut swept) = tokio::sync::watch::channel(0);
    let sweeper = tokio::spawn({
        let (store, shutdown) = (app.store.clone(), shutdown.clone());
        async move {
            run_reporting(store, Duration::from_secs(3600), shutdown, &sweeps).await;
        }
    });
    within(
        Duration::from_secs(10),
        "the sweeper's first sweep ends",
        swept.wait_for(|sweeps| *sweeps >= 1),
    )
    .await
    .expect("the sweeper runs");
    assert_eq!(
        stored_keys(&app).await,
        0,
        "the first sweep deleted every key"
    );
    shutdown.cancel();
    sweeper.await.unwrap();
    app.stop().await;
}
on_both_stores!(expired_keys_are_swept_, expired_keys_are_swept);

async fn a_bulk_request_over_1_mib_with_a_key_is_accepted_and_replayed(
    kind: leadline_store::BackendKind,
) {
    let Some((app, _clock)) = simulated(kind).await else {
        return;
    };
    let channel = app.sandbox_channel().await;
    app.create_template(
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}!", "channelType": "SMS"}),
    )
    .await;
    let (status, campaign) = app
        .post(
            "/api/v1/campaigns",
            json!({
                "name": "Bulk", "channelId": channel, "defaultTimeZone": "America/New_York",
                "maxAttempts": 1, "openingTemplate": "welcome",
                "openingTemplateParams": ["{{firstName}}"]
            }),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    let path = format!(
        "/api/v1/campaigns/{}/leads:bulk",
        campaign["id"].as_str().unwrap()
    );
    let note = "n".repeat(400);
    let mut leads: Vec<Value> = (0..3_000)
        .map(|n| {
            json!({"phoneNumber": format!("+1415555{n:04}"), "externalId": format!("b-{n}"),
                   "callData": {"firstName": "L", "note": note}})
        })
        .collect();
    leads[11] = json!({"phoneNumber": "nope", "callData": {"firstName": "L"}});
    let body = serde_json::to_vec(&json!({"leads": leads})).unwrap();
    assert!(body.len() > 1 << 20, "{} bytes", body.len());
    let bulk = || {
        app.request(Method::POST, &path)
            .header(KEY, "bulk-1")
            .header("content-type", "application/json")
            .body(body.clone())
    };
    let (status, headers, first) = send_raw(bulk()).await;
    assert_eq!(status, 200, "{}", json_of(&first));
    assert!(!replayed(&headers));
    let answer = json_of(&first);
    assert_eq!(answer["accepted"], 2_999, "{answer}");
    assert_eq!(answer["rejected"][0]["index"], 11, "{answer}");

    let (status, headers, again) = send_raw(bulk()).await;
    assert_eq!((status, &again), (200, &first), "the same bytes");
    assert!(replayed(&headers));
    let (_, stats) = app
        .get(&format!(
            "/api/v1/campaigns/{}/stats",
            campaign["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(stats["leads"], 2_999, "{stats}");

    // Another body under the same key is a mismatch, however large.
    let (status, _, problem) = app
        .send(
            app.request(Method::POST, &path)
                .header(KEY, "bulk-1")
                .header("content-type", "application/json")
                .body([&body[..body.len() - 2], b" }"].concat()),
        )
        .await;
    assert_eq!(status, 422, "{problem}");

    // Non-bulk routes keep their 1 MiB limit with a key too.
    let oversized = format!(
        r#"{{"email": "a@acme.com", "x": "{}"}}"#,
        "x".repeat(1 << 20)
    );
    let (status, _, _) = send_raw(
        app.request(Method::POST, "/api/v1/users")
            .header(KEY, "big")
            .header("content-type", "application/json")
            .body(oversized),
    )
    .await;
    assert_eq!(status, 413);
    app.stop().await;
}
on_both_stores!(
    a_bulk_request_over_1_mib_with_a_key_is_accepted_and_replayed_,
    a_bulk_request_over_1_mib_with_a_key_is_accepted_and_replayed
);
