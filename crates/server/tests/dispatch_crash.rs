//! Killing the server mid-dispatch loses no accepted send and records none twice: a
//! real `leadline serve` process sends to a counting sink, is killed with SIGKILL while
//! sends are in flight, and is started again. Through the `http` provider, which
//! honours the message id as idempotency key, sends in flight at the kill are sent
//! again; through Twilio, which takes no key, they are held as `uncertain` (never sent
//! twice), or sent again where the channel says `uncertainSends: resend`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::process::ServerProcess;
use common::waits::within;
use leadline_core::SystemClock;
use leadline_core::delivery::UncertainSends;
use leadline_server::dispatcher::OUTBOX_EMPTY;
use leadline_server::testing::{CountingSink, seed_http_sends, seed_sends, twilio_sink_channel};
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store};

const MESSAGES: usize = 3000;

/// Starts `leadline serve` on `database`, its dispatcher saying when it finds the outbox
/// empty (see [`OUTBOX_EMPTY`]).
fn start_server(database: &TestDatabase) -> ServerProcess {
    let mut command = ServerProcess::command(&database.url);
    command
        .args([
            "--job-lease-seconds",
            "2",
            // The gateways of this suite listen on 127.0.0.1.
            "--allow-outbound",
            "127.0.0.0/8",
        ])
        .env("LEADLINE_SECRET_KEY_FILE", &database.key_file);
    ServerProcess::spawn(&mut command, &["leadline_server::dispatcher=debug"])
}

async fn killed_mid_dispatch_loses_nothing(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    // A slow sink keeps many sends in flight when the kill comes.
    let sink = CountingSink::start(Duration::from_millis(5)).await;
    let store = open_store(&database).await;
    seed_http_sends(&store, &sink.url, 30, MESSAGES).await;

    for round in 1..=2 {
        let mut server = start_server(&database);
        let target = round * MESSAGES / 4;
        within(
            Duration::from_secs(60),
            format!("the sink has seen {target} sends"),
            sink.until(|sink| sink.total() >= target),
        )
        .await;
        server.kill().await;
        assert!(
            store.outbox_depth().await.unwrap() > 0,
            "round {round}: the kill came before the outbox was empty"
        );
    }

    restart_until_drained(&database, &store).await;

    // None lost: every message reached the provider and is recorded as sent with the
    // provider's id.
    assert_eq!(
        sink.unique(),
        MESSAGES,
        "every accepted send reached the provider"
    );
    let rows = message_rows(kind, &database.url).await;
    assert_eq!(rows.len(), MESSAGES, "one record per message");
    for (id, status, provider_id, _) in &rows {
        assert_eq!(status, "sent", "message {id}");
        assert_eq!(
            provider_id.as_deref(),
            Some(format!("sink-{id}").as_str()),
            "message {id}"
        );
    }
    // Sends repeated after a kill carry the same idempotency key, so a provider that
    // honours keys sends them once; only jobs in flight or awaiting their record at a
    // kill can repeat: at most the channel's concurrency plus the recorder's backlog
    // (a worker stops leasing past 256 unrecorded outcomes).
    let repeated = sink.total() - sink.unique();
    assert!(
        repeated <= 2 * (HTTP_CONCURRENCY + 256),
        "{repeated} repeats is more than the sends in flight or unrecorded at two kills"
    );
    store.close().await;
}

/// Starts a server again and stops it once it logs that the outbox is empty (every
/// job's outcome recorded, those abandoned by the kills taken over after their grace).
async fn restart_until_drained(database: &TestDatabase, store: &Store) {
    let mut server = start_server(database);
    let empty = within(
        Duration::from_secs(120),
        "the restarted server finds the outbox empty",
        server.stderr.line_containing(OUTBOX_EMPTY),
    )
    .await;
    assert!(
        empty.is_some(),
        "the restarted server exited before the outbox was empty:\n{}",
        server.stderr.lines().join("\n")
    );
    assert_eq!(
        store.outbox_depth().await.unwrap(),
        0,
        "the outbox is empty"
    );
    server.kill().await;
}

async fn open_store(database: &TestDatabase) -> Store {
    Store::open(
        &database.url,
        database.store_options(),
        Arc::new(SystemClock),
    )
    .await
    .expect("the store opens")
}

/// Every message: id, status, provider id and channel.
async fn message_rows(
    kind: BackendKind,
    url: &str,
) -> Vec<(String, String, Option<String>, String)> {
    const SQL: &str = "SELECT id, status, provider_message_id, channel_id FROM messages";
    match kind {
        BackendKind::Sqlite => {
            let pool = sqlx::SqlitePool::connect(url).await.unwrap();
            sqlx::query_as(SQL).fetch_all(&pool).await.unwrap()
        }
        BackendKind::Postgres => {
            let pool = sqlx::PgPool::connect(url).await.unwrap();
            sqlx::query_as(SQL).fetch_all(&pool).await.unwrap()
        }
    }
}

/// The default concurrency of the channels these tests send through.
const HTTP_CONCURRENCY: usize = 256;
const TWILIO_CONCURRENCY: usize = 50;

/// Two Twilio channels, one holding uncertain sends (the default) and one sending them
/// again, to a gateway that takes 3 s to answer; the server is killed while calls are
/// in flight and started again.
async fn killed_mid_call_without_idempotency_keys(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let holding = CountingSink::start(Duration::from_secs(3)).await;
    let resending = CountingSink::start(Duration::from_secs(3)).await;
    let store = open_store(&database).await;
    let (_, hold_channel, held_messages) =
        seed_sends(&store, twilio_sink_channel(&holding), 20, 150).await;
    let mut resend = twilio_sink_channel(&resending);
    resend.delivery.uncertain_sends = UncertainSends::Resend;
    let (_, resend_channel, resent_messages) = seed_sends(&store, resend, 20, 150).await;

    let mut server = start_server(&database);
    within(
        Duration::from_secs(60),
        "calls are in flight on both channels",
        async {
            tokio::join!(
                holding.until(|sink| sink.total() >= 20),
                resending.until(|sink| sink.total() >= 20)
            )
        },
    )
    .await;
    server.kill().await;
    let in_flight_at_kill = (holding.total(), resending.total());

    restart_until_drained(&database, &store).await;

    let rows = message_rows(kind, &database.url).await;
    let on = |channel: leadline_core::ChannelId| {
        rows.iter().filter(move |row| row.3 == channel.to_string())
    };
    // Holding: nothing reached the gateway twice; what was in flight at the kill is
    // uncertain, everything else sent.
    let mut uncertain = 0;
    for (id, status, _, _) in on(hold_channel) {
        let seen = holding.count(id);
        assert!(
            seen <= 1,
            "{kind:?}: message {id} reached the gateway {seen} times"
        );
        match status.as_str() {
            "sent" => assert_eq!(seen, 1, "{kind:?}: sent message {id}"),
            "uncertain" => uncertain += 1,
            other => panic!("{kind:?}: message {id} ended {other}"),
        }
    }
    assert_eq!(on(hold_channel).count(), held_messages);
    assert!(
        uncertain > 0,
        "{kind:?}: the kill came while calls were in flight"
    );
    assert!(
        uncertain <= in_flight_at_kill.0.max(TWILIO_CONCURRENCY),
        "{kind:?}: {uncertain} uncertain, more than were in flight ({in_flight_at_kill:?})"
    );
    // Resending: every message sent; only those in flight at the kill went twice.
    for (id, status, _, _) in on(resend_channel) {
        assert_eq!(status, "sent", "{kind:?}: message {id}");
        assert!(
            resending.count(id) >= 1,
            "{kind:?}: message {id} never reached the gateway"
        );
    }
    assert_eq!(on(resend_channel).count(), resent_messages);
    assert!(resending.total() - resending.unique() <= TWILIO_CONCURRENCY);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_call_without_idempotency_keys_on_sqlite() {
    killed_mid_call_without_idempotency_keys(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_call_without_idempotency_keys_on_postgres() {
    killed_mid_call_without_idempotency_keys(BackendKind::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_dispatch_on_sqlite() {
    killed_mid_dispatch_loses_nothing(BackendKind::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_dispatch_on_postgres() {
    killed_mid_dispatch_loses_nothing(BackendKind::Postgres).await;
}
