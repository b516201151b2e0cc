//! API keys over their life, through `/api/v1/api-keys` and `leadline apikey`: created
//! (shown once), listed (never the secret), read-only, expired, used (recorded at most
//! once a minute) and revoked (refused by the very next request, also when the CLI
//! revoked it from another process).

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use common::{TestApp, assert_invalid, assert_problem};
use leadline_core::ManualClock;
use leadline_server::serve::ServerOptions;
use leadline_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

/// `method path` with `key`: status, content type, JSON body.
async fn call(app: &TestApp, key: &str, method: Method, path: &str) -> (u16, String, Value) {
    app.send(app.anonymous(method, path).header("x-api-key", key))
        .await
}

async fn create_key(app: &TestApp, body: Value) -> Value {
    let (status, key) = app.post("/api/v1/api-keys", body.clone()).await;
    assert_eq!(status, 201, "creating key {body}: {key}");
    key
}

async fn list_keys(app: &TestApp, key: &str) -> Vec<Value> {
    let (status, _, page) = call(app, key, Method::GET, "/api/v1/api-keys").await;
    assert_eq!(status, 200, "{page}");
    page["data"].as_array().expect("a page").clone()
}

both_stores!(keys_are_listed_without_their_secrets, |app| {
    let named = create_key(app, json!({"name": "CRM sync", "scope": "read_only"})).await;
    let secret = named["apiKey"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("ll_"), "{named}");
    assert_eq!(named["prefix"].as_str(), Some(&secret[..11]), "{named}");
    assert_eq!(named["name"], "CRM sync");
    assert_eq!(named["scope"], "read_only");
    assert_eq!(named["workspaceId"], app.workspace_id.as_str());
    assert!(named["expiresAt"].is_null() && named["lastUsedAt"].is_null());
    // No body at all: a full-scope key without name or expiry.
    let (status, _, plain) = app
        .send(app.request(Method::POST, "/api/v1/api-keys"))
        .await;
    assert_eq!(status, 201, "{plain}");
    assert_eq!(plain["scope"], "full");
    assert!(plain["name"].is_null());

    let listed = list_keys(app, &app.api_key).await;
    let ids: Vec<&str> = listed.iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 3, "{listed:?}");
    assert_eq!(
        &ids[1..],
        [named["id"].as_str().unwrap(), plain["id"].as_str().unwrap()]
    );
    // The workspace's first key: its prefix, and its use by this very request.
    assert_eq!(listed[0]["prefix"].as_str(), Some(&app.api_key[..11]));
    assert!(listed[0]["lastUsedAt"].is_string(), "{}", listed[0]);
    let text = serde_json::to_string(&listed).unwrap();
    for secret in [
        secret.as_str(),
        plain["apiKey"].as_str().unwrap(),
        &app.api_key,
    ] {
        assert!(!text.contains(&secret[11..]), "a secret is listed: {text}");
    }
    for key in &listed {
        assert!(
            key.get("apiKey").is_none() && key.get("keyHash").is_none(),
            "{key}"
        );
    }
    // Another workspace sees only its own.
    let (_, other_key) = app.other_workspace().await;
    assert_eq!(list_keys(app, &other_key).await.len(), 1);
});

both_stores!(creating_a_key_checks_every_field, |app| {
    let (status, problem) = app
        .post(
            "/api/v1/api-keys",
            json!({"name": " ", "expiresAt": "2001-01-01T00:00:00Z"}),
        )
        .await;
    assert_invalid(status, &problem, "name");
    assert_invalid(status, &problem, "expiresAt");
    for (body, field) in [
        (json!({"expiresAt": "next week"}), "expiresAt"),
        (json!({"scope": "admin"}), "scope"),
        (json!({"name": "a\nb"}), "name"),
        (json!({"colour": "blue"}), "colour"),
    ] {
        let (status, problem) = app.post("/api/v1/api-keys", body).await;
        assert_invalid(status, &problem, field);
    }
    let (status, content_type, problem) = app
        .send(app.request(Method::POST, "/api/v1/api-keys").body("{nope"))
        .await;
    assert_problem(status, &content_type, &problem, 400);
    assert_eq!(
        list_keys(app, &app.api_key).await.len(),
        1,
        "nothing was created"
    );
});

both_stores!(a_read_only_key_reads_but_never_writes, |app| {
    let reader = create_key(app, json!({"scope": "read_only"})).await;
    let key = reader["apiKey"].as_str().unwrap();
    let (status, _, page) = call(app, key, Method::GET, "/api/v1/users").await;
    assert_eq!(status, 200, "{page}");
    let (status, _, _) = call(app, key, Method::HEAD, "/api/v1/users").await;
    assert_eq!(status, 200);
    let writes = [
        (Method::POST, "/api/v1/users".to_owned()),
        (Method::PUT, "/api/v1/settings/rate-limits".to_owned()),
        (
            Method::DELETE,
            format!("/api/v1/api-keys/{}", reader["id"].as_str().unwrap()),
        ),
        (Method::POST, app.contacts_path()),
    ];
    for (method, path) in writes {
        let (status, content_type, problem) = app
            .send(
                app.anonymous(method.clone(), &path)
                    .header("x-api-key", key)
                    .json(&json!({"email": "eve@acme.com", "cellphone": "+14155552671"})),
            )
            .await;
        assert_problem(status, &content_type, &problem, 403);
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.contains("read_only") && detail.contains(method.as_str()),
            "{detail}"
        );
    }
    // The LeadConnector path refuses in its own shape.
    let (status, _, refused) = app
        .send(
            app.anonymous(Method::POST, "/conversations/messages/outbound")
                .bearer_auth(key)
                .header("Version", "2021-07-28")
                .json(&json!({"type": "Call"})),
        )
        .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(refused["statusCode"], 403, "{refused}");
    assert_eq!(refused["error"], "Forbidden", "{refused}");
    // Nothing was written, and the key is still in force.
    let (_, users) = app.get("/api/v1/users").await;
    assert_eq!(users["data"].as_array().map(Vec::len), Some(0), "{users}");
    assert_eq!(list_keys(app, &app.api_key).await.len(), 2);
});

both_stores!(a_revoked_key_is_refused_by_the_next_request, |app| {
    let doomed = create_key(app, json!({"name": "doomed"})).await;
    let key = doomed["apiKey"].as_str().unwrap();
    let path = format!("/api/v1/api-keys/{}", doomed["id"].as_str().unwrap());
    // Used, so this node has it cached.
    for _ in 0..3 {
        assert_eq!(call(app, key, Method::GET, "/api/v1/users").await.0, 200);
    }
    let (status, _, body) = app.send(app.request(Method::DELETE, &path)).await;
    assert_eq!(status, 204, "{body}");
    let (status, content_type, problem) = call(app, key, Method::GET, "/api/v1/users").await;
    assert_problem(status, &content_type, &problem, 401);
    let listed = list_keys(app, &app.api_key).await;
    assert!(listed.iter().all(|k| k["id"] != doomed["id"]), "{listed:?}");
    // Revoked already, unknown, malformed: 404.
    for missing in [
        path.clone(),
        format!("/api/v1/api-keys/{}", uuid::Uuid::now_v7()),
        "/api/v1/api-keys/nope".to_owned(),
    ] {
        let (status, content_type, problem) = app.send(app.request(Method::DELETE, &missing)).await;
        assert_problem(status, &content_type, &problem, 404);
    }
    // Another workspace's key cannot be revoked from here, and keeps working.
    let (_, other_key) = app.other_workspace().await;
    let theirs = list_keys(app, &other_key).await;
    let (status, _, _) = app
        .send(app.request(
            Method::DELETE,
            &format!("/api/v1/api-keys/{}", theirs[0]["id"].as_str().unwrap()),
        ))
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        call(app, &other_key, Method::GET, "/api/v1/users").await.0,
        200
    );
    // A key may revoke itself.
    let own = create_key(app, json!({})).await;
    let own_key = own["apiKey"].as_str().unwrap();
    let own_path = format!("/api/v1/api-keys/{}", own["id"].as_str().unwrap());
    assert_eq!(call(app, own_key, Method::DELETE, &own_path).await.0, 204);
    assert_eq!(
        call(app, own_key, Method::GET, "/api/v1/users").await.0,
        401
    );
    assert_eq!(
        call(app, &app.api_key, Method::GET, "/api/v1/users")
            .await
            .0,
        200
    );
});

/// An app whose store reads a manual clock, started at `start`.
async fn app_at(kind: BackendKind, clock: Arc<ManualClock>) -> Option<TestApp> {
    let options = ServerOptions {
        without_dispatcher: true,
        ..ServerOptions::default()
    };
    TestApp::spawn_with(kind, clock, options).await
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// A key stops at its expiry, even while this node has it cached; its last use is
/// written at most once a minute.
async fn expiry_and_last_use_follow_the_clock(kind: BackendKind) {
    let start = at("2030-03-01T12:00:00Z");
    let clock = Arc::new(ManualClock::new(start));
    let Some(app) = app_at(kind, clock.clone()).await else {
        return;
    };
    let (status, problem) = app
        .post(
            "/api/v1/api-keys",
            json!({"expiresAt": "2030-03-01T11:59:59Z"}),
        )
        .await;
    assert_invalid(status, &problem, "expiresAt");
    let expiring = create_key(&app, json!({"expiresAt": "2030-03-01T13:00:00Z"})).await;
    assert_eq!(expiring["expiresAt"], "2030-03-01T13:00:00.000Z");
    let key = expiring["apiKey"].as_str().unwrap();
    let last_used = async |app: &TestApp| -> Value {
        let listed = list_keys(app, &app.api_key).await;
        let found = listed
            .iter()
            .find(|k| k["id"] == expiring["id"])
            .expect("listed");
        found["lastUsedAt"].clone()
    };

    assert_eq!(call(&app, key, Method::GET, "/api/v1/users").await.0, 200);
    assert_eq!(last_used(&app).await, "2030-03-01T12:00:00.000Z");
    clock.advance(Duration::seconds(30));
    assert_eq!(call(&app, key, Method::GET, "/api/v1/users").await.0, 200);
    assert_eq!(
        last_used(&app).await,
        "2030-03-01T12:00:00.000Z",
        "not a write per request"
    );
    clock.advance(Duration::seconds(31));
    assert_eq!(call(&app, key, Method::GET, "/api/v1/users").await.0, 200);
    assert_eq!(last_used(&app).await, "2030-03-01T12:01:01.000Z");

    clock.set(at("2030-03-01T13:00:00Z"));
    let (status, content_type, problem) = call(&app, key, Method::GET, "/api/v1/users").await;
    assert_problem(status, &content_type, &problem, 401);
    // Still listed, so it can be seen and removed.
    assert_eq!(list_keys(&app, &app.api_key).await.len(), 2);
    app.stop().await;
}

on_both_stores!(expiry_and_last_use_follow_the_clock);

/// Runs `leadline ARGS`: success, stdout, stderr.
async fn leadline(args: &[&str]) -> (bool, String, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadline"))
        .args(args)
        .output()
        .await
        .expect("leadline runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

both_stores!(
    the_cli_lists_and_revokes_keys_a_running_server_then_refuses,
    |app| {
        let url = app.database.url.clone();
        let (ok, stdout, stderr) = leadline(&[
            "apikey",
            "create",
            "--workspace",
            &app.workspace_id,
            "--name",
            "ops",
            "--scope",
            "read_only",
            "--database-url",
            &url,
        ])
        .await;
        assert!(ok, "{stderr}");
        let created: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
        let key = created["apiKey"].as_str().unwrap();
        // The server has it cached before the CLI revokes it.
        assert_eq!(call(app, key, Method::GET, "/api/v1/users").await.0, 200);

        let (ok, stdout, stderr) = leadline(&[
            "apikey",
            "list",
            "--workspace",
            &app.workspace_id,
            "--database-url",
            &url,
        ])
        .await;
        assert!(ok, "{stderr}");
        let lines: Vec<Value> = stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect();
        assert_eq!(lines.len(), 2, "{stdout}");
        assert_eq!(lines[1]["id"], created["id"]);
        assert_eq!(lines[1]["scope"], "read_only");
        assert_eq!(lines[1]["name"], "ops");
        assert!(!stdout.contains(&key[11..]) && !stdout.contains(&app.api_key[11..]));
        assert!(stderr.contains("2 API key"), "{stderr}");

        let id = created["id"].as_str().unwrap();
        let (ok, stdout, stderr) =
            leadline(&["apikey", "revoke", id, "--database-url", &url]).await;
        assert!(ok, "{stderr}");
        let revoked: Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
        assert_eq!(revoked["id"], id);
        assert_eq!(revoked["workspaceId"], app.workspace_id.as_str());
        // The running server refuses it on the request right after the command returned.
        assert_eq!(call(app, key, Method::GET, "/api/v1/users").await.0, 401);
        let (ok, stdout, stderr) =
            leadline(&["apikey", "revoke", id, "--database-url", &url]).await;
        assert!(
            !ok && stdout.is_empty() && stderr.contains("no API key"),
            "{stderr}"
        );
        let (ok, _, stderr) = leadline(&[
            "apikey",
            "create",
            "--workspace",
            &app.workspace_id,
            "--scope",
            "admin",
            "--database-url",
            &url,
        ])
        .await;
        assert!(!ok && stderr.contains("--scope"), "{stderr}");
    }
);
