//! The dispatcher under ordinary faults, on SQLite and PostgreSQL: a gateway slower
//! than the lease, a gateway that hangs in one workspace while another sends, a
//! gateway that answers every send with the same id, and a channel's rate. Sends go
//! through the `http` provider to counting sinks on 127.0.0.1, which count each
//! message id they receive. The tests step the dispatchers (`run_once`), so what a step
//! sent is recorded when it returns; the rate is checked on a simulated clock.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::waits::within;
use leadline_core::channel::ProviderKind;
use leadline_core::delivery::default_concurrency;
use leadline_core::{Clock, ManualClock, SystemClock};
use leadline_server::dispatcher::{Dispatcher, DispatcherOptions};
use leadline_server::serve::{RunningServer, ServerOptions, start_with};
use leadline_server::testing::{
    CountingSink, SinkOptions, http_sink_channel, seed_http_sends, seed_sends,
};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store};

async fn store_of(database: &TestDatabase, clock: Arc<dyn Clock>) -> Store {
    Store::open(&database.url, database.store_options(), clock)
        .await
        .expect("the store opens")
}

/// A server over `store` whose dispatcher runs when stepped (see [`stepper`]).
async fn stepped(store: &Store, dispatcher: DispatcherOptions) -> RunningServer {
    let options = ServerOptions {
        dispatcher,
        without_dispatcher: true,
        outbound: leadline_server::testing::loopback_gateways(),
        ..ServerOptions::default()
    };
    start_with(store.clone(), "127.0.0.1:0", options)
        .await
        .expect("the server starts")
}

fn stepper(server: &RunningServer) -> &Dispatcher {
    server
        .dispatcher()
        .expect("a server without background workers steps its dispatcher")
}

/// Steps `server`'s dispatcher until nothing is due; how many jobs it handled.
async fn drain(server: &RunningServer) -> usize {
    stepper(server)
        .drain()
        .await
        .expect("the dispatcher's store answers")
}

/// Status → count of every outbound message.
async fn statuses(store: &Store) -> std::collections::BTreeMap<String, i64> {
    store.outbound_status_counts().await.expect("counts")
}

async fn slower_than_the_lease(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let store = store_of(&database, Arc::new(SystemClock)).await;
    // Each call takes 2.5 s; a lease lasts 1 s unless renewed.
    let sink = CountingSink::start(Duration::from_millis(2500)).await;
    let messages = seed_http_sends(&store, &sink.url, 20, 40).await;
    let options = DispatcherOptions {
        lease: Duration::from_secs(1),
        send_timeout: Duration::from_secs(10),
        ..DispatcherOptions::default()
    };
    // Two dispatchers on one database, as two nodes would be, stepped at once until
    // neither has anything due: every call outlives its first lease.
    let first = stepped(&store, options.clone()).await;
    let second = stepped(&store, options).await;
    tokio::join!(drain(&first), drain(&second));
    assert_eq!(
        store.outbox_depth().await.unwrap(),
        0,
        "{kind:?}: every outcome is recorded"
    );
    first.stop().await.unwrap();
    second.stop().await.unwrap();
    assert_eq!(
        sink.unique(),
        messages,
        "{kind:?}: every message reached the gateway"
    );
    assert_eq!(sink.total(), messages, "{kind:?}: and none twice");
    assert_eq!(statuses(&store).await.get("sent"), Some(&(messages as i64)));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_slower_than_the_lease_gets_each_message_once_on_sqlite() {
    slower_than_the_lease(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_slower_than_the_lease_gets_each_message_once_on_postgres() {
    slower_than_the_lease(BackendKind::Postgres).await;
}

async fn hanging_neighbour(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let store = store_of(&database, Arc::new(SystemClock)).await;
    let hanging = CountingSink::start(Duration::from_secs(3600)).await;
    let healthy = CountingSink::start(Duration::ZERO).await;
    // The hanging workspace queued first: by due time alone it would go first.
    let (_, hanging_channel, _) =
        seed_sends(&store, http_sink_channel(&hanging.url), 50, 300).await;
    let healthy_messages = seed_http_sends(&store, &healthy.url, 20, 20).await;
    let server = stepped(
        &store,
        DispatcherOptions {
            send_timeout: Duration::from_secs(2),
            ..DispatcherOptions::default()
        },
    )
    .await;
    // One step leases in turns across workspaces: the healthy workspace's sends are
    // answered while the hanging gateway holds its lane's calls, and the step returns
    // once those have timed out.
    let started = Instant::now();
    let (step, took) = tokio::join!(stepper(&server).run_once(), async {
        within(
            Duration::from_secs(30),
            "the healthy workspace's sends are out",
            healthy.until(|sink| sink.unique() == healthy_messages),
        )
        .await;
        started.elapsed()
    });
    step.expect("the dispatcher's store answers");
    assert!(
        took < Duration::from_secs(5),
        "{kind:?}: the healthy workspace waited {took:?}"
    );
    // The hanging gateway's calls timed out; its circuit opened and its messages wait
    // without using their attempts.
    assert!(
        store
            .lane_circuit(&hanging_channel.to_string())
            .await
            .unwrap()
            .is_some(),
        "{kind:?}: the hanging channel's circuit is open"
    );
    let counts = statuses(&store).await;
    assert_eq!(
        counts.get("failed"),
        None,
        "{kind:?}: nothing failed for good: {counts:?}"
    );
    assert_eq!(
        counts.get("sent"),
        Some(&(healthy_messages as i64)),
        "{counts:?}"
    );
    assert!(
        hanging.most_in_flight() <= default_concurrency(ProviderKind::Http) as usize,
        "{kind:?}: the hanging gateway had {} calls at once, over the lane's concurrency",
        hanging.most_in_flight()
    );
    server.stop().await.unwrap();
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_gateway_does_not_hold_up_another_workspace_on_sqlite() {
    hanging_neighbour(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_gateway_does_not_hold_up_another_workspace_on_postgres() {
    hanging_neighbour(BackendKind::Postgres).await;
}

async fn one_id_for_every_message(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let store = store_of(&database, Arc::new(SystemClock)).await;
    let sink = CountingSink::start_with(SinkOptions {
        delay: Duration::ZERO,
        fixed_id: Some("same-id".into()),
    })
    .await;
    let messages = seed_http_sends(&store, &sink.url, 30, 300).await;
    // Every send is made and recorded when the drain returns.
    let server = stepped(&store, DispatcherOptions::default()).await;
    drain(&server).await;
    assert_eq!(store.outbox_depth().await.unwrap(), 0, "{kind:?}");
    server.stop().await.unwrap();
    assert_eq!(
        sink.total(),
        messages,
        "{kind:?}: every message sent once, none again"
    );
    let counts = statuses(&store).await;
    assert_eq!(
        counts.get("sent"),
        Some(&(messages as i64)),
        "{kind:?}: every message recorded: {counts:?}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_reusing_one_id_gets_every_message_recorded_and_none_resent_on_sqlite() {
    one_id_for_every_message(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_reusing_one_id_gets_every_message_recorded_and_none_resent_on_postgres() {
    one_id_for_every_message(BackendKind::Postgres).await;
}

async fn rate_limited_channel(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    // The lanes' rate buckets and the leases read the store's clock, which the test
    // moves.
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let store = store_of(&database, clock.clone()).await;
    let sink = CountingSink::start(Duration::ZERO).await;
    let mut channel = http_sink_channel(&sink.url);
    channel.delivery.sends_per_second = Some(10.0);
    let (_, _, messages) = seed_sends(&store, channel, 10, 30).await;
    let server = stepped(&store, DispatcherOptions::default()).await;
    // A second's worth at once, then ten a second: 30 sends take two seconds at least.
    let mut sent = Vec::new();
    for advance in [0, 550, 500, 800, 250] {
        clock.advance(chrono::Duration::milliseconds(advance));
        drain(&server).await;
        sent.push(sink.total());
    }
    assert_eq!(
        sent,
        [10, 15, 20, 28, 30],
        "{kind:?}: sends by 0, 0.55, 1.05, 1.85 and 2.1 s at 10/s"
    );
    assert_eq!(store.outbox_depth().await.unwrap(), 0, "{kind:?}");
    server.stop().await.unwrap();
    assert_eq!(
        (sink.unique(), sink.total()),
        (messages, messages),
        "{kind:?}"
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_sends_no_faster_than_its_rate_on_sqlite() {
    rate_limited_channel(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_sends_no_faster_than_its_rate_on_postgres() {
    rate_limited_channel(BackendKind::Postgres).await;
}
