//! The live stream on both stores: it follows the log (another node's writes
//! included, and two `leadline serve` processes on PostgreSQL), resumes after
//! `Last-Event-ID`, refuses bad filters before it starts, and ends when its key is
//! revoked or the server stops.

use std::sync::Arc;
use std::time::Duration;

use leadline_server::serve::start_with;
use leadline_store::webhook_endpoints::{AttemptStatus, NewWebhookAttempt};
use leadline_store::{BackendKind, Store};
use reqwest::Method;
use serde_json::{Value, json};

use super::{DISABLED, WAIT, gone_endpoints};
use crate::cluster::Cluster;
use crate::common::dispatch_steps::stepped;
use crate::common::events::{SseEvent, SseReader};
use crate::common::{TestApp, assert_invalid};
use crate::{both_stores, on_both_stores};

impl TestApp {
    /// Opens the event stream with `query`, resuming after `last` when given.
    async fn stream(&self, query: &str, last: Option<&str>) -> SseReader {
        let mut request = self.request(Method::GET, &format!("/api/v1/events/stream?{query}"));
        if let Some(last) = last {
            request = request.header("Last-Event-ID", last);
        }
        SseReader::new(request.send().await.expect("the stream opens"))
    }
}

/// The event of the log with `id`, as the stream sends it: its payload and id.
fn as_streamed(listed: &Value) -> SseEvent {
    let mut data = listed.clone();
    let id = data.as_object_mut().unwrap().remove("id").unwrap();
    SseEvent {
        id: id.as_str().unwrap().to_owned(),
        event: listed["type"].as_str().unwrap().to_owned(),
        data,
    }
}

both_stores!(the_stream_follows_the_log_and_resumes, |app| {
    let mut stream = app.stream(&format!("type={DISABLED}"), None).await;
    // Written through another store on the same database: another node.
    let other_node = Store::open(
        &app.database.url,
        app.database.store_options(),
        Arc::new(leadline_core::SystemClock),
    )
    .await
    .unwrap();
    let endpoints = [app.endpoint("a").await, app.endpoint("b").await];
    for endpoint in &endpoints {
        other_node
            .record_webhook_attempts(&[crate::common::events::gone_attempt(app, endpoint)])
            .await
            .unwrap();
    }
    let first = stream
        .next_within(WAIT, "the first event is streamed")
        .await;
    let second = stream
        .next_within(WAIT, "the second event is streamed")
        .await;
    let listed = app.events("").await;
    assert_eq!(
        vec![first.clone(), second.clone()],
        listed.iter().map(as_streamed).collect::<Vec<_>>()
    );
    assert_eq!(first.event, DISABLED);
    assert_eq!(first.data["data"]["id"], endpoints[0].as_str());
    drop(stream);

    // Resumed after the first: the second from the log, then what comes next, live.
    let mut resumed = app.stream("", Some(&first.id)).await;
    let again = resumed
        .next_within(WAIT, "the event after Last-Event-ID")
        .await;
    assert_eq!(again, second);
    gone_endpoints(app, 1).await;
    let third = resumed.next_within(WAIT, "a new event, live").await;
    let metrics = app
        .anonymous(Method::GET, "/metrics")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("leadline_event_streams_open ")),
        "{metrics}"
    );
    assert!(third.id > second.id, "{} after {}", third.id, second.id);
    assert_eq!(third, as_streamed(&app.events("").await[2]));
    drop(resumed);

    // Resumed after the last: nothing old comes again, the next one does.
    let mut latest = app
        .stream(&format!("type={DISABLED}"), Some(&third.id))
        .await;
    gone_endpoints(app, 1).await;
    let fourth = latest.next_within(WAIT, "the next event only").await;
    assert_eq!(fourth, as_streamed(&app.events("").await[3]));
    drop(latest);
    other_node.close().await;

    // Refusals come before the stream starts.
    let (status, refused) = app.get("/api/v1/events/stream?type=lead.nope").await;
    assert_invalid(status, &refused, "type");
    let response = app
        .request(Method::GET, "/api/v1/events/stream")
        .header("Last-Event-ID", "not-an-id")
        .send()
        .await
        .unwrap();
    let (status, refused) = crate::common::read(response).await;
    assert_invalid(status, &refused, "Last-Event-ID");
});

both_stores!(a_revoked_key_ends_its_streams, |app| {
    let (status, created) = app
        .post("/api/v1/api-keys", serde_json::json!({"name": "console"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["apiKey"].as_str().unwrap();
    let response = app
        .anonymous(Method::GET, "/api/v1/events/stream")
        .header("x-api-key", key)
        .send()
        .await
        .unwrap();
    let mut stream = SseReader::new(response);
    let revoke = format!("/api/v1/api-keys/{}", created["id"].as_str().unwrap());
    let (status, _, _) = app.send(app.request(Method::DELETE, &revoke)).await;
    assert_eq!(status, 204);
    let ended =
        crate::common::waits::within(WAIT, "the revoked key's stream ends", stream.ended()).await;
    assert!(ended, "the stream ended cleanly");
    // The app's own key still streams.
    let mut ours = app.stream("", None).await;
    gone_endpoints(app, 1).await;
    ours.next_within(WAIT, "an event on a key in force").await;
});

/// Two `leadline serve` processes on one PostgreSQL both stream an event that neither
/// of them wrote: each follows the shared log, not what it saw itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_stream_what_another_node_writes() {
    let Some(database) = leadline_store::testing::TestDatabase::create(BackendKind::Postgres).await
    else {
        return;
    };
    let cluster = Cluster::start(&database.url, &database.key_file, 2).await;
    let (status, created) = cluster
        .post(0, "/api/v1/api-keys", &json!({"name": "console"}))
        .await;
    assert_eq!(status, 201, "{created}");
    let key = created["apiKey"].as_str().unwrap().to_owned();
    let (status, endpoint) = cluster
        .post(
            1,
            "/api/v1/webhook-endpoints",
            &json!({"url": "http://127.0.0.1:9/x"}),
        )
        .await;
    assert_eq!(status, 201, "{endpoint}");
    let mut streams = Vec::new();
    for node in &cluster.nodes {
        let response = reqwest::Client::new()
            .get(format!(
                "{}/api/v1/events/stream?type={DISABLED}",
                node.base
            ))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap();
        streams.push(SseReader::new(response));
    }
    // A third writer on the same database.
    let writer = Store::open(
        &database.url,
        database.store_options(),
        Arc::new(leadline_core::SystemClock),
    )
    .await
    .unwrap();
    let endpoint_id = endpoint["id"].as_str().unwrap();
    writer
        .record_webhook_attempts(&[NewWebhookAttempt {
            workspace_id: cluster.workspace_id.parse().unwrap(),
            endpoint_id: endpoint_id.parse().unwrap(),
            event_id: leadline_core::EventId::new(),
            status: AttemptStatus::Failed,
            response_code: Some(410),
            duration: Duration::from_millis(5),
            response_excerpt: None,
            gone: true,
        }])
        .await
        .unwrap();
    let mut seen = Vec::new();
    for (node, stream) in streams.iter_mut().enumerate() {
        let event = stream
            .next_within(WAIT, &format!("node {node} streams the event"))
            .await;
        assert_eq!(event.data["data"]["id"], endpoint_id, "node {node}");
        seen.push(event);
    }
    assert_eq!(seen[0], seen[1]);
    drop(streams);
    writer.close().await;
    cluster.stop().await;
}

/// A stop does not wait for open streams: they end when the server shuts down.
async fn a_stop_ends_open_streams(kind: BackendKind) {
    let Some(database) = leadline_store::testing::TestDatabase::create(kind).await else {
        return;
    };
    let store = Store::open(
        &database.url,
        database.store_options(),
        Arc::new(leadline_core::SystemClock),
    )
    .await
    .unwrap();
    let (_, key) = store.create_workspace("Streaming").await.unwrap();
    let server = start_with(store.clone(), "127.0.0.1:0", stepped())
        .await
        .unwrap();
    let response = reqwest::Client::new()
        .get(format!("http://{}/api/v1/events/stream", server.address))
        .header("x-api-key", key.expose())
        .send()
        .await
        .unwrap();
    let mut stream = SseReader::new(response);
    let stopped = crate::common::waits::within(
        WAIT,
        "the server stops with a stream open",
        server.stop_within(Duration::from_secs(10)),
    )
    .await
    .unwrap();
    assert!(stopped.abandoned.is_empty(), "{stopped:?}");
    assert!(stream.ended().await, "the stream ended");
    store.close().await;
}
on_both_stores!(a_stop_ends_open_streams_, a_stop_ends_open_streams);
