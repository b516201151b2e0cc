//! Authentication: API keys in `x-api-key` or `Authorization: Bearer`, workspace checks on
//! Bridge paths, and the operating endpoints that need no key.

mod common;

use common::assert_problem;
use reqwest::Method;
use serde_json::json;

both_stores!(no_key_is_401_problem, |app| {
    for (method, path) in [
        (Method::GET, "/api/v1/users".to_owned()),
        (Method::GET, "/api/v1/custom-attributes".to_owned()),
        (Method::GET, "/api/v1/contacts".to_owned()),
        (Method::POST, app.contacts_path()),
    ] {
        let (status, content_type, body) = app
            .send(
                app.anonymous(method.clone(), &path)
                    .json(&json!({"cellphone": "+14155552671"})),
            )
            .await;
        assert_problem(status, &content_type, &body, 401);
    }
    // Nothing was written by the refused upsert.
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(0), "{page}");
});

both_stores!(wrong_or_malformed_key_is_401, |app| {
    let wrong = format!("{}x", app.api_key);
    for (name, value) in [
        ("x-api-key", wrong.as_str()),
        ("x-api-key", ""),
        ("x-api-key", "   "),
        ("authorization", &format!("Bearer {wrong}")),
        ("authorization", &format!("Basic {}", app.api_key)),
        ("authorization", "Bearer "),
        ("authorization", app.api_key.as_str()),
    ] {
        let (status, content_type, body) = app
            .send(
                app.anonymous(Method::GET, "/api/v1/users")
                    .header(name, value),
            )
            .await;
        assert_problem(status, &content_type, &body, 401);
        assert_eq!(
            body["type"], "https://leadline.dev/problems/unauthorized",
            "{name}: {value}"
        );
    }
});

both_stores!(bearer_works_like_x_api_key, |app| {
    let user = app.create_user("jane@acme.com").await;
    for scheme in ["Bearer", "bearer"] {
        let (status, _, page) = app
            .send(
                app.anonymous(Method::GET, "/api/v1/users")
                    .header("authorization", format!("{scheme} {}", app.api_key)),
            )
            .await;
        assert_eq!(status, 200, "{scheme}: {page}");
        assert_eq!(page["data"][0]["id"], user["id"], "{page}");
    }
    let (status, _, contact) = app
        .send(
            app.anonymous(Method::POST, &app.contacts_path())
                .bearer_auth(&app.api_key)
                .json(&json!({"cellphone": "+14155552671"})),
        )
        .await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["workspaceId"], app.workspace_id.as_str());
});

both_stores!(key_of_another_workspace_is_403_on_bridge_path, |app| {
    let (other_workspace, other_key) = app.other_workspace().await;
    let body = json!({"cellphone": "+14155552671", "firstName": "Intruder"});
    let (status, content_type, problem) = app
        .send(
            app.anonymous(Method::POST, &app.contacts_path())
                .header("x-api-key", &other_key)
                .json(&body),
        )
        .await;
    assert_problem(status, &content_type, &problem, 403);
    // The other key is valid: on its own workspace's path it works.
    let own_path = format!("/bridge/api/v1/workspaces/{other_workspace}/contacts/partial");
    let (status, contact) = app.post_as(&other_key, &own_path, body.clone()).await;
    assert_eq!(status, 200, "{contact}");
    assert_eq!(contact["workspaceId"], other_workspace.as_str());
    // And this app's key cannot write into the other workspace.
    let (status, content_type, problem) = app
        .send(app.request(Method::POST, &own_path).json(&body))
        .await;
    assert_problem(status, &content_type, &problem, 403);
    // Nothing reached this app's workspace.
    let (_, page) = app.get("/api/v1/contacts").await;
    assert_eq!(page["data"].as_array().map(Vec::len), Some(0), "{page}");
});

both_stores!(non_uuid_workspace_in_path_is_403, |app| {
    for workspace in ["not-a-uuid", "123", &app.workspace_id.to_uppercase()[..8]] {
        let path = format!("/bridge/api/v1/workspaces/{workspace}/contacts/partial");
        let (status, content_type, problem) = app
            .send(
                app.request(Method::POST, &path)
                    .json(&json!({"cellphone": "+14155552671"})),
            )
            .await;
        assert_problem(status, &content_type, &problem, 403);
    }
});

both_stores!(operating_endpoints_need_no_key, |app| {
    let (status, _, health) = app.send(app.anonymous(Method::GET, "/healthz")).await;
    assert_eq!((status, health["status"].as_str()), (200, Some("ok")));
    let (status, _, ready) = app.send(app.anonymous(Method::GET, "/readyz")).await;
    assert_eq!((status, ready["status"].as_str()), (200, Some("ready")));
    let (status, content_type, document) =
        app.send(app.anonymous(Method::GET, "/openapi.json")).await;
    assert_eq!(status, 200);
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    assert!(document["paths"].is_object(), "{document}");
    let response = app
        .anonymous(Method::GET, "/metrics")
        .send()
        .await
        .expect("the request is sent");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
});
