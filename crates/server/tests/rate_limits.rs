//! Rate limits: per API key (the workspace's settings), per client address for requests
//! without a key in force, per channel for provider webhooks. Over a limit: 429 with
//! `Retry-After` and the `RateLimit`/`RateLimit-Policy` fields, as a problem document or
//! in LeadConnector's shape on its path. The limiters run on a manual clock, moved past
//! a window instead of sleeping through it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{TestApp, assert_invalid, assert_problem, read_typed};
use leadline_core::SystemClock;
use leadline_core::rate_limit::Bucket;
use leadline_server::rate_limit::{ManualLimiterClock, RateLimitOptions};
use leadline_server::serve::ServerOptions;
use leadline_store::BackendKind;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};

/// An app whose limiters count on `clock`, with the given address and channel buckets.
async fn spawn(
    kind: BackendKind,
    clock: &ManualLimiterClock,
    per_address: Bucket,
    per_channel: Bucket,
) -> Option<TestApp> {
    let options = ServerOptions {
        without_dispatcher: true,
        rate_limits: RateLimitOptions {
            per_address,
            per_channel,
            clock: clock.clock(),
            ..RateLimitOptions::default()
        },
        ..ServerOptions::default()
    };
    TestApp::spawn_with(kind, Arc::new(SystemClock), options).await
}

const GENEROUS: Bucket = Bucket {
    per_second: 1_000,
    burst: 1_000,
};

/// Status, headers and JSON body of a request.
async fn exchange(request: RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = request.send().await.expect("the request is sent");
    let headers = response.headers().clone();
    let (status, _, body) = read_typed(response).await;
    (status, headers, body)
}

fn header<'h>(headers: &'h reqwest::header::HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

async fn set_limits(app: &TestApp, body: Value) -> Value {
    let (status, _, settings) = app.send(put_limits(app, &body)).await;
    assert_eq!(status, 200, "{settings}");
    settings
}

fn put_limits(app: &TestApp, body: &Value) -> RequestBuilder {
    app.request(Method::PUT, "/api/v1/settings/rate-limits")
        .json(body)
}

both_stores!(settings_have_defaults_and_every_field_is_checked, |app| {
    let (status, settings) = app.get("/api/v1/settings/rate-limits").await;
    assert_eq!(status, 200, "{settings}");
    assert_eq!(settings, json!({"requestsPerSecond": 100, "burst": 200}));
    for (body, fields) in [
        (
            json!({"requestsPerSecond": 0, "burst": 0}),
            vec!["requestsPerSecond", "burst"],
        ),
        (
            json!({"requestsPerSecond": 100_001, "burst": 1_000_001}),
            vec!["requestsPerSecond", "burst"],
        ),
        (
            json!({"requestsPerSecond": "many"}),
            vec!["requestsPerSecond"],
        ),
        (json!({"requestsPerSecond": -1}), vec!["requestsPerSecond"]),
        (json!({"perSecond": 5}), vec!["perSecond"]),
    ] {
        let (status, _, problem) = app.send(put_limits(app, &body)).await;
        for field in fields {
            assert_invalid(status, &problem, field);
        }
    }
    assert_eq!(
        set_limits(app, json!({"requestsPerSecond": 5})).await,
        json!({"requestsPerSecond": 5, "burst": 200})
    );
    let (_, settings) = app.get("/api/v1/settings/rate-limits").await;
    assert_eq!(settings, json!({"requestsPerSecond": 5, "burst": 200}));
    // Another workspace keeps the defaults.
    let (_, other_key) = app.other_workspace().await;
    let (_, theirs) = app.get_as(&other_key, "/api/v1/settings/rate-limits").await;
    assert_eq!(theirs["requestsPerSecond"], 100);
    assert_eq!(set_limits(app, json!({})).await["requestsPerSecond"], 100);
});

/// A key's burst is admitted with what is left of it in `RateLimit`; the request past
/// it is a 429 problem with `Retry-After`; a second later the bucket has a token again.
async fn a_key_over_its_limit_waits_for_its_window(kind: BackendKind) {
    let clock = ManualLimiterClock::new();
    let Some(app) = spawn(kind, &clock, GENEROUS, GENEROUS).await else {
        return;
    };
    set_limits(&app, json!({"requestsPerSecond": 2, "burst": 3})).await;
    let users = || app.request(Method::GET, "/api/v1/users");
    for remaining in [2, 1, 0] {
        let (status, headers, body) = exchange(users()).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            header(&headers, "ratelimit-policy"),
            "\"key\";q=2;w=1;ll-burst=3"
        );
        assert_eq!(
            header(&headers, "ratelimit"),
            format!("\"key\";r={remaining}")
        );
    }
    let response = users().send().await.unwrap();
    let headers = response.headers().clone();
    let (status, content_type, problem) = read_typed(response).await;
    assert_problem(status, &content_type, &problem, 429);
    assert_eq!(
        problem["type"],
        "https://leadline.dev/problems/rate-limited"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("2 requests a second"),
        "{problem}"
    );
    assert_eq!(header(&headers, "retry-after"), "1");
    assert_eq!(header(&headers, "ratelimit"), "\"key\";r=0;t=1");
    assert_eq!(
        header(&headers, "ratelimit-policy"),
        "\"key\";q=2;w=1;ll-burst=3"
    );
    // Another key of the workspace has a bucket of its own.
    let (status, other) = app.post("/api/v1/api-keys", json!({})).await;
    assert_eq!(status, 429, "the limited key stays limited: {other}");
    let (_, fresh) = app.other_workspace().await;
    let (status, _) = app.get_as(&fresh, "/api/v1/users").await;
    assert_eq!(status, 200);

    // Half a second brings one token back (two a second), one second two.
    clock.advance(Duration::from_millis(500));
    assert_eq!(exchange(users()).await.0, 200);
    assert_eq!(exchange(users()).await.0, 429);
    clock.advance(Duration::from_secs(1));
    assert_eq!(exchange(users()).await.0, 200);
    assert_eq!(exchange(users()).await.0, 200);
    assert_eq!(exchange(users()).await.0, 429);

    let text = app
        .anonymous(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("leadline_rate_limited_total{scope=\"key\"}"),
        "{text}"
    );
    app.stop().await;
}

/// The LeadConnector path answers a limit in its own error shape.
async fn the_lead_connector_path_is_limited_in_its_own_shape(kind: BackendKind) {
    let clock = ManualLimiterClock::new();
    let Some(app) = spawn(kind, &clock, GENEROUS, GENEROUS).await else {
        return;
    };
    set_limits(&app, json!({"requestsPerSecond": 1, "burst": 1})).await;
    let log_call = || {
        app.request(Method::POST, "/conversations/messages/outbound")
            .header("Version", "2021-07-28")
            .json(&json!({"type": "Call"}))
    };
    let (status, _, first) = exchange(log_call()).await;
    assert_eq!(status, 422, "admitted, then refused for its body: {first}");
    let response = log_call().send().await.unwrap();
    let headers = response.headers().clone();
    let (status, content_type, body) = read_typed(response).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(content_type, "application/json");
    assert_eq!(body["statusCode"], 429, "{body}");
    assert_eq!(body["error"], "Too Many Requests", "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("retry in 1 s"),
        "{body}"
    );
    assert_eq!(header(&headers, "retry-after"), "1");
    assert_eq!(header(&headers, "ratelimit"), "\"key\";r=0;t=1");
    app.stop().await;
}

/// One bad key sent over and over is read from the store once; made-up keys are read
/// only while the client's address has tokens; then the address is refused, without a
/// read, while a known key goes on working.
async fn unknown_keys_cost_bounded_store_reads(kind: BackendKind) {
    let clock = ManualLimiterClock::new();
    let per_address = Bucket {
        per_second: 1,
        burst: 40,
    };
    let Some(app) = spawn(kind, &clock, per_address, GENEROUS).await else {
        return;
    };
    assert_eq!(
        app.get("/api/v1/users").await.0,
        200,
        "the app's key is cached"
    );
    let reads = || app.key_cache().store_reads();
    let before = reads();
    let bad = format!("{}x", app.api_key);
    for _ in 0..30 {
        assert_eq!(app.get_as(&bad, "/api/v1/users").await.0, 401);
    }
    assert_eq!(
        reads() - before,
        1,
        "one read for thirty requests with one bad key"
    );
    // 40 tokens: one paid for reading the app's key, thirty for the bad one. Nine
    // made-up keys are read and refused; the rest is a 429 without a read.
    let mut statuses = Vec::new();
    for n in 0..20 {
        let made_up = format!("ll_made-up-key-{n}");
        let (status, headers, body) = exchange(
            app.anonymous(Method::GET, "/api/v1/users")
                .header("x-api-key", &made_up),
        )
        .await;
        if status == 429 {
            assert_eq!(body["type"], "https://leadline.dev/problems/rate-limited");
            assert_eq!(header(&headers, "retry-after"), "1");
            assert!(header(&headers, "ratelimit-policy").starts_with("\"address\";q=1;w=1"));
        }
        statuses.push(status);
    }
    assert_eq!(statuses[..9], [401; 9], "{statuses:?}");
    assert_eq!(statuses[9..], [429; 11], "{statuses:?}");
    assert_eq!(reads() - before, 10, "refused addresses cost no read");
    // Requests without any key share the address's bucket; the liveness probe, which
    // does no work, is never limited.
    assert_eq!(exchange(app.anonymous(Method::GET, "/readyz")).await.0, 429);
    assert_eq!(
        exchange(app.anonymous(Method::GET, "/healthz")).await.0,
        200
    );
    // The app's key was verified before: it has its own bucket and needs no read.
    assert_eq!(app.get("/api/v1/users").await.0, 200);
    assert_eq!(reads() - before, 10);
    clock.advance(Duration::from_secs(1));
    assert_eq!(exchange(app.anonymous(Method::GET, "/readyz")).await.0, 200);
    app.stop().await;
}

/// Provider webhooks are limited per channel, before the channel is looked up.
async fn webhooks_are_limited_per_channel(kind: BackendKind) {
    let clock = ManualLimiterClock::new();
    let per_channel = Bucket {
        per_second: 1,
        burst: 2,
    };
    let Some(app) = spawn(kind, &clock, GENEROUS, per_channel).await else {
        return;
    };
    let first = app.sandbox_channel().await;
    let second = app.sandbox_channel().await;
    let report = |channel: &str| {
        app.anonymous(Method::POST, &format!("/webhooks/providers/{channel}"))
            .json(&json!({"event": "status", "messageId": "unknown"}))
    };
    for _ in 0..2 {
        let (status, _, body) = exchange(report(&first)).await;
        assert_ne!(status, 429, "{body}");
    }
    let response = report(&first).send().await.unwrap();
    let headers = response.headers().clone();
    let (status, content_type, problem) = read_typed(response).await;
    assert_problem(status, &content_type, &problem, 429);
    assert!(
        problem["detail"].as_str().unwrap().contains("webhook"),
        "{problem}"
    );
    assert_eq!(header(&headers, "retry-after"), "1");
    assert_eq!(header(&headers, "ratelimit"), "\"channel\";r=0;t=1");
    assert_ne!(exchange(report(&second)).await.0, 429, "another channel");
    clock.advance(Duration::from_secs(1));
    assert_ne!(exchange(report(&first)).await.0, 429);
    app.stop().await;
}

on_both_stores!(a_key_over_its_limit_waits_for_its_window);
on_both_stores!(the_lead_connector_path_is_limited_in_its_own_shape);
on_both_stores!(unknown_keys_cost_bounded_store_reads);
on_both_stores!(webhooks_are_limited_per_channel);
