//! Dispatch to a slow gateway: 2,000 sends through the `http` provider to a loopback
//! gateway that answers each one after 2 s, on a channel allowed 200 concurrent calls,
//! on SQLite and on PostgreSQL. Measures the time from the dispatcher's start until the
//! outbox is empty and the calls the gateway received (they must equal the sends: a
//! slow gateway gets no repeats), beside the ceiling the settings allow: sends / 200
//! concurrent calls × 2 s.
//!
//!     cargo bench -p leadline-server --bench dispatch_slow_gateway
//!     SLOW_SENDS=4000 SLOW_CONCURRENCY=400 cargo bench -p leadline-server --bench dispatch_slow_gateway
//!
//! PostgreSQL is taken from LEADLINE_TEST_POSTGRES_URL (default
//! postgres://postgres@127.0.0.1:5432/test) and skipped when unreachable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use leadline_core::SystemClock;
use leadline_core::delivery::DeliverySettings;
use leadline_server::serve::{ServerOptions, start_with};
use leadline_server::testing::{CountingSink, http_sink_channel, seed_sends};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store};

const ANSWER_AFTER: Duration = Duration::from_secs(2);

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let sends = setting("SLOW_SENDS", 2_000);
    let concurrency = setting("SLOW_CONCURRENCY", 200);
    let ceiling = (sends as f64 / concurrency as f64).ceil() * ANSWER_AFTER.as_secs_f64();
    println!(
        "slow gateway benchmark: {sends} sends, gateway answers after {} s, {concurrency} concurrent calls allowed; \
         ceiling {ceiling:.1} s",
        ANSWER_AFTER.as_secs()
    );
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            println!("{kind:?}: skipped (database not reachable)");
            continue;
        };
        run(kind, &database.url, sends, concurrency).await;
    }
}

async fn run(kind: BackendKind, url: &str, sends: usize, concurrency: usize) {
    let sink = CountingSink::start(ANSWER_AFTER).await;
    let store = Store::open(
        url,
        leadline_server::testing::store_options_with_a_key(),
        Arc::new(SystemClock),
    )
    .await
    .expect("the store opens");
    let mut channel = http_sink_channel(&sink.url);
    channel.delivery = DeliverySettings {
        max_concurrent_sends: Some(u32::try_from(concurrency).expect("a concurrency")),
        ..DeliverySettings::default()
    };
    seed_sends(&store, channel, 100, sends).await;

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
    while store.outbox_depth().await.expect("depth") > 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drained = started.elapsed();
    server.stop().await.expect("the server stops");
    let calls = sink.total();
    println!(
        "{kind:?}: drained {sends} sends in {:.2} s ({:.0} sends/s); gateway calls {calls}, most at once {}",
        drained.as_secs_f64(),
        sends as f64 / drained.as_secs_f64(),
        sink.most_in_flight()
    );
    assert_eq!(calls, sends, "{kind:?}: every send made exactly one call");
    assert_eq!(sink.unique(), sends);
    store.close().await;
}
