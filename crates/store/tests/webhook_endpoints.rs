//! Webhook endpoints and the event log in the store, on SQLite and PostgreSQL: a
//! secret reads back only through a delivery target and a rotation signs with both
//! secrets until its overlap ends; an event queues one delivery job per enabled
//! endpoint subscribed to its type, in the transaction that writes it; a 410 or five
//! days of failures disable an endpoint and say so with an event; the log filters,
//! pages and forgets events past their retention.

mod number_pool;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use leadline_core::event::{EventFilter, EventType};
use leadline_core::{Clock, EventId, ManualClock, WebhookEndpointId, WorkspaceId};
use leadline_store::events::EventQuery;
use leadline_store::testing::TestDatabase;
use leadline_store::webhook_endpoints::{AttemptStatus, NewWebhookAttempt, NewWebhookEndpoint};
use leadline_store::{BackendKind, Store};
use number_pool::Raw;

struct Fixture {
    store: Store,
    raw: Raw,
    workspace: WorkspaceId,
    clock: Arc<ManualClock>,
}

async fn on_both<F, Fut>(body: F)
where
    F: Fn(Fixture) -> Fut,
    Fut: Future<Output = ()>,
{
    for kind in [BackendKind::Sqlite, BackendKind::Postgres] {
        let Some(database) = TestDatabase::create(kind).await else {
            continue;
        };
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let store = Store::open(&database.url, database.store_options(), clock.clone())
            .await
            .unwrap_or_else(|e| panic!("{kind:?} store opens: {e}"));
        let (workspace, _) = store.create_workspace("Events").await.unwrap();
        let raw = Raw::connect(kind, &database.url).await;
        body(Fixture {
            store: store.clone(),
            raw,
            workspace: workspace.id,
            clock,
        })
        .await;
        store.close().await;
    }
}

fn endpoint(url: &str, types: EventFilter) -> NewWebhookEndpoint {
    NewWebhookEndpoint {
        url: url.to_owned(),
        description: String::new(),
        event_types: types,
        enabled: true,
        rate_limit: None,
    }
}

fn failed(f: &Fixture, endpoint: WebhookEndpointId, gone: bool) -> NewWebhookAttempt {
    NewWebhookAttempt {
        workspace_id: f.workspace,
        endpoint_id: endpoint,
        event_id: EventId::new(),
        status: AttemptStatus::Failed,
        response_code: Some(if gone { 410 } else { 500 }),
        duration: Duration::from_millis(3),
        response_excerpt: Some("no".into()),
        gone,
    }
}

/// The system clock's first millisecond after `after`, looked for until it comes.
fn next_millisecond(after: chrono::DateTime<Utc>) -> chrono::DateTime<Utc> {
    loop {
        let now = Utc::now();
        if now.timestamp_millis() > after.timestamp_millis() {
            return now;
        }
        std::hint::spin_loop();
    }
}

/// Endpoints with a delivery job waiting, one entry per job.
async fn queued_deliveries(f: &Fixture) -> Vec<String> {
    let mut lanes = Vec::new();
    for n in 0.. {
        let sql = format!(
            "SELECT lane FROM jobs WHERE task LIKE '%webhook.v1%' ORDER BY lane LIMIT 1 OFFSET {n}"
        );
        match f.raw.text(sql).await {
            Some(lane) => lanes.push(lane),
            None => return lanes,
        }
    }
    lanes
}

#[tokio::test]
async fn a_secret_is_shown_once_and_a_rotation_signs_with_both_until_its_overlap_ends() {
    on_both(|f| async move {
        let (created, secret) = f
            .store
            .create_webhook_endpoint(
                f.workspace,
                &endpoint("https://crm.example/hook", EventFilter::All),
            )
            .await
            .unwrap();
        let (_, signing) = f
            .store
            .webhook_delivery_target(created.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(signing.current, secret);
        assert!(signing.previous.is_none());

        let (rotated, new_secret) = f
            .store
            .rotate_webhook_secret(f.workspace, created.id, Duration::from_secs(24 * 3600))
            .await
            .unwrap()
            .expect("the endpoint exists");
        assert_ne!(new_secret, secret);
        assert_eq!(
            rotated.previous_secret_until,
            Some(f.clock.now() + chrono::Duration::hours(24))
        );
        let (_, signing) = f
            .store
            .webhook_delivery_target(created.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(signing.current, new_secret);
        assert_eq!(signing.previous, Some(secret));

        f.clock
            .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
        let (_, signing) = f
            .store
            .webhook_delivery_target(created.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(signing.all(), vec![&new_secret]);

        let other = f.store.create_workspace("Other").await.unwrap().0.id;
        assert!(
            f.store
                .webhook_endpoint(other, created.id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            f.store
                .rotate_webhook_secret(other, created.id, Duration::ZERO)
                .await
                .unwrap()
                .is_none()
        );
    })
    .await;
}

#[tokio::test]
async fn a_410_disables_with_an_event_delivered_to_the_endpoints_subscribed_to_it() {
    on_both(|f| async move {
        let store = &f.store;
        let gone = store
            .create_webhook_endpoint(
                f.workspace,
                &endpoint("https://a.example/", EventFilter::All),
            )
            .await
            .unwrap()
            .0;
        let everything = store
            .create_webhook_endpoint(
                f.workspace,
                &endpoint("https://b.example/", EventFilter::All),
            )
            .await
            .unwrap()
            .0;
        let only_leads = EventFilter::Only(vec![EventType::LeadAdded]);
        store
            .create_webhook_endpoint(f.workspace, &endpoint("https://c.example/", only_leads))
            .await
            .unwrap();
        let mut switched_off = endpoint("https://d.example/", EventFilter::All);
        switched_off.enabled = false;
        store
            .create_webhook_endpoint(f.workspace, &switched_off)
            .await
            .unwrap();

        let disabled = store
            .record_webhook_attempts(&[failed(&f, gone.id, true)])
            .await
            .unwrap();
        assert_eq!(disabled, vec![gone.id]);
        let after = store
            .webhook_endpoint(f.workspace, gone.id)
            .await
            .unwrap()
            .unwrap();
        assert!(!after.enabled);
        assert_eq!(
            after.disabled_reason.as_deref(),
            Some("the endpoint answered 410 Gone")
        );

        let events = store
            .list_events(
                f.workspace,
                &EventQuery {
                    limit: 10,
                    ..EventQuery::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event_type, EventType::WebhookEndpointDisabled);
        assert_eq!(events[0].resource_id, gone.id.to_string());
        let payload: serde_json::Value = serde_json::from_str(&events[0].payload).unwrap();
        assert_eq!(payload["type"], "webhook_endpoint.disabled");
        assert_eq!(payload["data"]["enabled"], false);
        assert_eq!(payload["data"]["id"], gone.id.to_string());

        // Only the enabled endpoint that takes every type gets it: not the one now
        // disabled, not the one switched off, not the one that takes leads only.
        assert_eq!(
            queued_deliveries(&f).await,
            vec![format!("webhook:{}", everything.id)]
        );

        // A second 410 changes nothing more.
        let again = store
            .record_webhook_attempts(&[failed(&f, gone.id, true)])
            .await
            .unwrap();
        assert!(again.is_empty());
        let attempts = store
            .list_webhook_attempts(f.workspace, gone.id, None, 10)
            .await
            .unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0].response_code, Some(410));
    })
    .await;
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_a_success_ends_the_run() {
    on_both(|f| async move {
        let store = &f.store;
        let hook = store
            .create_webhook_endpoint(
                f.workspace,
                &endpoint("https://a.example/", EventFilter::All),
            )
            .await
            .unwrap()
            .0;
        let started = f.clock.now();
        assert!(
            store
                .record_webhook_attempts(&[failed(&f, hook.id, false)])
                .await
                .unwrap()
                .is_empty()
        );
        f.clock.advance(chrono::Duration::days(2));
        let mut success = failed(&f, hook.id, false);
        success.status = AttemptStatus::Succeeded;
        success.response_code = Some(204);
        store.record_webhook_attempts(&[success]).await.unwrap();
        let healthy = store
            .webhook_endpoint(f.workspace, hook.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(healthy.failing_since, None);

        let run_began = f.clock.now();
        store
            .record_webhook_attempts(&[failed(&f, hook.id, false)])
            .await
            .unwrap();
        f.clock
            .advance(chrono::Duration::days(5) - chrono::Duration::seconds(1));
        assert!(
            store
                .record_webhook_attempts(&[failed(&f, hook.id, false)])
                .await
                .unwrap()
                .is_empty()
        );
        let failing = store
            .webhook_endpoint(f.workspace, hook.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(failing.failing_since, Some(run_began));
        assert_ne!(failing.failing_since, Some(started));

        f.clock.advance(chrono::Duration::seconds(1));
        let disabled = store
            .record_webhook_attempts(&[failed(&f, hook.id, false)])
            .await
            .unwrap();
        assert_eq!(disabled, vec![hook.id]);
        let after = store
            .webhook_endpoint(f.workspace, hook.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            after.disabled_reason.as_deref(),
            Some("every delivery failed for 5 days")
        );
    })
    .await;
}

#[tokio::test]
async fn the_log_filters_pages_replays_and_forgets_old_events() {
    on_both(|f| async move {
        let store = &f.store;
        let mut hooks = Vec::new();
        for n in 0..3 {
            let hook = store
                .create_webhook_endpoint(
                    f.workspace,
                    &endpoint(&format!("https://{n}.example/"), EventFilter::All),
                )
                .await
                .unwrap()
                .0;
            hooks.push(hook.id);
        }
        // Two endpoints disabled by 410s write two events, an hour apart on the store's
        // clock. Event ids are UUIDv7 from the system clock, which retention cuts by:
        // `cut` is a system time between the two.
        store
            .record_webhook_attempts(&[failed(&f, hooks[0], true)])
            .await
            .unwrap();
        f.clock.advance(chrono::Duration::hours(1));
        let second_at = f.clock.now();
        let cut = next_millisecond(Utc::now());
        next_millisecond(cut);
        store
            .record_webhook_attempts(&[failed(&f, hooks[1], true)])
            .await
            .unwrap();

        let all = |after: Option<EventId>| EventQuery {
            after,
            limit: 10,
            ..EventQuery::default()
        };
        let events = store.list_events(f.workspace, &all(None)).await.unwrap();
        assert_eq!(events.len(), 2);
        assert!(
            store
                .list_events(f.workspace, &all(Some(events[1].id)))
                .await
                .unwrap()
                .is_empty()
        );
        let page = EventQuery {
            limit: 1,
            ..EventQuery::default()
        };
        assert_eq!(
            store.list_events(f.workspace, &page).await.unwrap(),
            events[..1]
        );

        let about_second = EventQuery {
            resource_id: Some(hooks[1].to_string()),
            limit: 10,
            ..EventQuery::default()
        };
        assert_eq!(
            store.list_events(f.workspace, &about_second).await.unwrap(),
            events[1..]
        );
        let since = EventQuery {
            since: Some(second_at),
            limit: 10,
            ..EventQuery::default()
        };
        assert_eq!(
            store.list_events(f.workspace, &since).await.unwrap(),
            events[1..]
        );
        let other_type = EventQuery {
            types: vec![EventType::LeadAdded],
            limit: 10,
            ..EventQuery::default()
        };
        assert!(
            store
                .list_events(f.workspace, &other_type)
                .await
                .unwrap()
                .is_empty()
        );
        let other = store.create_workspace("Other").await.unwrap().0.id;
        assert!(
            store
                .list_events(other, &all(None))
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            store.event(f.workspace, events[0].id).await.unwrap(),
            Some(events[0].clone())
        );
        assert_eq!(store.event(other, events[0].id).await.unwrap(), None);

        let before = queued_deliveries(&f).await.len();
        let replayed = store
            .replay_event(&events[0], Some(hooks[2]))
            .await
            .unwrap();
        assert_eq!(replayed, vec![hooks[2]]);
        let to_disabled = store
            .replay_event(&events[0], Some(hooks[0]))
            .await
            .unwrap();
        assert!(to_disabled.is_empty(), "a disabled endpoint gets no replay");
        assert_eq!(queued_deliveries(&f).await.len(), before + 1);

        // Retention: the cutoff between the two events deletes the first only.
        assert_eq!(store.delete_events_before(cut, 100).await.unwrap(), 1);
        assert_eq!(
            store.list_events(f.workspace, &all(None)).await.unwrap(),
            events[1..]
        );
    })
    .await;
}
