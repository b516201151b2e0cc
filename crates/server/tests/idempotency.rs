//! The `Idempotency-Key` header on POSTs: replays, mismatches, invalid keys, workspace
//! boundaries, concurrency, and keys released after a 5xx or a panic.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use common::idempotency::{json_of, replayed, send_raw};
use common::{TestApp, assert_invalid, assert_problem, problem_fields};
use leadline_server::idempotency::honour_idempotency_key;
use reqwest::{Method, RequestBuilder};
use serde_json::json;
use tokio::task::JoinSet;
use tower_http::catch_panic::CatchPanicLayer;

const KEY: &str = "idempotency-key";

fn create_user(app: &TestApp, key: &str, email: &str) -> RequestBuilder {
    app.request(Method::POST, "/api/v1/users")
        .header(KEY, key)
        .json(&json!({"email": email}))
}

async fn user_count(app: &TestApp) -> usize {
    let (status, page) = app.get("/api/v1/users").await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().map_or(0, Vec::len)
}

both_stores!(a_repeat_replays_the_first_answer, |app| {
    let (status, headers, first) = send_raw(create_user(app, "k-1", "jane@acme.com")).await;
    assert_eq!(status, 201, "{}", json_of(&first));
    assert!(!replayed(&headers));
    for _ in 0..2 {
        let (status, headers, again) = send_raw(create_user(app, "k-1", "jane@acme.com")).await;
        assert_eq!(status, 201);
        assert_eq!(again, first, "the same bytes");
        assert!(replayed(&headers), "{headers:?}");
        assert_eq!(headers["content-type"], "application/json");
    }
    assert_eq!(user_count(app).await, 1);

    // The Bridge upsert too: every POST route.
    let path = app.contacts_path();
    let upsert = || {
        app.request(Method::POST, &path)
            .header(KEY, "contact-1")
            .json(&json!({"cellphone": "+14155550100", "firstName": "Ann"}))
    };
    let (status, headers, first) = send_raw(upsert()).await;
    assert_eq!(status, 200, "{}", json_of(&first));
    assert!(!replayed(&headers));
    let (status, headers, again) = send_raw(upsert()).await;
    assert_eq!((status, again), (200, first));
    assert!(replayed(&headers));
});

both_stores!(the_same_key_on_another_request_is_422, |app| {
    let (status, _, _) = send_raw(create_user(app, "k-1", "jane@acme.com")).await;
    assert_eq!(status, 201);
    let other_body = create_user(app, "k-1", "john@acme.com");
    let other_path = app
        .request(Method::POST, "/api/v1/custom-attributes")
        .header(KEY, "k-1")
        .json(&json!({"email": "jane@acme.com"}));
    for request in [other_body, other_path] {
        let (status, content_type, problem) = app.send(request).await;
        assert_problem(status, &content_type, &problem, 422);
        assert_invalid(status, &problem, "Idempotency-Key");
    }
    assert_eq!(user_count(app).await, 1);
});

both_stores!(an_invalid_key_is_400, |app| {
    let too_long = "k".repeat(256);
    let non_ascii = reqwest::header::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap();
    let requests = [
        create_user(app, "", "a@acme.com"),
        create_user(app, &too_long, "a@acme.com"),
        app.request(Method::POST, "/api/v1/users")
            .header(KEY, non_ascii)
            .json(&json!({"email": "a@acme.com"})),
        create_user(app, "one", "a@acme.com").header(KEY, "two"),
    ];
    for request in requests {
        let (status, content_type, problem) = app.send(request).await;
        assert_problem(status, &content_type, &problem, 400);
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{problem}"
        );
    }
    let (status, _, _) = send_raw(create_user(app, &"k".repeat(255), "a@acme.com")).await;
    assert_eq!(status, 201);
    assert_eq!(user_count(app).await, 1);

    // The LeadConnector path answers in its own error format.
    let (status, _, body) = send_raw(
        app.request(Method::POST, "/conversations/messages/outbound")
            .header(KEY, "")
            .json(&json!({})),
    )
    .await;
    let body = json_of(&body);
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["statusCode"], 400, "{body}");
    assert_eq!(body["error"], "Bad Request", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Idempotency-Key"),
        "{body}"
    );
});

both_stores!(keys_are_per_workspace, |app| {
    let (status, _, ours) = send_raw(create_user(app, "shared", "jane@acme.com")).await;
    assert_eq!(status, 201);
    let (other_workspace, other_key) = app.other_workspace().await;
    let (status, headers, theirs) = send_raw(
        app.anonymous(Method::POST, "/api/v1/users")
            .header("x-api-key", &other_key)
            .header(KEY, "shared")
            .json(&json!({"email": "jane@acme.com"})),
    )
    .await;
    assert_eq!(status, 201, "{}", json_of(&theirs));
    assert!(!replayed(&headers), "ran, not replayed");
    let theirs = json_of(&theirs);
    assert_eq!(theirs["workspaceId"], other_workspace.as_str());
    assert_ne!(theirs["id"], json_of(&ours)["id"]);
    assert_eq!(user_count(app).await, 1);
});

both_stores!(a_validation_answer_is_replayed, |app| {
    let (status, headers, first) = send_raw(create_user(app, "bad-1", "not-an-email")).await;
    assert_invalid(status, &json_of(&first), "email");
    assert!(!replayed(&headers));
    let (status, headers, again) = send_raw(create_user(app, "bad-1", "not-an-email")).await;
    assert_eq!((status, &again), (422, &first));
    assert!(replayed(&headers));
    assert_eq!(headers["content-type"], "application/problem+json");
});

both_stores!(without_the_header_nothing_changes, |app| {
    app.create_user("jane@acme.com").await;
    // The handler runs again: a duplicate email, not a replay.
    let (status, headers, body) = send_raw(
        app.request(Method::POST, "/api/v1/users")
            .json(&json!({"email": "jane@acme.com"})),
    )
    .await;
    assert_eq!(status, 409, "{}", json_of(&body));
    assert_eq!(problem_fields(&json_of(&body)), vec!["email"]);
    assert!(!replayed(&headers));
    // Other methods ignore the header.
    for _ in 0..2 {
        let (status, headers, _) =
            send_raw(app.request(Method::GET, "/api/v1/users").header(KEY, "k")).await;
        assert_eq!(status, 200);
        assert!(!replayed(&headers));
    }
});

both_stores!(unauthenticated_requests_store_nothing, |app| {
    for api_key in ["ll_wrong", ""] {
        let (status, content_type, problem) = app
            .send(
                app.anonymous(Method::POST, "/api/v1/users")
                    .header("x-api-key", api_key)
                    .header(KEY, "k-1")
                    .json(&json!({"email": "jane@acme.com"})),
            )
            .await;
        assert_problem(status, &content_type, &problem, 401);
    }
    // Authentication comes before the key's own checks.
    let (status, _, _) = app
        .send(
            app.anonymous(Method::POST, "/api/v1/users")
                .header(KEY, "")
                .json(&json!({})),
        )
        .await;
    assert_eq!(status, 401);
    // The key was not taken by the failed attempts.
    let (status, headers, _) = send_raw(create_user(app, "k-1", "other@acme.com")).await;
    assert_eq!(status, 201);
    assert!(!replayed(&headers));
});

both_stores!(concurrent_repeats_create_once, |app| {
    let mut tasks = JoinSet::new();
    for _ in 0..20 {
        let request = create_user(app, "race", "race@acme.com");
        tasks.spawn(send_raw(request));
    }
    let mut created = Vec::new();
    let mut replays = Vec::new();
    while let Some(answer) = tasks.join_next().await {
        let (status, headers, body) = answer.unwrap();
        match (status, replayed(&headers)) {
            (201, false) => created.push(body),
            (201, true) => replays.push(body),
            (409, false) => {
                let problem = json_of(&body);
                assert_eq!(
                    problem_fields(&problem),
                    vec!["Idempotency-Key"],
                    "{problem}"
                );
                assert!(
                    problem["detail"]
                        .as_str()
                        .unwrap()
                        .contains("still being processed"),
                    "{problem}"
                );
            }
            other => panic!("unexpected {other:?}: {}", json_of(&body)),
        }
    }
    assert_eq!(created.len(), 1, "exactly one request ran");
    assert!(replays.iter().all(|body| *body == created[0]));
    assert_eq!(user_count(app).await, 1);
});

/// A server of two test routes behind the idempotency layer: `/flaky` answers 500 the
/// first time and 201 afterwards, `/panics` panics the first time; both count calls.
async fn flaky_server(app: &TestApp, calls: Arc<AtomicUsize>) -> String {
    let state = leadline_server::testing::app_state(app.store.clone(), Default::default());
    let flaky_calls = calls.clone();
    let router = Router::new()
        .route(
            "/flaky",
            post(move || async move {
                match flaky_calls.fetch_add(1, Ordering::SeqCst) {
                    0 => (StatusCode::INTERNAL_SERVER_ERROR, "down".to_owned()),
                    n => (StatusCode::CREATED, format!("call {n}")),
                }
            }),
        )
        .route(
            "/panics",
            post(move || async move {
                match calls.fetch_add(1, Ordering::SeqCst) {
                    0 => panic!("the first call panics"),
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

both_stores!(a_5xx_or_a_panic_releases_the_key, |app| {
    for path in ["/flaky", "/panics"] {
        let calls = Arc::new(AtomicUsize::new(0));
        let base = flaky_server(app, calls.clone()).await;
        let request = || {
            app.client
                .post(format!("{base}{path}"))
                .header("x-api-key", &app.api_key)
                .header(KEY, format!("retry{path}"))
                .body("same body")
        };
        let (status, _, _) = send_raw(request()).await;
        assert_eq!(status, 500, "{path}");
        let (status, headers, body) = send_raw(request()).await;
        assert_eq!(
            (status, body.as_slice()),
            (201, b"call 1".as_slice()),
            "{path}"
        );
        assert!(!replayed(&headers), "{path}: the retry ran the handler");
        let (status, headers, body) = send_raw(request()).await;
        assert_eq!(
            (status, body.as_slice()),
            (201, b"call 1".as_slice()),
            "{path}"
        );
        assert!(replayed(&headers), "{path}");
        assert_eq!(calls.load(Ordering::SeqCst), 2, "{path}");
    }
});

/// Sends a POST over a plain socket and returns the whole answer as text. The server
/// may answer 413 and close before the whole body is written; a client library would
/// report that as a broken pipe, so the write errors are ignored and the answer read.
async fn post_raw(app: &TestApp, path: &str, key: &str, body: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connects");
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {address}\r\nx-api-key: {}\r\n{KEY}: {key}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        app.api_key,
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

both_stores!(an_oversized_body_is_413_and_keeps_the_key_free, |app| {
    let oversized = format!(
        r#"{{"email": "a@acme.com", "x": "{}"}}"#,
        "x".repeat(1 << 20)
    );
    let answer = post_raw(app, "/api/v1/users", "big", &oversized).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "{answer}"
    );
    assert!(answer.contains(r#""status":413"#), "{answer}");
    let (status, headers, _) = send_raw(create_user(app, "big", "a@acme.com")).await;
    assert_eq!(status, 201);
    assert!(!replayed(&headers));
});
