//! Event deliveries to webhook endpoints, on SQLite and PostgreSQL, checked by a
//! receiver built on the Standard Webhooks reference verifier (`common::receiver`):
//! every delivery verifies and carries the stored payload byte for byte; a failing
//! endpoint gets the same `webhook-id` on each retry, on the schedule and never before
//! its `Retry-After`; 410 disables an endpoint and records why; a dead endpoint holds
//! up no other endpoint and no send, and a rotated secret signs beside the new one
//! during its overlap ([`endpoints`]); and a server killed mid-delivery delivers the
//! event after its restart ([`crash`]). Stepped dispatchers and simulated clocks stand
//! in for waiting.

mod common;
#[path = "webhook_delivery/crash.rs"]
mod crash;
#[path = "webhook_delivery/endpoints.rs"]
mod endpoints;

use std::sync::Arc;
use std::time::Duration;

use common::TestApp;
use common::dispatch_steps::stepped;
use common::receiver::{Receiver, Reply};
use leadline_core::event::signature::WebhookSecret;
use leadline_core::event::{EventFilter, EventType, NewEvent};
use leadline_core::{EventId, ManualClock, WorkspaceId};
use leadline_store::events::EventQuery;
use leadline_store::webhook_endpoints::{
    AttemptStatus, NewWebhookAttempt, NewWebhookEndpoint, WebhookEndpoint,
};
use leadline_store::{BackendKind, Store};
use serde_json::json;

/// An enabled endpoint of `workspace` at `url`, receiving `types`.
pub async fn endpoint(
    store: &Store,
    workspace: WorkspaceId,
    url: &str,
    types: EventFilter,
) -> (WebhookEndpoint, WebhookSecret) {
    let new = NewWebhookEndpoint {
        url: url.to_owned(),
        description: "test receiver".into(),
        event_types: types,
        enabled: true,
        rate_limit: None,
    };
    store
        .create_webhook_endpoint(workspace, &new)
        .await
        .expect("the endpoint is stored")
}

/// `count` `contact.created` events of `workspace`, written with their deliveries.
pub async fn cause_events(store: &Store, workspace: WorkspaceId, count: usize) -> Vec<EventId> {
    let now = store.clock().now();
    let events: Vec<NewEvent> = (0..count)
        .map(|n| {
            let contact = format!("contact-{n}");
            let data = json!({"id": contact, "firstName": "Ana", "tags": ["é", n]});
            NewEvent::new(workspace, EventType::ContactCreated, contact, data, now)
        })
        .collect();
    store.seed_events(&events).await.expect("events stored");
    events.iter().map(|event| event.id).collect()
}

/// The first page of a workspace's event log.
fn log_query() -> EventQuery {
    EventQuery {
        limit: 500,
        ..EventQuery::default()
    }
}

fn workspace(app: &TestApp) -> WorkspaceId {
    app.workspace_id.parse().expect("a workspace id")
}

fn trust(receiver: &Receiver, secret: &WebhookSecret) -> usize {
    receiver.trust(secret.expose().expose())
}

/// A server on `clock` whose dispatcher runs when stepped.
async fn stepped_app(kind: BackendKind, clock: Arc<ManualClock>) -> Option<TestApp> {
    TestApp::spawn_with(kind, clock, stepped()).await
}

/// A clock three minutes behind the real one: moved on by the schedule's first waits,
/// it stays within the five minutes either way that the reference verifier accepts.
fn behind_real_time() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        chrono::Utc::now() - chrono::Duration::minutes(3),
    ))
}

both_stores!(
    every_delivery_verifies_and_carries_the_stored_payload,
    stepped(),
    |app| {
        let store = &app.store;
        let receiver = Receiver::start(Reply::Accept).await;
        let (hook, secret) = endpoint(store, workspace(app), &receiver.url, EventFilter::All).await;
        let key = trust(&receiver, &secret);
        let mut caused = cause_events(store, workspace(app), 20).await;
        // A real write path too: an endpoint answering 410 writes `webhook_endpoint.disabled`.
        let (other, _) = endpoint(
            store,
            workspace(app),
            "http://127.0.0.1:1/",
            EventFilter::Only(vec![EventType::LeadAdded]),
        )
        .await;
        let gone = NewWebhookAttempt {
            workspace_id: workspace(app),
            endpoint_id: other.id,
            event_id: EventId::new(),
            status: AttemptStatus::Failed,
            response_code: Some(410),
            duration: Duration::from_millis(3),
            response_excerpt: None,
            gone: true,
        };
        store
            .record_webhook_attempts(&[gone])
            .await
            .expect("recorded");
        let disabled = store
            .list_events(workspace(app), &log_query())
            .await
            .expect("the log")
            .into_iter()
            .find(|event| event.event_type == EventType::WebhookEndpointDisabled)
            .expect("the disabled event");
        caused.push(disabled.id);

        // Jobs beyond the endpoint's concurrency go back and come again: at least one each.
        assert!(app.drain_dispatcher().await >= caused.len());
        let arrivals = receiver.arrivals();
        assert_eq!(arrivals.len(), caused.len());
        for arrival in &arrivals {
            assert_eq!(arrival.verified_by, vec![key], "{arrival:?}");
            assert_eq!(arrival.content_type, "application/json");
            assert_eq!(arrival.signatures.len(), 1);
            let id: EventId = arrival.webhook_id.parse().expect("the event id");
            let stored = store
                .event(workspace(app), id)
                .await
                .unwrap()
                .expect("logged");
            assert_eq!(
                arrival.body,
                stored.payload.as_bytes(),
                "the payload byte for byte"
            );
        }
        let mut ids: Vec<String> = arrivals.iter().map(|a| a.webhook_id.clone()).collect();
        ids.sort();
        let mut expected: Vec<String> = caused.iter().map(ToString::to_string).collect();
        expected.sort();
        assert_eq!(ids, expected, "each event once, under its own id");

        let attempts = store
            .list_webhook_attempts(workspace(app), hook.id, None, 100)
            .await
            .unwrap();
        assert_eq!(attempts.len(), caused.len());
        assert!(
            attempts
                .iter()
                .all(|a| a.status == AttemptStatus::Succeeded && a.response_code == Some(200))
        );
        assert_eq!(attempts[0].response_excerpt.as_deref(), Some("received"));
        assert_eq!(
            store.outbox_depth().await.unwrap(),
            0,
            "every delivery job ended"
        );
        let metrics = app
            .anonymous(reqwest::Method::GET, "/metrics")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let endpoint_label = format!("endpoint=\"{}\"", hook.id);
        let succeeded = metrics.lines().find(|line| {
            line.starts_with("leadline_webhook_deliveries_total{")
                && line.contains(&endpoint_label)
                && line.contains("outcome=\"succeeded\"")
        });
        assert_eq!(
            succeeded.and_then(|line| line.rsplit(' ').next()),
            Some(caused.len().to_string().as_str()),
            "{metrics}"
        );
        assert!(
            metrics.contains("leadline_webhook_delivery_duration_seconds"),
            "{metrics}"
        );
    }
);

async fn fails_twice_then_succeeds(kind: BackendKind) {
    let clock = behind_real_time();
    let Some(app) = stepped_app(kind, clock.clone()).await else {
        return;
    };
    let store = &app.store;
    let receiver = Receiver::start(Reply::Accept).await;
    receiver.plan([Reply::Status(500), Reply::Status(503)]);
    let (hook, secret) = endpoint(store, workspace(&app), &receiver.url, EventFilter::All).await;
    let key = trust(&receiver, &secret);
    let event = cause_events(store, workspace(&app), 1).await[0];

    assert_eq!(app.drain_dispatcher().await, 1);
    assert_eq!(
        app.drain_dispatcher().await,
        0,
        "not again before the schedule's wait"
    );
    clock.advance(chrono::Duration::seconds(6));
    assert_eq!(app.drain_dispatcher().await, 1);
    clock.advance(chrono::Duration::minutes(4));
    assert_eq!(
        app.drain_dispatcher().await,
        0,
        "the third attempt waits about 5 minutes"
    );
    clock.advance(chrono::Duration::minutes(2));
    assert_eq!(app.drain_dispatcher().await, 1);

    let arrivals = receiver.arrivals();
    assert_eq!(arrivals.len(), 3);
    for arrival in &arrivals {
        assert_eq!(
            arrival.webhook_id,
            event.to_string(),
            "the same webhook-id on every retry"
        );
        assert_eq!(arrival.verified_by, vec![key]);
    }
    assert!(
        arrivals[0].timestamp < arrivals[1].timestamp
            && arrivals[1].timestamp < arrivals[2].timestamp,
        "each attempt is signed at its own time"
    );
    let attempts = store
        .list_webhook_attempts(workspace(&app), hook.id, None, 10)
        .await
        .unwrap();
    let codes: Vec<(AttemptStatus, Option<u16>)> = attempts
        .iter()
        .rev()
        .map(|a| (a.status, a.response_code))
        .collect();
    assert_eq!(
        codes,
        vec![
            (AttemptStatus::Failed, Some(500)),
            (AttemptStatus::Failed, Some(503)),
            (AttemptStatus::Succeeded, Some(200)),
        ]
    );
    let hook = store
        .webhook_endpoint(workspace(&app), hook.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        hook.failing_since, None,
        "the success ended the failing run"
    );
    assert_eq!(store.outbox_depth().await.unwrap(), 0);
    app.stop().await;
}
on_both_stores!(fails_twice_then_succeeds);

async fn retry_after_is_honoured(kind: BackendKind) {
    let clock = behind_real_time();
    let Some(app) = stepped_app(kind, clock.clone()).await else {
        return;
    };
    let store = &app.store;
    let receiver = Receiver::start(Reply::Accept).await;
    receiver.plan([Reply::RetryAfter(429, 120)]);
    let (_, secret) = endpoint(store, workspace(&app), &receiver.url, EventFilter::All).await;
    trust(&receiver, &secret);
    cause_events(store, workspace(&app), 1).await;

    assert_eq!(app.drain_dispatcher().await, 1);
    clock.advance(chrono::Duration::seconds(30));
    assert_eq!(
        app.drain_dispatcher().await,
        0,
        "not at the schedule's 5 s: the endpoint asked for 120"
    );
    clock.advance(chrono::Duration::seconds(91));
    assert_eq!(app.drain_dispatcher().await, 1);
    let arrivals = receiver.arrivals();
    assert_eq!(arrivals.len(), 2);
    assert_eq!(arrivals[0].webhook_id, arrivals[1].webhook_id);
    assert!(arrivals.iter().all(|a| a.verified_by == vec![0]));
    app.stop().await;
}
on_both_stores!(retry_after_is_honoured);

both_stores!(gone_disables_the_endpoint_and_says_so, stepped(), |app| {
    let store = &app.store;
    let gone = Receiver::start(Reply::Status(410)).await;
    let watcher = Receiver::start(Reply::Accept).await;
    let (hook, _) = endpoint(
        store,
        workspace(app),
        &gone.url,
        EventFilter::Only(vec![EventType::ContactCreated]),
    )
    .await;
    let only_disabled = EventFilter::Only(vec![EventType::WebhookEndpointDisabled]);
    let (_, secret) = endpoint(store, workspace(app), &watcher.url, only_disabled).await;
    trust(&watcher, &secret);
    cause_events(store, workspace(app), 3).await;

    // The first 410 disables it: the other deliveries of its round may still be made,
    // and nothing after.
    app.drain_dispatcher().await;
    assert!((1..=3).contains(&gone.count()));
    let hook = store
        .webhook_endpoint(workspace(app), hook.id)
        .await
        .unwrap()
        .unwrap();
    assert!(!hook.enabled);
    assert_eq!(
        hook.disabled_reason.as_deref(),
        Some("the endpoint answered 410 Gone")
    );
    let disabled: Vec<_> = store
        .list_events(workspace(app), &log_query())
        .await
        .unwrap()
        .into_iter()
        .filter(|event| event.event_type == EventType::WebhookEndpointDisabled)
        .collect();
    assert_eq!(disabled.len(), 1);
    assert_eq!(disabled[0].resource_id, hook.id.to_string());
    let told = watcher.arrivals();
    assert_eq!(
        told.len(),
        1,
        "the disabled event was delivered to the endpoint that wants it"
    );
    assert_eq!(told[0].webhook_id, disabled[0].id.to_string());
    assert_eq!(told[0].verified_by, vec![0]);
    let attempts = store
        .list_webhook_attempts(workspace(app), hook.id, None, 10)
        .await
        .unwrap();
    assert!(attempts.iter().any(|a| a.response_code == Some(410)));

    let before = gone.count();
    cause_events(store, workspace(app), 2).await;
    app.drain_dispatcher().await;
    assert_eq!(
        gone.count(),
        before,
        "a disabled endpoint receives nothing more"
    );
    assert_eq!(store.outbox_depth().await.unwrap(), 0);
});
