//! Error answers: bodies that are not JSON (400), JSON of the wrong shape (422 naming the
//! field), oversized bodies (413), unknown routes (404) and methods (405), all as
//! problem details and never as a 500.

mod common;

use common::{assert_invalid, assert_problem, problem_fields};
use reqwest::Method;
use serde_json::json;

/// Sends `body` as raw JSON to `path`.
async fn post_raw(
    app: &common::TestApp,
    path: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, String, serde_json::Value) {
    app.send(
        app.request(Method::POST, path)
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

both_stores!(malformed_json_is_400_with_position, |app| {
    for body in [
        "{\"cellphone\": ",
        "{\"cellphone\": \"+14155552671\",\n \"firstName\": }",
        "not json",
        "{\"cellphone\": \"+14155552671\"} trailing",
        "{\"cellphone\": 5",
        "{} {}",
    ] {
        let (status, content_type, problem) = post_raw(app, &app.contacts_path(), body).await;
        assert_problem(status, &content_type, &problem, 400);
        let detail = problem["detail"].as_str().unwrap_or_default();
        assert!(
            detail.contains("line") && detail.contains("column"),
            "{body:?}: {detail}"
        );
    }
    let (status, _, problem) = post_raw(app, &app.contacts_path(), "{\n  \"a\": ]").await;
    assert_eq!(status, 400);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("line 2")),
        "{problem}"
    );
});

both_stores!(empty_body_is_400, |app| {
    for path in [
        app.contacts_path(),
        "/api/v1/users".to_owned(),
        "/api/v1/custom-attributes".to_owned(),
    ] {
        for body in ["", "  \n "] {
            let (status, content_type, problem) = post_raw(app, &path, body).await;
            assert_problem(status, &content_type, &problem, 400);
        }
    }
});

both_stores!(wrong_type_is_422_naming_the_field, |app| {
    let cases = [
        (
            json!({"cellphone": "+14155552671", "firstName": 5}),
            "firstName",
        ),
        (json!({"cellphone": 14155552671_u64}), "cellphone"),
        (
            json!({"cellphone": "+14155552671", "languageCode": true}),
            "languageCode",
        ),
        (
            json!({"cellphone": "+14155552671", "ownerIdentifier": "jane@acme.com"}),
            "ownerIdentifier",
        ),
        (
            json!({"cellphone": "+14155552671", "customAttributes": {"openAttributes": [{"customAttributeId": 1}]}}),
            "customAttributes.openAttributes[0].customAttributeId",
        ),
        (
            json!({"cellphone": "+14155552671", "customAttributes": []}),
            "customAttributes",
        ),
        (
            json!({"cellphone": "+14155552671", "ownerIdentifier": ["jane@acme.com", "EMAIL"]}),
            "ownerIdentifier",
        ),
        (
            json!({"cellphone": "+14155552671", "customAttributes": {"openAttributes": {}}}),
            "customAttributes.openAttributes",
        ),
    ];
    for (body, field) in cases {
        let (status, content_type, problem) = app
            .send(app.request(Method::POST, &app.contacts_path()).json(&body))
            .await;
        assert_problem(status, &content_type, &problem, 422);
        assert_invalid(status, &problem, field);
    }
    let (status, problem) = app.post("/api/v1/users", json!({"email": ["a"]})).await;
    assert_invalid(status, &problem, "email");
});

both_stores!(missing_cellphone_is_422, |app| {
    for body in [
        json!({}),
        json!({"firstName": "Maria"}),
        json!({"cellphone": null}),
    ] {
        let (status, problem) = app.upsert_contact(body.clone()).await;
        assert_invalid(status, &problem, "cellphone");
    }
    let (status, problem) = app
        .post("/api/v1/users", json!({"firstName": "Jane"}))
        .await;
    assert_invalid(status, &problem, "email");
    // A body that is JSON but not an object names the body.
    for body in [json!([]), json!("text"), json!(null)] {
        let (status, problem) = app.upsert_contact(body).await;
        assert_eq!(status, 422, "{problem}");
        assert!(!problem_fields(&problem).is_empty(), "{problem}");
    }
});

both_stores!(body_over_one_mebibyte_is_413, |app| {
    let padding = "x".repeat(1024 * 1024 + 16);
    let body = json!({"cellphone": "+14155552671", "firstName": padding}).to_string();
    for path in [app.contacts_path(), "/api/v1/users".to_owned()] {
        let (status, content_type, problem) = post_raw(app, &path, body.clone()).await;
        assert_problem(status, &content_type, &problem, 413);
    }
    // Nothing was written.
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(0), "{page}");
    // Just under the limit is read (and refused for its content, not its size).
    let name = "y".repeat(1024 * 1024 - 100);
    let body = json!({"cellphone": "+14155552671", "firstName": name}).to_string();
    assert!(body.len() < 1024 * 1024);
    let (status, _, problem) = post_raw(app, &app.contacts_path(), body).await;
    assert_invalid(status, &problem, "firstName");
});

both_stores!(unknown_route_is_404_problem, |app| {
    for path in [
        "/nope",
        "/api/v1/nope",
        "/api/v2/users",
        "/bridge/api/v1/workspaces",
    ] {
        let (status, content_type, problem) = app.send(app.request(Method::GET, path)).await;
        assert_problem(status, &content_type, &problem, 404);
        let (status, content_type, problem) = app.send(app.anonymous(Method::GET, path)).await;
        assert_problem(status, &content_type, &problem, 404);
    }
});

both_stores!(wrong_method_is_405_problem, |app| {
    let cases = [
        (Method::DELETE, "/api/v1/users".to_owned()),
        (Method::PUT, "/api/v1/custom-attributes".to_owned()),
        (Method::POST, "/api/v1/contacts".to_owned()),
        (Method::GET, app.contacts_path()),
        (Method::POST, "/healthz".to_owned()),
        (Method::PATCH, "/api/v1/users/jane@acme.com".to_owned()),
    ];
    for (method, path) in cases {
        let response = app.request(method.clone(), &path).send().await.unwrap();
        let allow = response
            .headers()
            .get("allow")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (status, content_type, problem) = common::read_typed(response).await;
        assert_problem(status, &content_type, &problem, 405);
        // RFC 9110: a 405 lists the methods the path accepts.
        let allow = allow.unwrap_or_else(|| panic!("{method} {path}: no Allow header"));
        assert!(!allow.contains(method.as_str()), "{method} {path}: {allow}");
        assert!(!allow.is_empty(), "{method} {path}");
    }
});

both_stores!(hostile_bodies_never_cause_500, |app| {
    let deep = format!(
        "{{\"cellphone\": \"+14155552671\", \"firstName\": {}{}}}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    let bodies: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        b"{\"cellphone\": \"+1415\xff5552671\"}".to_vec(),
        b"{\"cellphone\": \"\\ud800\"}".to_vec(),
        b"\xef\xbb\xbf{\"cellphone\": \"+14155552671\"}".to_vec(),
        b"{\"cellphone\": \"+14155552671\", \"cellphone\": \"+14155552672\"}".to_vec(),
        b"{\"cellphone\": \"\x00\"}".to_vec(),
        b"{\"cellphone\": 1e999}".to_vec(),
    ];
    let paths = [
        app.contacts_path(),
        "/api/v1/users".to_owned(),
        "/api/v1/custom-attributes".to_owned(),
    ];
    for body in bodies {
        for path in &paths {
            let (status, content_type, problem) = post_raw(app, path, body.clone()).await;
            assert!(
                (400..500).contains(&status),
                "{path} {:?}: {status} {problem}",
                String::from_utf8_lossy(&body)
            );
            assert_eq!(content_type, "application/problem+json", "{problem}");
        }
    }
});

// PostgreSQL cannot store U+0000 in text; it is refused at the edge on both stores,
// by field, rather than failing in the database with a 500.
both_stores!(nul_characters_are_refused_by_field, |app| {
    let (status, problem) = app
        .post(
            "/api/v1/users",
            serde_json::json!({"email": "a@acme.com", "firstName": "a\u{0}b"}),
        )
        .await;
    common::assert_invalid(status, &problem, "firstName");
    let (status, problem) = app
        .post(
            "/api/v1/dnc",
            serde_json::json!({"phoneNumber": "+14155550100", "reason": ["x", "\u{0}"]}),
        )
        .await;
    common::assert_invalid(status, &problem, "reason[1]");
    let (status, problem) = app.get("/api/v1/dnc?limit=5&cursor=a%00").await;
    common::assert_invalid(status, &problem, "cursor");
    let (status, users) = app.get("/api/v1/users").await;
    assert_eq!(status, 200);
    assert_eq!(users["data"], serde_json::json!([]), "nothing was stored");
});
