//! `/api/v1/events` on both stores: the log listed with its filters and pages, one
//! event fetched, a replay queuing deliveries, the live stream ([`stream`]), the
//! retention sweep on a manual clock, and the events documented as OpenAPI webhooks. Events are made the
//! way the store makes them: an endpoint that answers 410 Gone is disabled, with a
//! `webhook_endpoint.disabled` event about it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::dispatch_steps::stepped;
use common::{TestApp, assert_invalid, problem_fields};
use leadline_core::{EventId, ManualClock};
use leadline_server::event_retention::{EventRetention, run_reporting, sweep_once};
use leadline_server::worker_step::Step;
use leadline_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const DISABLED: &str = "webhook_endpoint.disabled";
const WAIT: Duration = Duration::from_secs(15);

/// Endpoints made and then gone, each with its event; returns their ids in order.
async fn gone_endpoints(app: &TestApp, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..count {
        let id = app.endpoint(&format!("gone {n}")).await;
        app.endpoint_gone(&id).await;
        ids.push(id);
    }
    ids
}

fn ids_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

both_stores!(the_log_lists_filters_and_pages, |app| {
    let endpoints = gone_endpoints(app, 3).await;
    let all = app.events("").await;
    assert_eq!(all.len(), 3, "{all:?}");
    for (event, endpoint) in all.iter().zip(&endpoints) {
        let keys: Vec<&String> = event.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "id, type, timestamp and data: {event}");
        assert_eq!(event["type"], DISABLED);
        assert_eq!(event["data"]["id"], endpoint.as_str());
        assert_eq!(event["data"]["enabled"], false);
        DateTime::parse_from_rfc3339(event["timestamp"].as_str().unwrap()).unwrap();
    }
    let ids = ids_of(&all);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "oldest first");

    // One event, as listed.
    let (status, one) = app.get(&format!("/api/v1/events/{}", ids[1])).await;
    assert_eq!((status, &one), (200, &all[1]));

    // Types repeated or comma-separated; by resource; since.
    assert_eq!(app.events(&format!("type={DISABLED}")).await, all);
    assert_eq!(
        app.events(&format!("type=lead.added&type={DISABLED}"))
            .await,
        all
    );
    assert_eq!(
        app.events(&format!("type=lead.added,{DISABLED}")).await,
        all
    );
    assert!(app.events("type=lead.added,message.sent").await.is_empty());
    let about = app.events(&format!("resourceId={}", endpoints[2])).await;
    assert_eq!(ids_of(&about), [ids[2].clone()]);
    assert!(app.events("since=2999-01-01T00:00:00Z").await.is_empty());
    assert_eq!(app.events("since=2020-01-01T00:00:00%2B02:00").await, all);

    // Pages of one, each after the last.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, page) = app
            .get(&format!(
                "/api/v1/events?limit=1&type={DISABLED}&cursor={cursor}"
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids_of(page["data"].as_array().unwrap()));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // Every bad parameter, named at once.
    let (status, refused) = app
        .get("/api/v1/events?type=lead.nope&since=yesterday&limit=0&cursor=x&resourceId=")
        .await;
    assert_eq!(status, 422, "{refused}");
    let mut fields = problem_fields(&refused);
    fields.sort();
    assert_eq!(fields, ["cursor", "limit", "resourceId", "since", "type"]);
    let (status, missing) = app
        .get("/api/v1/events/0190a6e4-7e5a-7000-8000-000000000000")
        .await;
    assert_eq!(status, 404, "{missing}");
    assert_eq!(problem_fields(&missing), ["id"]);

    // Another workspace's key sees none of it.
    let (_, other_key) = app.other_workspace().await;
    let (status, theirs) = app.get_as(&other_key, "/api/v1/events").await;
    assert_eq!((status, theirs["data"].clone()), (200, json!([])));
    let (status, _) = app
        .get_as(&other_key, &format!("/api/v1/events/{}", ids[0]))
        .await;
    assert_eq!(status, 404);
});

both_stores!(a_replay_queues_deliveries, stepped(), |app| {
    let gone = gone_endpoints(app, 1).await.remove(0);
    let event = app.events("").await.remove(0);
    let event_id = event["id"].as_str().unwrap();
    let replay = format!("/api/v1/events/{event_id}/replay");
    let (first, second) = (app.endpoint("first").await, app.endpoint("second").await);
    let only_leads = app
        .create_endpoint(json!({"url": common::events::ENDPOINT_URL, "eventTypes": ["lead.added"]}))
        .await;

    // To every enabled endpoint receiving the type: not the one gone, not the one for
    // leads only. Without a body, or with `{}`.
    let depth = app.store.outbox_depth().await.unwrap();
    let (status, _, queued) = app.send(app.request(Method::POST, &replay)).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["eventId"], event_id);
    let mut endpoints: Vec<&str> = queued["endpointIds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap())
        .collect();
    endpoints.sort();
    let mut expected = vec![first.as_str(), second.as_str()];
    expected.sort();
    assert_eq!(endpoints, expected);
    assert_eq!(app.store.outbox_depth().await.unwrap(), depth + 2);

    // To one endpoint.
    let (status, queued) = app.post(&replay, json!({"endpointId": second})).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["endpointIds"], json!([second]));
    assert_eq!(app.store.outbox_depth().await.unwrap(), depth + 3);
    let (status, queued) = app
        .post(&replay, json!({"endpointId": only_leads["id"]}))
        .await;
    assert_eq!(
        (status, queued["endpointIds"].clone()),
        (202, json!([only_leads["id"]]))
    );

    // A disabled endpoint, one of no workspace, a bad body, an unknown event.
    let (status, refused) = app.post(&replay, json!({"endpointId": gone})).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(problem_fields(&refused), ["endpointId"]);
    let (status, refused) = app
        .post(
            &replay,
            json!({"endpointId": "0190a6e4-7e5a-7000-8000-000000000000"}),
        )
        .await;
    assert_eq!(status, 404, "{refused}");
    assert_eq!(problem_fields(&refused), ["endpointId"]);
    let (status, refused) = app.post(&replay, json!({"endpoint": first})).await;
    assert_invalid(status, &refused, "endpoint");
    let (status, refused) = app
        .post(
            "/api/v1/events/0190a6e4-7e5a-7000-8000-000000000000/replay",
            json!({}),
        )
        .await;
    assert_eq!(status, 404, "{refused}");
    let (_, other_key) = app.other_workspace().await;
    let (status, _) = app.post_as(&other_key, &replay, json!({})).await;
    assert_eq!(status, 404);
    assert_eq!(app.store.outbox_depth().await.unwrap(), depth + 4);
});

/// The millisecond a UUIDv7 id was taken in.
fn millis_of(id: &str) -> i64 {
    let id: EventId = id.parse().unwrap();
    let (seconds, nanos) = id.as_uuid().get_timestamp().unwrap().to_unix();
    i64::try_from(seconds).unwrap() * 1000 + i64::from(nanos / 1_000_000)
}

/// Events older than the retention are swept in batches; younger ones stay.
async fn old_events_are_swept(kind: BackendKind) {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let Some(app) = TestApp::spawn_with(kind, clock.clone(), stepped()).await else {
        return;
    };
    gone_endpoints(&app, 3).await;
    let old = ids_of(&app.events("").await);
    // The next event is made in a later millisecond than every old one.
    let newest_old = old.iter().map(|id| millis_of(id)).max().unwrap();
    let mut young = Vec::new();
    while young.is_empty() {
        gone_endpoints(&app, 1).await;
        young = ids_of(&app.events("").await)
            .into_iter()
            .filter(|id| millis_of(id) > newest_old)
            .collect();
    }
    let retention = EventRetention { days: 30 };
    assert_eq!(
        sweep_once(&app.store, retention, 100).await.unwrap(),
        Step::Idle
    );

    // 30 days after the young event's millisecond: the older ones are past it.
    let young_at = Utc.timestamp_millis_opt(millis_of(&young[0])).unwrap();
    clock.set(young_at + chrono::Duration::days(30));
    let mut swept = Vec::new();
    while let Step::Worked(n) = sweep_once(&app.store, retention, 2).await.unwrap() {
        swept.push(n);
    }
    let left = ids_of(&app.events("").await);
    assert!(swept.iter().sum::<usize>() >= old.len(), "{swept:?}");
    assert!(left.contains(&young[0]), "the young event stays: {left:?}");
    assert!(old.iter().all(|id| !left.contains(id)), "{left:?}");

    // The supervised loop sweeps at once; a longer retention keeps what is left.
    clock.advance(chrono::Duration::days(365));
    let shutdown = CancellationToken::new();
    let (sweeps, mut swept) = tokio::sync::watch::channel(0);
    let sweeper = tokio::spawn({
        let (store, shutdown) = (app.store.clone(), shutdown.clone());
        async move {
            run_reporting(
                store,
                retention,
                Duration::from_secs(3600),
                shutdown,
                &sweeps,
            )
            .await;
        }
    });
    common::waits::within(WAIT, "the first sweep ends", swept.wait_for(|n| *n >= 1))
        .await
        .unwrap();
    assert!(app.events("").await.is_empty());
    shutdown.cancel();
    sweeper.await.unwrap();
    app.stop().await;
}
on_both_stores!(old_events_are_swept_, old_events_are_swept);

#[test]
fn every_event_type_is_a_documented_webhook() {
    let (_, mut openapi) = leadline_server::routes::api();
    leadline_server::routes::openapi::complete_document(&mut openapi);
    let document = serde_json::to_value(&openapi).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let webhooks = document["webhooks"].as_object().expect("webhooks");
    for kind in leadline_core::event::EventType::ALL {
        let post = &webhooks[kind.as_str()]["post"];
        let body = &post["requestBody"]["content"]["application/json"]["schema"];
        assert_eq!(
            body["properties"]["type"]["enum"],
            json!([kind.as_str()]),
            "{kind}"
        );
        assert!(body["properties"]["data"].is_object(), "{kind}");
        let headers: Vec<&str> = post["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            headers,
            ["webhook-id", "webhook-timestamp", "webhook-signature"]
        );
    }
    assert_eq!(webhooks.len(), leadline_core::event::EventType::ALL.len());
    for path in [
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/events/{id}/replay",
        "/api/v1/events/stream",
        "/api/v1/webhook-endpoints",
        "/api/v1/webhook-endpoints/{id}",
        "/api/v1/webhook-endpoints/{id}/rotate-secret",
        "/api/v1/webhook-endpoints/{id}/attempts",
    ] {
        assert!(document["paths"][path].is_object(), "{path}");
    }
    let stream = &document["paths"]["/api/v1/events/stream"]["get"]["responses"]["200"];
    assert!(
        stream["content"]["text/event-stream"].is_object(),
        "{stream}"
    );
}

#[path = "events_api/stream.rs"]
mod stream;

#[path = "two_nodes/cluster.rs"]
#[allow(dead_code)]
mod cluster;
