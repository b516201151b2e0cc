//! Dispatcher throughput: queued sends pushed through the outbox to the `http`
//! provider, which posts each one over loopback HTTP to a local counting sink, on
//! SQLite and on PostgreSQL. Measures from the dispatcher's start until the outbox is
//! empty, then checks that every send reached the sink and is recorded as sent once.
//!
//!     cargo bench -p leadline-server --bench dispatch
//!     DISPATCH_MESSAGES=20000 cargo bench -p leadline-server --bench dispatch
//!
//! PostgreSQL is taken from LEADLINE_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/test) and skipped when unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::SystemClock;
use leadline_server::serve::{ServerOptions, start_with};
use leadline_server::testing::{CountingSink, seed_http_sends};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store};

#[tokio::main]
async fn main() {
    let messages: usize = std::env::var("DISPATCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!("dispatch benchmark: {messages} sends per store, http provider to a loopback sink");
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            println!("{kind:?}: skipped (database not reachable)");
            continue;
        };
        run(kind, &database.url, messages).await;
    }
}

async fn run(kind: BackendKind, url: &str, messages: usize) {
    let sink = CountingSink::start(Duration::ZERO).await;
    let store = Store::open(
        url,
        leadline_server::testing::store_options_with_a_key(),
        Arc::new(SystemClock),
    )
    .await
    .expect("the store opens");
    let seeding = Instant::now();
    seed_http_sends(&store, &sink.url, 100, messages).await;
    println!(
        "{kind:?}: queued {messages} sends in {:.1} s",
        seeding.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let server = start_with(
        store.clone(),
        "127.0.0.1:0",
        ServerOptions {
            outbound: leadline_server::testing::loopback_gateways(),
            ..ServerOptions::default()
        },
    )
    .await
    .expect("the dispatcher starts");
    let mut last_report = Instant::now();
    loop {
        let depth = store.outbox_depth().await.expect("depth");
        if depth == 0 {
            break;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            println!(
                "{kind:?}: {depth} still queued after {:.0} s",
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();
    server.stop().await.expect("the server stops");
    let unique = sink.unique();
    let repeated = sink.total() - unique;
    assert_eq!(unique, messages, "every send reached the sink");
    println!(
        "{kind:?}: {messages} sends in {:.2} s = {:.0} sends/s end to end; lost 0, repeated {repeated}",
        elapsed.as_secs_f64(),
        messages as f64 / elapsed.as_secs_f64()
    );
    store.close().await;
}
