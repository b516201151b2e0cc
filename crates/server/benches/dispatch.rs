//! Dispatcher throughput: queued sends pushed through the outbox to the `http`
//! provider, which posts each one over loopback HTTP to a local counting sink, on
//! SQLite and on PostgreSQL. Measures from the dispatcher's start until every send has
//! reached the sink and is recorded as sent, then checks that each was sent once.
//!
//! Each store runs twice: as is, and with a webhook endpoint subscribed to every event
//! type (each send's `message.sent` event delivered to a second sink), so the last
//! lines say what subscribing costs the sends.
//!
//!     cargo bench -p leadline-server --bench dispatch
//!     DISPATCH_MESSAGES=20000 cargo bench -p leadline-server --bench dispatch
//!
//! PostgreSQL is taken from LEADLINE_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/test) and skipped when unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::SystemClock;
use leadline_core::event::EventFilter;
use leadline_server::serve::{ServerOptions, start_with};
use leadline_server::testing::{CountingSink, http_sink_channel, seed_sends};
use leadline_store::testing::TestDatabase;
use leadline_store::webhook_endpoints::NewWebhookEndpoint;
use leadline_store::{BackendKind, Store};

#[tokio::main]
async fn main() {
    let messages: usize = std::env::var("DISPATCH_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    println!("dispatch benchmark: {messages} sends per store, http provider to a loopback sink");
    let mut costs = Vec::new();
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let mut rates = [0.0; 2];
        for (subscribed, rate) in [false, true].into_iter().zip(&mut rates) {
            let Some(database) = TestDatabase::create(kind).await else {
                println!("{kind:?}: skipped (database not reachable)");
                break;
            };
            *rate = run(kind, &database, messages, subscribed).await;
        }
        if rates[0] > 0.0 && rates[1] > 0.0 {
            costs.push(format!(
                "{kind:?}: sends keep {:.2} of their speed with every event type subscribed",
                rates[1] / rates[0]
            ));
        }
    }
    for cost in costs {
        println!("{cost}");
    }
}

/// Sends `messages` through a fresh store and returns the sends per second, from the
/// dispatcher's start until every send is at the sink and recorded as sent.
async fn run(kind: BackendKind, database: &TestDatabase, messages: usize, subscribed: bool) -> f64 {
    let label = if subscribed {
        format!("{kind:?}, every event subscribed")
    } else {
        format!("{kind:?}")
    };
    let sink = CountingSink::start(Duration::ZERO).await;
    let receiver = CountingSink::start(Duration::ZERO).await;
    let store = Store::open(
        &database.url,
        leadline_server::testing::store_options_with_a_key(),
        Arc::new(SystemClock),
    )
    .await
    .expect("the store opens");
    let seeding = Instant::now();
    let (workspace, _, _) = seed_sends(&store, http_sink_channel(&sink.url), 100, messages).await;
    if subscribed {
        let endpoint = NewWebhookEndpoint {
            url: receiver.webhook_url(),
            description: "every event".into(),
            event_types: EventFilter::All,
            enabled: true,
            rate_limit: None,
        };
        store
            .create_webhook_endpoint(workspace, &endpoint)
            .await
            .expect("an endpoint");
    }
    println!(
        "{label}: queued {messages} sends in {:.1} s",
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
    // Waits on the sink's arrivals, then reads the store only for the last outcomes.
    sink.until(|sink| sink.unique() >= messages).await;
    while sent(&store).await < messages {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    let mut last_report = Instant::now();
    while store.outbox_depth().await.expect("depth") > 0 {
        if last_report.elapsed() > Duration::from_secs(5) {
            println!("{label}: {} deliveries of events so far", receiver.total());
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let drained = started.elapsed();
    server.stop().await.expect("the server stops");
    let repeated = sink.total() - sink.unique();
    assert_eq!(sink.unique(), messages, "every send reached the sink");
    let rate = messages as f64 / elapsed.as_secs_f64();
    println!(
        "{label}: {messages} sends in {:.2} s = {rate:.0} sends/s end to end; lost 0, repeated {repeated}",
        elapsed.as_secs_f64(),
    );
    if subscribed {
        assert!(
            receiver.unique() >= messages,
            "every message.sent was delivered"
        );
        println!(
            "{label}: {} event deliveries, the outbox empty after {:.2} s",
            receiver.total(),
            drained.as_secs_f64()
        );
    }
    store.close().await;
    rate
}

/// Outbound messages recorded as sent.
async fn sent(store: &Store) -> usize {
    let counts = store.outbound_status_counts().await.expect("counts");
    counts.get("sent").copied().unwrap_or(0) as usize
}
