//! Test and benchmark support (feature `testing`): a local HTTP endpoint for the
//! `http` provider (and a Twilio-shaped one, and a webhook receiver) that answers every
//! send and counts the message ids it saw, so a test can tell "every message arrived"
//! from "some arrived twice", and a seeder that queues many sends to it. The endpoint can be slow, hang,
//! or answer every send with the same provider id. A test awaits what the sink has
//! seen ([`CountingSink::until`]) instead of polling it: every arrival wakes the wait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use tokio::net::TcpListener;

/// The shared state of a server over `store` with default services and no workers, for
/// tests that mount a middleware on routes of their own.
pub fn app_state(
    store: leadline_store::Store,
    idempotency: crate::idempotency::IdempotencyOptions,
) -> crate::state::AppState {
    crate::state::AppState::new(crate::state::Services {
        numbers: crate::numbers::NumberPools::new(store.clone(), Duration::from_secs(1)),
        store,
        keys: crate::auth::key_cache(),
        limits: crate::rate_limit::RateLimits::new(Default::default()),
        metrics: crate::telemetry::metrics_handle(),
        providers: crate::channel_providers::ChannelProviders::new("http://127.0.0.1:1"),
        outbox_wake: Arc::new(tokio::sync::Notify::new()),
        scheduler_wake: Arc::new(tokio::sync::Notify::new()),
        agent_wake: Arc::new(tokio::sync::Notify::new()),
        idempotency,
        shutdown: tokio_util::sync::CancellationToken::new(),
        console: crate::console::ConsoleSettings::default(),
    })
}

/// What the servers of tests and benchmarks may call besides the public internet: the
/// sinks and mock gateways they start on 127.0.0.1, allowed as an operator allows a
/// self-hosted Kannel or LLM (`--allow-outbound 127.0.0.0/8`).
pub fn loopback_gateways() -> leadline_providers::outbound::OutboundPolicy {
    leadline_providers::outbound::OutboundPolicy::parse(&["127.0.0.0/8"]).expect("a CIDR network")
}

/// What the sink has seen, by idempotency key.
#[derive(Default)]
struct Seen {
    by_key: Mutex<HashMap<String, u32>>,
    options: SinkOptions,
    /// Sends being answered now, and the most there ever were at once.
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    /// Sends received in all, published on each arrival for [`CountingSink::until`].
    arrivals: tokio::sync::watch::Sender<usize>,
}

/// Counts a send as in flight until it is answered or its caller hangs up.
struct InFlight<'a>(&'a Seen);

impl<'a> InFlight<'a> {
    fn enter(seen: &'a Seen) -> Self {
        let now = seen.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        seen.most_in_flight.fetch_max(now, Ordering::SeqCst);
        Self(seen)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// How the sink answers.
#[derive(Debug, Clone, Default)]
pub struct SinkOptions {
    /// How long it takes to answer each send (a very long one: a hanging gateway).
    pub delay: Duration,
    /// Answer every send with this provider id instead of one per message.
    pub fixed_id: Option<String>,
}

/// An endpoint on 127.0.0.1 accepting the `http` provider's sends.
pub struct CountingSink {
    /// The URL to put in the channel's `url` setting.
    pub url: String,
    seen: Arc<Seen>,
    task: tokio::task::JoinHandle<()>,
}

impl CountingSink {
    /// Starts the sink; each send is answered after `delay` with `{"id": "sink-KEY"}`.
    pub async fn start(delay: Duration) -> Self {
        Self::start_with(SinkOptions {
            delay,
            fixed_id: None,
        })
        .await
    }

    /// Starts a sink that answers as `options` say. Besides the `http` provider's
    /// `/send`, it takes Twilio's message creation under [`CountingSink::twilio_base`],
    /// counted by the message id Twilio's adapter sends along.
    pub async fn start_with(options: SinkOptions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let url = format!("http://{}/send", listener.local_addr().expect("bound"));
        let seen = Arc::new(Seen {
            options,
            ..Seen::default()
        });
        let app = Router::new()
            .route("/send", post(accept))
            .route("/hooks", post(accept_webhook))
            .route(
                "/twilio/2010-04-01/Accounts/{account}/Messages.json",
                post(accept_twilio),
            )
            .with_state(seen.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the sink serves");
        });
        Self { url, seen, task }
    }

    /// Returns once `seen` holds of the sink, re-checking it on every arrival (no
    /// polling); bound it with a timeout, since it waits as long as sends may come.
    pub async fn until(&self, mut seen: impl FnMut(&Self) -> bool) {
        let mut arrivals = self.arrivals();
        loop {
            arrivals.mark_unchanged();
            if seen(self) {
                return;
            }
            arrivals
                .changed()
                .await
                .expect("the sink's state lives as long as the sink");
        }
    }

    /// Sends received in all, changed on every arrival: an event for tests that wait
    /// on the sink together with something else.
    pub fn arrivals(&self) -> tokio::sync::watch::Receiver<usize> {
        self.seen.arrivals.subscribe()
    }

    /// The URL of a webhook endpoint delivering to this sink, which counts deliveries
    /// by `webhook-id`.
    pub fn webhook_url(&self) -> String {
        self.url.replace("/send", "/hooks")
    }

    /// The `apiBaseUrl` of a Twilio channel sending to this sink.
    pub fn twilio_base(&self) -> String {
        self.url.replace("/send", "/twilio")
    }

    /// The most sends the sink was answering at one time.
    pub fn most_in_flight(&self) -> usize {
        self.seen.most_in_flight.load(Ordering::SeqCst)
    }

    /// Distinct idempotency keys received.
    pub fn unique(&self) -> usize {
        self.seen.by_key.lock().expect("not poisoned").len()
    }

    /// Sends received in all.
    pub fn total(&self) -> usize {
        self.seen
            .by_key
            .lock()
            .expect("not poisoned")
            .values()
            .map(|n| *n as usize)
            .sum()
    }

    /// Every key seen with how many times, so a test can name the keys seen twice and
    /// the ones that are no message of its own.
    pub fn counts(&self) -> HashMap<String, u32> {
        self.seen.by_key.lock().expect("not poisoned").clone()
    }

    /// How many times the sink saw `key`.
    pub fn count(&self, key: &str) -> u32 {
        self.seen
            .by_key
            .lock()
            .expect("not poisoned")
            .get(key)
            .copied()
            .unwrap_or(0)
    }
}

impl Drop for CountingSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
) -> axum::Json<serde_json::Value> {
    let id = count(&seen, &headers, "idempotency-key").await;
    axum::Json(serde_json::json!({ "id": id }))
}

async fn accept_twilio(
    State(seen): State<Arc<Seen>>,
    headers: HeaderMap,
) -> axum::Json<serde_json::Value> {
    let id = count(&seen, &headers, "i-twilio-idempotency-token").await;
    axum::Json(serde_json::json!({ "sid": id, "status": "queued" }))
}

async fn accept_webhook(State(seen): State<Arc<Seen>>, headers: HeaderMap) -> &'static str {
    count(&seen, &headers, "webhook-id").await;
    "received"
}

/// Counts a send by the message id in `header`, after the sink's delay; returns the
/// provider id to answer with.
async fn count(seen: &Seen, headers: &HeaderMap, header: &str) -> String {
    let key = headers
        .get(header)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let _in_flight = InFlight::enter(seen);
    // Counted on arrival, as a provider accepts a message before it answers.
    *seen
        .by_key
        .lock()
        .expect("not poisoned")
        .entry(key.clone())
        .or_default() += 1;
    seen.arrivals.send_modify(|arrivals| *arrivals += 1);
    if !seen.options.delay.is_zero() {
        tokio::time::sleep(seen.options.delay).await;
    }
    seen.options
        .fixed_id
        .clone()
        .unwrap_or_else(|| format!("sink-{key}"))
}

/// Creates a workspace with an `http` channel pointed at `sink_url` and queues
/// `messages` sends spread evenly over `contacts` contacts, in transactions of up to
/// 5,000 sends. Returns the number queued.
pub async fn seed_http_sends(
    store: &leadline_store::Store,
    sink_url: &str,
    contacts: usize,
    messages: usize,
) -> usize {
    seed_sends(store, http_sink_channel(sink_url), contacts, messages)
        .await
        .2
}

/// An `http` SMS channel sending to `sink_url`.
pub fn http_sink_channel(sink_url: &str) -> leadline_store::channels::NewChannel {
    let mut settings = serde_json::Map::new();
    settings.insert("url".into(), sink_url.into());
    let mut secrets = serde_json::Map::new();
    secrets.insert("signingSecret".into(), "load-test-secret".into());
    leadline_store::channels::NewChannel {
        name: "HTTP sink".into(),
        carries: leadline_core::channel::MessageProviderType::Sms,
        provider: leadline_core::channel::ProviderKind::Http,
        sender: "+14155550100".into(),
        settings,
        secrets: secrets.into(),
        delivery: Default::default(),
    }
}

/// A Twilio SMS channel sending to the sink's Twilio endpoint.
pub fn twilio_sink_channel(sink: &CountingSink) -> leadline_store::channels::NewChannel {
    let mut settings = serde_json::Map::new();
    settings.insert("accountSid".into(), format!("AC{}", "0".repeat(32)).into());
    settings.insert("apiBaseUrl".into(), sink.twilio_base().into());
    let mut secrets = serde_json::Map::new();
    secrets.insert("authToken".into(), "load-test-token".into());
    leadline_store::channels::NewChannel {
        name: "Twilio sink".into(),
        carries: leadline_core::channel::MessageProviderType::Sms,
        provider: leadline_core::channel::ProviderKind::Twilio,
        sender: "+14155550100".into(),
        settings,
        secrets: secrets.into(),
        delivery: Default::default(),
    }
}

/// Creates a workspace with `channel` and queues `messages` sends on it spread evenly
/// over `contacts` contacts. Returns the workspace, the channel and the number queued.
pub async fn seed_sends(
    store: &leadline_store::Store,
    channel: leadline_store::channels::NewChannel,
    contacts: usize,
    messages: usize,
) -> (leadline_core::WorkspaceId, leadline_core::ChannelId, usize) {
    use leadline_core::conversation::Controller;
    use leadline_core::message::MessageType;
    use leadline_store::contacts::ContactUpsert;
    use leadline_store::conversations::{
        NewConversation, NewOutbound, OpenConversation, OpenOutcome,
    };

    let (workspace, _) = store
        .create_workspace("Dispatch load")
        .await
        .expect("a workspace");
    let channel = store
        .create_channel(workspace.id, channel)
        .await
        .expect("a channel");
    let mut conversations = Vec::with_capacity(contacts);
    for n in 0..contacts {
        let cellphone =
            leadline_core::E164::parse(&format!("+1415555{n:04}")).expect("a valid number");
        let upsert = ContactUpsert::cellphone_only(workspace.id, cellphone);
        let contact = store
            .upsert_contact(upsert)
            .await
            .expect("stored")
            .expect("valid")
            .contact;
        let open = OpenConversation {
            conversation: NewConversation {
                workspace_id: workspace.id,
                contact_id: contact.id,
                channel_id: channel.id,
                name: "HTTP sink".into(),
                controller: Controller::Human,
                assigned_user_id: None,
                agent_context: None,
                additional_messages: Vec::new(),
                campaign_id: None,
                consent_captured_at: None,
            },
            opening: None,
        };
        match store.open_conversation(open).await.expect("stored") {
            OpenOutcome::Opened { conversation, .. } => conversations.push(conversation),
            OpenOutcome::AlreadyActive { .. } => unreachable!("a new contact has no conversation"),
        }
    }
    let mut queued = 0;
    while queued < messages {
        let chunk = (messages - queued).min(5_000);
        let batch = (queued..queued + chunk)
            .map(|n| {
                let outbound = NewOutbound {
                    message_type: MessageType::Sms,
                    body: format!("load message {n}"),
                    template: None,
                    author_user_id: None,
                    sender: None,
                };
                (conversations[n % conversations.len()].clone(), outbound)
            })
            .collect();
        store.queue_messages(batch).await.expect("queued");
        queued += chunk;
    }
    (workspace.id, channel.id, queued)
}

/// Store options with a fresh secret key, for a benchmark's store that seals the
/// channels it seeds (nothing else ever reads that database).
pub fn store_options_with_a_key() -> leadline_store::StoreOptions {
    let ring = leadline_store::KeyRing::new(leadline_store::SecretKey::generate(), Vec::new());
    leadline_store::StoreOptions {
        secret_keys: Some(leadline_store::SecretKeys::fixed(ring)),
        ..leadline_store::StoreOptions::default()
    }
}
