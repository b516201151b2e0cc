//! Test and benchmark support (feature `testing`): a local HTTP endpoint for the
//! `http` provider that answers every send and counts the idempotency keys it saw, so
//! a test can tell "every message arrived" from "some arrived twice", and a seeder
//! that queues many sends to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use tokio::net::TcpListener;

/// What the sink has seen, by idempotency key.
#[derive(Default)]
struct Seen {
    by_key: Mutex<HashMap<String, u32>>,
    delay: Duration,
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
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let url = format!("http://{}/send", listener.local_addr().expect("bound"));
        let seen = Arc::new(Seen {
            by_key: Mutex::default(),
            delay,
        });
        let app = Router::new()
            .route("/send", post(accept))
            .with_state(seen.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("the sink serves");
        });
        Self { url, seen, task }
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
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if !seen.delay.is_zero() {
        tokio::time::sleep(seen.delay).await;
    }
    *seen
        .by_key
        .lock()
        .expect("not poisoned")
        .entry(key.clone())
        .or_default() += 1;
    axum::Json(serde_json::json!({ "id": format!("sink-{key}") }))
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
    use leadline_core::channel::{MessageProviderType, ProviderKind};
    use leadline_core::conversation::Controller;
    use leadline_core::message::MessageType;
    use leadline_store::channels::NewChannel;
    use leadline_store::contacts::ContactUpsert;
    use leadline_store::conversations::{NewOutbound, OpenConversation, OpenOutcome};

    let (workspace, _) = store
        .create_workspace("Dispatch load")
        .await
        .expect("a workspace");
    let mut settings = serde_json::Map::new();
    settings.insert("url".into(), sink_url.into());
    let mut secrets = serde_json::Map::new();
    secrets.insert("signingSecret".into(), "load-test-secret".into());
    let channel = store
        .create_channel(
            workspace.id,
            NewChannel {
                name: "HTTP sink".into(),
                carries: MessageProviderType::Sms,
                provider: ProviderKind::Http,
                sender: "+14155550100".into(),
                settings,
                secrets,
            },
        )
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
    queued
}
