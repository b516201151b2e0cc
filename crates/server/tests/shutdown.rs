//! Stopping the server: a stop waits for the work in flight, but only until its
//! deadline. What is still running then is abandoned without recording anything half
//! way; its lease brings it back later.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::SystemClock;
use leadline_server::serve::{ServerOptions, start_with};
use leadline_server::testing::seed_http_sends;
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// A provider endpoint on 127.0.0.1 that accepts connections and never answers; each
/// connection is announced on the receiver.
async fn silent_provider() -> (String, mpsc::UnboundedReceiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    let (arrived, arrivals) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((connection, _)) = listener.accept().await {
            held.push(connection);
            let _ = arrived.send(());
        }
    });
    (url, arrivals)
}

async fn open_store(database: &TestDatabase) -> Store {
    Store::open(
        &database.url,
        database.store_options(),
        Arc::new(SystemClock),
    )
    .await
    .expect("the test store opens")
}

async fn statuses(database: &TestDatabase) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(&database.url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as("SELECT status FROM messages")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    rows.into_iter().map(|(status,)| status).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_still_in_flight_at_the_deadline_is_abandoned_unrecorded() {
    let database = TestDatabase::create(BackendKind::Sqlite).await.unwrap();
    let store = open_store(&database).await;
    let (provider, mut arrivals) = silent_provider().await;
    seed_http_sends(&store, &provider, 1, 1).await;
    let server = start_with(
        store.clone(),
        "127.0.0.1:0",
        ServerOptions {
            outbound: leadline_server::testing::loopback_gateways(),
            ..ServerOptions::default()
        },
    )
    .await
    .expect("the server starts");
    tokio::time::timeout(Duration::from_secs(10), arrivals.recv())
        .await
        .expect("the dispatcher calls the provider");

    // The provider would keep the send for its 10 s timeout; the stop gives it half a
    // second.
    let started = Instant::now();
    let stopped = server
        .stop_within(Duration::from_millis(500))
        .await
        .expect("the server stops");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the stop took {:?}",
        started.elapsed()
    );
    assert_eq!(stopped.abandoned, ["dispatcher"]);

    // Nothing was recorded: the message is still queued, its job still in the outbox
    // (leased until the lease runs out).
    assert_eq!(store.outbox_depth().await.unwrap(), 1);
    store.close().await;
    assert_eq!(statuses(&database).await, ["queued"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_server_stops_at_once_abandoning_nothing() {
    let database = TestDatabase::create(BackendKind::Sqlite).await.unwrap();
    let store = open_store(&database).await;
    let options = ServerOptions {
        shutdown_timeout: Duration::from_secs(60),
        outbound: leadline_server::testing::loopback_gateways(),
        ..ServerOptions::default()
    };
    let server = start_with(store.clone(), "127.0.0.1:0", options)
        .await
        .expect("the server starts");
    let health = reqwest::get(format!("http://{}/healthz", server.address))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    let started = Instant::now();
    let stopped = server
        .stop_within(Duration::from_secs(60))
        .await
        .expect("the server stops");
    assert!(stopped.abandoned.is_empty(), "{:?}", stopped.abandoned);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the stop took {:?}",
        started.elapsed()
    );
    store.close().await;
}
