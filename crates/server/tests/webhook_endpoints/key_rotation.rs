//! `leadline secrets rotate` re-seals both secrets of every webhook endpoint under the
//! new key while a server runs, and the server goes on opening them.

use std::sync::Arc;

use leadline_core::SystemClock;
use leadline_core::event::signature::WebhookSecret;
use leadline_server::serve::ServerOptions;
use leadline_store::secret_keys::read_key_file;
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, SecretKeys, Store, StoreOptions};
use serde_json::{Value, json};

use super::path;
use crate::common::TestApp;
use crate::common::events::ENDPOINT_URL;
use crate::on_both_stores;

/// The key ids of every endpoint's secret and previous secret.
async fn endpoint_key_ids(database: &TestDatabase) -> Vec<(String, Option<String>)> {
    let sql = "SELECT secret_key_id, previous_secret_key_id FROM webhook_endpoints ORDER BY id";
    match database.kind {
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&database.url).await.unwrap();
            let ids = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            ids
        }
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
            let ids = sqlx::query_as(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            ids
        }
    }
}

async fn rotate_keys(database: &TestDatabase, extra: &[&str]) -> Value {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_leadline"))
        .args(["secrets", "rotate", "--quiet", "--batch-size", "2"])
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

/// `leadline secrets rotate` re-seals both secrets of every endpoint under the new key,
/// and the server goes on opening them; then the old key can leave the file.
async fn key_rotation_reseals_webhook_secrets(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let keys = SecretKeys::from_file(database.key_file.clone()).unwrap();
    let old_kid = keys.ring().primary().id().to_owned();
    let options = StoreOptions {
        secret_keys: Some(keys),
        ..StoreOptions::default()
    };
    let store = Store::open(&database.url, options, Arc::new(SystemClock))
        .await
        .unwrap();
    let options = ServerOptions {
        outbound: crate::common::loopback_gateways(),
        ..crate::common::dispatch_steps::stepped()
    };
    let app = TestApp::serve(database, store, options).await;
    let mut endpoints = Vec::new();
    for n in 0..3 {
        let created = app
            .create_endpoint(json!({"url": ENDPOINT_URL, "description": format!("e{n}")}))
            .await;
        endpoints.push((
            created["id"].as_str().unwrap().to_owned(),
            created["secret"].as_str().unwrap().to_owned(),
            None,
        ));
    }
    // One endpoint in its overlap: a previous secret to re-seal too.
    let (status, rotated) = app
        .post(
            &format!("{}/rotate-secret", path(&endpoints[1].0)),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    endpoints[1].2 = Some(std::mem::replace(
        &mut endpoints[1].1,
        rotated["secret"].as_str().unwrap().to_owned(),
    ));
    assert!(
        endpoint_key_ids(&app.database)
            .await
            .iter()
            .all(|(kid, _)| *kid == old_kid)
    );

    let summary = rotate_keys(&app.database, &["--generate"]).await;
    let new_kid = read_key_file(&app.database.key_file)
        .unwrap()
        .primary()
        .id()
        .to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(
        summary,
        json!({"reencrypted": 3, "keyId": new_kid, "remaining": 0})
    );
    let kids = endpoint_key_ids(&app.database).await;
    assert!(kids.iter().all(|(kid, _)| *kid == new_kid), "{kids:?}");
    assert_eq!(
        kids.iter()
            .filter(|(_, previous)| previous.as_deref() == Some(new_kid.as_str()))
            .count(),
        1,
        "{kids:?}"
    );

    let summary = rotate_keys(&app.database, &["--drop-previous"]).await;
    assert_eq!(
        summary,
        json!({"reencrypted": 0, "keyId": new_kid, "remaining": 0})
    );
    assert_eq!(
        read_key_file(&app.database.key_file).unwrap().key_ids(),
        std::slice::from_ref(&new_kid)
    );
    for (id, secret, previous) in &endpoints {
        let (_, secrets) = app
            .store
            .webhook_delivery_target(id.parse().unwrap())
            .await
            .unwrap()
            .expect("the endpoint");
        assert_eq!(secrets.current, WebhookSecret::parse(secret).unwrap());
        assert_eq!(
            secrets.previous,
            previous
                .as_deref()
                .map(|p| WebhookSecret::parse(p).unwrap())
        );
    }
    // A rotation after the old key left seals under the new one.
    let (status, rotated) = app
        .post(
            &format!("{}/rotate-secret", path(&endpoints[0].0)),
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    assert!(
        endpoint_key_ids(&app.database)
            .await
            .iter()
            .all(|(kid, _)| *kid == new_kid)
    );
    app.stop().await;
}
on_both_stores!(
    key_rotation_reseals_webhook_secrets_,
    key_rotation_reseals_webhook_secrets
);
