//! Killing the server mid-delivery loses no event: a real `leadline serve` process
//! delivers to a receiver that holds the first delivery without answering, is killed
//! with SIGKILL while it waits, and is started again. Once the dead process's lease is
//! taken over, the held event is delivered again under the same `webhook-id` (at
//! least once, as Standard Webhooks receivers expect), and every event arrives.

use std::sync::Arc;
use std::time::Duration;

use leadline_core::SystemClock;
use leadline_core::event::EventFilter;
use leadline_server::dispatcher::OUTBOX_EMPTY;
use leadline_store::testing::TestDatabase;
use leadline_store::{BackendKind, Store};

use super::{cause_events, endpoint, trust};
use crate::common::process::ServerProcess;
use crate::common::receiver::{Receiver, Reply};
use crate::common::waits::within;

const EVENTS: usize = 40;
/// Long enough for a lease (2 s), its takeover grace (10 s) and a restart, on a
/// machine busy with other builds.
const LIMIT: Duration = Duration::from_secs(150);

fn start_server(database: &TestDatabase) -> ServerProcess {
    let mut command = ServerProcess::command(&database.url);
    command
        .args([
            "--job-lease-seconds",
            "2",
            // The receiver listens on 127.0.0.1.
            "--allow-outbound",
            "127.0.0.0/8",
        ])
        .env("LEADLINE_SECRET_KEY_FILE", &database.key_file);
    ServerProcess::spawn(&mut command, &["leadline_server::dispatcher=debug"])
}

async fn killed_mid_delivery_loses_no_event(kind: BackendKind) {
    let Some(database) = TestDatabase::create(kind).await else {
        return;
    };
    let store = Store::open(
        &database.url,
        database.store_options(),
        Arc::new(SystemClock),
    )
    .await
    .expect("the store opens");
    let (workspace, _) = store
        .create_workspace("Deliveries")
        .await
        .expect("a workspace");
    let receiver = Receiver::start(Reply::Accept).await;
    receiver.plan([Reply::Hang]);
    let (_, secret) = endpoint(&store, workspace.id, &receiver.url, EventFilter::All).await;
    trust(&receiver, &secret);
    let events = cause_events(&store, workspace.id, EVENTS).await;

    let mut server = start_server(&database);
    server.ready().await;
    receiver
        .until("the receiver holds a delivery", LIMIT, |seen| {
            !seen.is_empty()
        })
        .await;
    let held = receiver.arrivals()[0].webhook_id.clone();
    assert_eq!(receiver.hanging(), 1);
    server.kill().await;
    assert!(
        store.outbox_depth().await.unwrap() > 0,
        "the held delivery's job outlives the process"
    );

    let mut server = start_server(&database);
    server.ready().await;
    receiver
        .until("the held event is delivered again", LIMIT, |seen| {
            seen.iter().filter(|a| a.webhook_id == held).count() >= 2
        })
        .await;
    within(
        LIMIT,
        "the restarted server finds the outbox empty",
        server.stderr.line_containing(OUTBOX_EMPTY),
    )
    .await
    .expect("the server runs until the outbox is empty");
    server.terminate().await;

    let arrivals = receiver.arrivals();
    for event in &events {
        let id = event.to_string();
        let deliveries: Vec<_> = arrivals.iter().filter(|a| a.webhook_id == id).collect();
        assert!(!deliveries.is_empty(), "event {id} was delivered");
        assert!(
            deliveries.iter().all(|a| a.verified_by == vec![0]),
            "every delivery of {id} verifies"
        );
    }
    let distinct: std::collections::HashSet<&str> =
        arrivals.iter().map(|a| a.webhook_id.as_str()).collect();
    assert_eq!(distinct.len(), EVENTS, "nothing arrived but the events");
    store.close().await;
}
crate::on_both_stores!(killed_mid_delivery_loses_no_event);
