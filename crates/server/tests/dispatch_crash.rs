//! Killing the server mid-dispatch loses no accepted send and records none twice: a
//! real `leadline serve` process sends through the `http` provider to a counting sink,
//! is killed with SIGKILL while sends are in flight, and is started again.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::SystemClock;
use leadline_server::testing::{CountingSink, seed_http_sends};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store, StoreOptions};
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_leadline");
const MESSAGES: usize = 3000;

async fn start_server(url: &str) -> Child {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Command::new(BIN)
        .args([
            "serve",
            "--database-url",
            url,
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--job-lease-seconds",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("leadline starts")
}

async fn wait_until(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn killed_mid_dispatch_loses_nothing(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    // A slow sink keeps many sends in flight when the kill comes.
    let sink = CountingSink::start(Duration::from_millis(5)).await;
    let store = Store::open(
        &database.url,
        StoreOptions::default(),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    seed_http_sends(&store, &sink.url, 30, MESSAGES).await;

    for round in 1..=2 {
        let mut server = start_server(&database.url).await;
        let target = round * MESSAGES / 4;
        wait_until("the sink is busy", Duration::from_secs(60), async || {
            sink.total() >= target
        })
        .await;
        server.kill().await.expect("SIGKILL");
        let _ = server.wait().await;
        assert!(
            store.outbox_depth().await.unwrap() > 0,
            "round {round}: the kill came before the outbox was empty"
        );
    }

    let mut server = start_server(&database.url).await;
    wait_until(
        "the outbox is empty",
        Duration::from_secs(120),
        async || store.outbox_depth().await.unwrap() == 0,
    )
    .await;
    server.kill().await.unwrap();

    // None lost: every message reached the provider and is recorded as sent with the
    // provider's id.
    assert_eq!(
        sink.unique(),
        MESSAGES,
        "every accepted send reached the provider"
    );
    let rows: Vec<(String, String, Option<String>)> = match kind {
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&database.url).await.unwrap();
            sqlx::query_as("SELECT id, status, provider_message_id FROM messages")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
            sqlx::query_as("SELECT id, status, provider_message_id FROM messages")
                .fetch_all(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(rows.len(), MESSAGES, "one record per message");
    for (id, status, provider_id) in &rows {
        assert_eq!(status, "sent", "message {id}");
        assert_eq!(
            provider_id.as_deref(),
            Some(format!("sink-{id}").as_str()),
            "message {id}"
        );
    }
    // Sends repeated after a kill carry the same idempotency key, so a provider that
    // honours keys sends them once; only jobs in flight at a kill can repeat.
    let repeated = sink.total() - sink.unique();
    assert!(
        repeated <= 2 * 2 * 256,
        "{repeated} repeats is more than the leased batches at two kills"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_dispatch_on_sqlite() {
    killed_mid_dispatch_loses_nothing(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_dispatch_on_postgres() {
    killed_mid_dispatch_loses_nothing(BackendKind::Postgres).await;
}
