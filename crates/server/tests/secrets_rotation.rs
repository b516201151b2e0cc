//! `leadline secrets rotate` against a running server that keeps sending: the command
//! writes a new key at the top of the key file and re-seals every channel secret and
//! LLM key under it in batches, while the server (reading the same key file) goes on
//! sending with the opened secrets, reads what was re-sealed, and seals new secrets
//! under the new key. `--drop-previous` then leaves only the new key in the file.

mod common;

use std::sync::Arc;

use common::TestApp;
use common::dispatch_steps::stepped;
use leadline_core::SystemClock;
use leadline_providers::signing::{SIGNATURE_HEADER, verify};
use leadline_server::serve::ServerOptions;
use leadline_store::secret_keys::read_key_file;
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, SecretKeys, Store, StoreOptions};
use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const BIN: &str = env!("CARGO_BIN_EXE_leadline");
const SIGNING_SECRET: &str = "rotation-signing-secret";
const CHANNELS: usize = 30;
const SENDS: usize = 20;

async fn rotate(database: &TestDatabase, extra: &[&str]) -> Value {
    let output = tokio::process::Command::new(BIN)
        .args(["secrets", "rotate", "--quiet", "--batch-size", "7"])
        .args(["--database-url", &database.url, "--secret-key-file"])
        .arg(&database.key_file)
        .args(extra)
        .env_remove("LEADLINE_SECRET_KEY")
        .output()
        .await
        .expect("leadline runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// The key id column of every channel.
async fn channel_key_ids(database: &TestDatabase) -> Vec<String> {
    let sql = "SELECT COALESCE(secrets_key_id, '') FROM channels ORDER BY id";
    match database.kind {
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&database.url).await.unwrap();
            let ids = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            ids
        }
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
            let ids = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            ids
        }
    }
}

impl TestApp {
    async fn http_channel(&self, url: &str, name: &str) -> String {
        let channel = self
            .create_channel(json!({
                "name": name, "messageProviderType": "SMS", "provider": "http", "sender": "+14155550100",
                "settings": {"url": url}, "secrets": {"signingSecret": SIGNING_SECRET}
            }))
            .await;
        channel["id"].as_str().unwrap().to_owned()
    }

    async fn add_contact(&self, cellphone: &str) {
        let (status, contact) = self.upsert_contact(json!({"cellphone": cellphone})).await;
        assert_eq!(status, 200, "{contact}");
    }

    async fn open_on(&self, channel: &str, cellphone: &str) -> (String, String) {
        let (status, opened) = self
            .post(
                &self.leadscout_path(),
                Self::leadscout_body(cellphone, channel, &["Ana", "Leo"]),
            )
            .await;
        assert_eq!(status, 200, "{opened}");
        (
            opened["conversation"]["id"].as_str().unwrap().to_owned(),
            opened["templateSent"]["messageId"]
                .as_str()
                .unwrap()
                .to_owned(),
        )
    }
}

async fn rotation_while_a_server_sends(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    // The server reads the key file, as `leadline serve` does.
    let keys = SecretKeys::from_file(database.key_file.clone()).unwrap();
    let old_kid = keys.ring().primary().id().to_owned();
    let options = StoreOptions {
        secret_keys: Some(keys),
        ..StoreOptions::default()
    };
    let store = Store::open(&database.url, options, Arc::new(SystemClock))
        .await
        .unwrap();
    // The dispatcher sends when the test steps it: while the rotation runs, each send
    // is made right after it is queued.
    let options = ServerOptions {
        outbound: common::loopback_gateways(),
        ..stepped()
    };
    let app = TestApp::serve(database, store, options).await;

    let gateway = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "gw"})))
        .mount(&gateway)
        .await;
    app.create_template(json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"}))
        .await;
    let mut channels = Vec::new();
    for i in 0..CHANNELS {
        channels.push(
            app.http_channel(&gateway.uri(), &format!("gateway {i}"))
                .await,
        );
    }
    let settings = json!({"agent": "LLM", "llm": {"baseUrl": "https://api.openai.com/v1", "model": "m", "apiKey": "sk-rotated"}});
    let response = app
        .request(reqwest::Method::PUT, "/api/v1/settings/agent")
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // Contacts first: the contact writer's transactions begin with a read, which a
    // write by another process (the rotation) makes SQLite refuse at once
    // (SQLITE_BUSY_SNAPSHOT) instead of waiting; see the report of this change.
    let cellphones: Vec<String> = (0..SENDS)
        .map(|i| format!("+1415555{:04}", 7100 + i))
        .collect();
    for cellphone in cellphones.iter().chain(["+14155557999".to_owned()].iter()) {
        app.add_contact(cellphone).await;
    }
    // Sends go on until the rotation has finished, from before it starts.
    let rotated = std::sync::atomic::AtomicBool::new(false);
    let sending = async {
        let mut opened = Vec::new();
        let mut i = 0;
        while i < SENDS || !rotated.load(std::sync::atomic::Ordering::SeqCst) {
            let (channel, cellphone) = (&channels[i % CHANNELS], &cellphones[i % SENDS]);
            opened.push(app.open_on(channel, cellphone).await);
            app.drain_dispatcher().await;
            i += 1;
        }
        opened
    };
    let rotating = async {
        let summary = rotate(&app.database, &["--generate"]).await;
        rotated.store(true, std::sync::atomic::Ordering::SeqCst);
        summary
    };
    let (opened, summary) = tokio::join!(sending, rotating);

    let new_kid = read_key_file(&app.database.key_file)
        .unwrap()
        .primary()
        .id()
        .to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        summary,
        json!({"reencrypted": CHANNELS + 1, "keyId": new_kid, "remaining": 0})
    );
    assert!(
        channel_key_ids(&app.database)
            .await
            .iter()
            .all(|kid| *kid == new_kid)
    );
    for (conversation, message) in &opened {
        app.wait_for_status(conversation, message, "sent").await;
    }

    // The server reads what was re-sealed, and seals new secrets under the new key.
    let (status, channel) = app.get(&format!("/api/v1/channels/{}", channels[0])).await;
    assert_eq!(status, 200, "{channel}");
    app.http_channel(&gateway.uri(), "after the rotation").await;
    assert!(
        channel_key_ids(&app.database)
            .await
            .iter()
            .all(|kid| *kid == new_kid)
    );
    let key = app
        .store
        .agent_settings(app.workspace_id.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(key.llm.unwrap().api_key.unwrap().expose(), "sk-rotated");

    // Once nothing needs it, the old key leaves the file; the server keeps sending.
    let summary = rotate(&app.database, &["--drop-previous"]).await;
    assert_eq!(
        summary,
        json!({"reencrypted": 0, "keyId": new_kid, "remaining": 0})
    );
    assert_eq!(
        read_key_file(&app.database.key_file).unwrap().key_ids(),
        std::slice::from_ref(&new_kid)
    );
    let (conversation, message) = app.open_on(&channels[1], "+14155557999").await;
    app.wait_for_status(&conversation, &message, "sent").await;

    // Every send, before, during and after the rotation, was signed with the secret.
    let requests = gateway.received_requests().await.unwrap();
    assert_eq!(requests.len(), opened.len() + 1);
    for request in requests {
        let signature = request
            .headers
            .get(SIGNATURE_HEADER)
            .unwrap()
            .to_str()
            .unwrap();
        verify(
            SIGNING_SECRET.as_bytes(),
            signature,
            &request.body,
            chrono::Utc::now(),
        )
        .expect("signed with the opened secret");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_on_sqlite() {
    rotation_while_a_server_sends(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_on_postgres() {
    rotation_while_a_server_sends(BackendKind::Postgres).await;
}

#[tokio::test]
async fn a_bad_key_is_refused_with_how_to_make_one() {
    let database = TestDatabase::create(BackendKind::Sqlite).await.unwrap();
    let output = tokio::process::Command::new(BIN)
        .args([
            "secrets",
            "rotate",
            "--quiet",
            "--database-url",
            &database.url,
        ])
        .env("LEADLINE_SECRET_KEY", "too-short")
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("LEADLINE_SECRET_KEY"), "{stderr}");
    assert!(stderr.contains("openssl rand -base64 32"), "{stderr}");
    assert!(
        !stderr.contains("too-short"),
        "the refused value is not echoed: {stderr}"
    );
}
