//! Webhook delivery throughput: events written with their delivery jobs, delivered by
//! the dispatcher as signed POSTs over loopback HTTP to a local receiver that counts
//! `webhook-id`s, on SQLite and on PostgreSQL. Measures from the server's start until
//! the outbox is empty (every attempt and outcome recorded), then checks that every
//! delivery reached the receiver. The receiver alone, posted to by a plain client at
//! the same concurrency, is measured first in the same run: the ceiling.
//!
//!     cargo bench -p leadline-server --bench webhooks
//!     WEBHOOK_EVENTS=20000 WEBHOOK_ENDPOINTS=1 cargo bench -p leadline-server --bench webhooks
//!
//! PostgreSQL is taken from LEADLINE_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/test) and skipped when unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::SystemClock;
use leadline_core::event::{EventFilter, EventType, NewEvent};
use leadline_server::dispatcher::DispatcherOptions;
use leadline_server::serve::{ServerOptions, start_with};
use leadline_server::testing::CountingSink;
use leadline_store::testing::TestDatabase;
use leadline_store::webhook_endpoints::NewWebhookEndpoint;
use leadline_store::{BackendKind, Store};
use serde_json::json;

/// Events written by one change (one transaction).
const CHANGE: usize = 50;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let events = setting("WEBHOOK_EVENTS", 25_000);
    let endpoints = setting("WEBHOOK_ENDPOINTS", 4);
    let concurrency = DispatcherOptions::default().webhook_concurrency as usize;
    println!(
        "webhook benchmark: {events} events to {endpoints} endpoints ({} deliveries) per store, \
         {concurrency} in flight per endpoint, to a loopback receiver",
        events * endpoints
    );
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            println!("{kind:?}: skipped (database not reachable)");
            continue;
        };
        let ceiling = receiver_alone(events * endpoints, concurrency * endpoints).await;
        println!("{kind:?}: the receiver alone: {ceiling:.0} POSTs/s");
        run(kind, &database, events, endpoints).await;
    }
}

/// POSTs `count` deliveries shaped like the dispatcher's to a fresh receiver, with
/// `concurrency` in flight, and says how many it answered per second.
async fn receiver_alone(count: usize, concurrency: usize) -> f64 {
    let sink = CountingSink::start(Duration::ZERO).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .expect("a client");
    let body = NewEvent::new(
        leadline_core::WorkspaceId::new(),
        EventType::ContactCreated,
        "contact",
        json!({"id": "contact", "firstName": "Ana"}),
        chrono::Utc::now(),
    )
    .payload();
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, body, next) = (
                client.clone(),
                sink.webhook_url(),
                body.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < count {
                    let id = leadline_core::EventId::new().to_string();
                    client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("webhook-id", &id)
                        .header("webhook-timestamp", "1700000000")
                        .header("webhook-signature", "v1,AAAA")
                        .body(body.clone())
                        .send()
                        .await
                        .expect("the receiver answers")
                        .bytes()
                        .await
                        .expect("a body");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("the worker ends");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

async fn run(kind: BackendKind, database: &TestDatabase, events: usize, endpoints: usize) {
    let sink = CountingSink::start(Duration::ZERO).await;
    let store = Store::open(
        &database.url,
        database.store_options(),
        Arc::new(SystemClock),
    )
    .await
    .expect("the store opens");
    let (workspace, _) = store
        .create_workspace("Webhook load")
        .await
        .expect("a workspace");
    for n in 0..endpoints {
        let endpoint = NewWebhookEndpoint {
            url: format!("{}?endpoint={n}", sink.webhook_url()),
            description: format!("receiver {n}"),
            event_types: EventFilter::All,
            enabled: true,
            rate_limit: None,
        };
        store
            .create_webhook_endpoint(workspace.id, &endpoint)
            .await
            .expect("an endpoint");
    }
    // Events come from many changes over time, so each change's deliveries to the
    // endpoints follow one another in the outbox: written here in transactions of
    // CHANGE events.
    let seeding = Instant::now();
    for first in (0..events).step_by(CHANGE) {
        let now = store.clock().now();
        let change: Vec<NewEvent> = (first..(first + CHANGE).min(events))
            .map(|n| {
                let contact = format!("contact-{n}");
                let data = json!({"id": contact, "firstName": "Ana", "cellphone": "+14155550100"});
                NewEvent::new(workspace.id, EventType::ContactCreated, contact, data, now)
            })
            .collect();
        store.seed_events(&change).await.expect("events stored");
    }
    let deliveries = events * endpoints;
    println!(
        "{kind:?}: wrote {events} events and {deliveries} delivery jobs in {:.1} s",
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
    assert_eq!(sink.unique(), events, "every event reached the receiver");
    let short = sink
        .counts()
        .values()
        .filter(|n| (**n as usize) < endpoints)
        .count();
    let repeated = sink.total().saturating_sub(deliveries);
    assert_eq!(short, 0, "every event reached every endpoint");
    println!(
        "{kind:?}: {deliveries} deliveries in {:.2} s = {:.0} deliveries/s end to end; lost 0, repeated {repeated}",
        elapsed.as_secs_f64(),
        deliveries as f64 / elapsed.as_secs_f64()
    );
    store.close().await;
}
