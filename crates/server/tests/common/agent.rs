//! Helpers of the agent suites: an app on a simulated clock, a sandbox channel and the
//! `welcome` template, LeadScout conversations, a lead's messages injected through the
//! sandbox, and the agent's decisions and replies.
//!
//! No worker runs in the background here: every wait for the agent drains it (see
//! [`super::agent_steps`]) on the store's simulated "now", then reads what it wrote,
//! and panics with what it saw when that is not there. The replies it queues are read
//! as queued; a wait for a message's status drains the dispatcher.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use leadline_core::ManualClock;
use leadline_server::serve::ServerOptions;
use leadline_store::BackendKind;
use reqwest::Method;
use serde_json::{Value, json};

use super::TestApp;
use super::dispatch_steps::stepped;

pub const SETTINGS: &str = "/api/v1/settings/agent";
pub const SCRIPTS: &str = "/api/v1/agent-scripts";

/// Monday 2026-11-23, 18:00 UTC: 10:00 in San Francisco, where the leads' +1 415
/// cellphones are, so no quiet hours apply.
pub fn monday_daytime() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 18, 0, 0).unwrap()
}

/// The same Monday at `hour:minute` UTC.
pub fn monday_at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, hour, minute, 0).unwrap()
}

/// An app on a [`ManualClock`] without background workers: the waits step the agent
/// runner, and [`AgentApp::wait_for_opening`] the dispatcher; a sandbox SMS channel,
/// the `welcome` template and agent settings without the minimum reply delay.
pub struct AgentApp {
    pub app: TestApp,
    pub clock: Arc<ManualClock>,
    pub channel_id: String,
}

impl std::ops::Deref for AgentApp {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// A lead with a LeadScout conversation.
#[derive(Debug, Clone)]
pub struct Lead {
    pub phone: String,
    pub contact_id: String,
    pub conversation_id: String,
}

/// Where a conversation stood just before a lead's message: how many decisions and
/// outbound messages it had, and the inbound message's id.
#[derive(Debug, Clone)]
pub struct Mark {
    pub decisions: usize,
    pub outbound: usize,
    pub message_id: String,
}

impl AgentApp {
    /// `None` when the backend is not available here (see `TestDatabase`).
    pub async fn start(kind: BackendKind) -> Option<Self> {
        let clock = Arc::new(ManualClock::new(monday_daytime()));
        let app = TestApp::spawn_with(kind, clock.clone(), stepped()).await?;
        Some(Self::ready(app, clock).await)
    }

    /// Like [`AgentApp::start`], the server started with exactly `options` (see
    /// [`TestApp::spawn_exact`]) but for the workers, which the waits step.
    pub async fn start_exact(kind: BackendKind, options: ServerOptions) -> Option<Self> {
        let clock = Arc::new(ManualClock::new(monday_daytime()));
        let options = ServerOptions {
            without_dispatcher: true,
            ..options
        };
        let app = TestApp::spawn_exact(kind, clock.clone(), options).await?;
        Some(Self::ready(app, clock).await)
    }

    /// The sandbox channel, the template and the settings of every agent app.
    async fn ready(app: TestApp, clock: Arc<ManualClock>) -> Self {
        let channel_id = app.sandbox_channel().await;
        app.create_template(json!({
            "name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"
        }))
        .await;
        let this = Self {
            app,
            clock,
            channel_id,
        };
        this.agent_settings(json!({})).await;
        this
    }

    pub async fn stop(self) {
        self.app.stop().await;
    }

    pub async fn put(&self, path: &str, body: Value) -> (u16, Value) {
        super::read(
            self.request(Method::PUT, path)
                .json(&body)
                .send()
                .await
                .expect("the request is sent"),
        )
        .await
    }

    /// Replaces the agent settings with `extra` over `minReplyDelaySeconds: 0`.
    pub async fn agent_settings(&self, extra: Value) -> Value {
        let mut body = json!({"minReplyDelaySeconds": 0});
        merge(&mut body, extra);
        let (status, settings) = self.put(SETTINGS, body.clone()).await;
        assert_eq!(status, 200, "agent settings {body}: {settings}");
        settings
    }

    /// A user with this email; its id.
    pub async fn user_id(&self, email: &str) -> String {
        self.create_user(email).await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A team of these users, in this order; its id.
    pub async fn team(&self, name: &str, members: &[&str]) -> String {
        let (status, team) = self
            .post(
                "/api/v1/teams",
                json!({"name": name, "memberUserIds": members}),
            )
            .await;
        assert_eq!(status, 201, "{team}");
        team["id"].as_str().unwrap().to_owned()
    }

    /// `timeline` (CLOSED: Now, 1-3 months, Just looking) and `budget` (OPEN).
    pub async fn qualifying_attributes(&self) {
        self.create_attribute(
            json!({"key": "timeline", "label": "Timeline", "kind": "CLOSED",
            "options": [{"label": "Now"}, {"label": "1-3 months"}, {"label": "Just looking"}]}),
        )
        .await;
        self.create_attribute(json!({"key": "budget", "label": "Budget", "kind": "OPEN"}))
            .await;
    }

    /// Creates the workspace's script: [`qualifying_script`] with `extra` over it.
    pub async fn workspace_script(&self, extra: Value) -> Value {
        let mut script = qualifying_script();
        merge(&mut script, extra);
        let (status, created) = self
            .post(SCRIPTS, json!({"name": "Qualify", "script": script}))
            .await;
        assert_eq!(status, 201, "{created}");
        created
    }

    /// Creates (or updates) the contact with this cellphone from `fields`; its id.
    pub async fn contact(&self, phone: &str, fields: Value) -> String {
        let mut body = json!({"cellphone": phone, "firstName": "Ana"});
        merge(&mut body, fields);
        let (status, contact) = self.upsert_contact(body).await;
        assert_eq!(status, 200, "{contact}");
        contact["id"].as_str().unwrap().to_owned()
    }

    /// The LeadScout request for `phone` on the sandbox channel, `extra` merged in.
    pub fn leadscout_request(&self, phone: &str, extra: Value) -> Value {
        let mut body = TestApp::leadscout_body(phone, &self.channel_id, &["Ana", "Leo"]);
        merge(&mut body, extra);
        body
    }

    /// A contact with this cellphone (kept if it exists) and a LeadScout conversation
    /// opened with it, `extra` merged into the request.
    pub async fn open(&self, phone: &str, extra: Value) -> Lead {
        let contact_id = self.contact(phone, json!({})).await;
        let (status, response) = self
            .post(&self.leadscout_path(), self.leadscout_request(phone, extra))
            .await;
        assert_eq!(status, 200, "{response}");
        Lead {
            phone: phone.to_owned(),
            contact_id,
            conversation_id: response["conversation"]["id"].as_str().unwrap().to_owned(),
        }
    }

    /// The lead writes `text`; where the conversation stood just before.
    pub async fn say(&self, lead: &Lead, text: &str) -> Mark {
        self.say_on(&self.channel_id, lead, text).await
    }

    /// The lead writes `text` on the sandbox channel `channel_id`.
    pub async fn say_on(&self, channel_id: &str, lead: &Lead, text: &str) -> Mark {
        let decisions = self.decisions(lead).await.len();
        let outbound = self.outbound_texts(lead).await.len();
        let (status, message) = self
            .post(
                "/api/v1/sandbox/inbound",
                json!({"channelId": channel_id, "from": lead.phone, "text": text}),
            )
            .await;
        assert_eq!(status, 201, "{message}");
        assert_eq!(
            message["conversationId"], lead.conversation_id,
            "the lead's message is filed in its conversation: {message}"
        );
        Mark {
            decisions,
            outbound,
            message_id: message["id"].as_str().unwrap().to_owned(),
        }
    }

    /// The conversation as GET shows it.
    pub async fn conversation(&self, lead: &Lead) -> Value {
        let (status, conversation) = self
            .get(&format!("/api/v1/conversations/{}", lead.conversation_id))
            .await;
        assert_eq!(status, 200, "{conversation}");
        conversation
    }

    /// Every decision in the conversation, oldest first.
    pub async fn decisions(&self, lead: &Lead) -> Vec<Value> {
        let (status, page) = self
            .get(&format!(
                "/api/v1/conversations/{}/decisions?limit=500",
                lead.conversation_id
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        page["data"].as_array().unwrap().clone()
    }

    /// The kinds of the decisions made since `mark`.
    pub async fn kinds_since(&self, lead: &Lead, mark: &Mark) -> Vec<String> {
        self.decisions(lead).await[mark.decisions..]
            .iter()
            .map(|d| d["kind"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Lets the agent run what is due, then returns the first decision of `kind` made
    /// since `mark`.
    pub async fn wait_for_decision(&self, lead: &Lead, kind: &str, mark: &Mark) -> Value {
        self.drain_agent().await;
        let decisions = self.decisions(lead).await;
        match decisions
            .iter()
            .skip(mark.decisions)
            .find(|d| d["kind"] == kind)
        {
            Some(found) => found.clone(),
            None => panic!(
                "no {kind} decision after the lead's message {}; decisions: {}; messages: {}",
                mark.message_id,
                Value::Array(decisions.clone()),
                Value::Array(self.messages_of(lead).await)
            ),
        }
    }

    /// The conversation's messages, oldest first.
    pub async fn messages_of(&self, lead: &Lead) -> Vec<Value> {
        let (status, page) = self
            .get(&format!(
                "/api/v1/conversations/{}/messages?limit=500",
                lead.conversation_id
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        page["data"].as_array().unwrap().clone()
    }

    /// The outbound messages (the opening template included), oldest first.
    pub async fn outbound(&self, lead: &Lead) -> Vec<Value> {
        self.messages_of(lead)
            .await
            .into_iter()
            .filter(|m| m["direction"] == "outbound")
            .collect()
    }

    /// The texts of [`AgentApp::outbound`].
    pub async fn outbound_texts(&self, lead: &Lead) -> Vec<String> {
        self.outbound(lead)
            .await
            .iter()
            .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The texts sent since `mark`.
    pub async fn sent_since(&self, lead: &Lead, mark: &Mark) -> Vec<String> {
        self.outbound_texts(lead).await[mark.outbound..].to_vec()
    }

    /// Lets the agent run what is due, then returns the texts of the `count`
    /// outbound messages queued since `mark` (panics on more or fewer).
    pub async fn wait_for_sent(&self, lead: &Lead, mark: &Mark, count: usize) -> Vec<String> {
        self.drain_agent().await;
        let sent = self.sent_since(lead, mark).await;
        assert_eq!(
            sent.len(),
            count,
            "{count} replies expected since message {}, got {sent:?}; decisions: {}",
            mark.message_id,
            Value::Array(self.decisions(lead).await)
        );
        sent
    }

    /// Drains the dispatcher; the opening template must then be `delivered`.
    pub async fn wait_for_opening(&self, lead: &Lead) -> Value {
        let opening = self.outbound(lead).await;
        let id = opening.first().expect("the opening template is queued")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        self.wait_for_status(&lead.conversation_id, &id, "delivered")
            .await
    }

    /// The agent's pass over the lead's message wrote `kind` (a SKIPPED, typically)
    /// and sent nothing; once the runner has nothing left to do, still nothing.
    pub async fn assert_no_reply(&self, lead: &Lead, mark: &Mark, kind: &str) -> Value {
        let decision = self.wait_for_decision(lead, kind, mark).await;
        assert_eq!(
            self.sent_since(lead, mark).await,
            Vec::<String>::new(),
            "nothing is sent after {decision}"
        );
        // No later pass sends anything either.
        self.drain_agent().await;
        assert_eq!(
            self.sent_since(lead, mark).await,
            Vec::<String>::new(),
            "nothing is ever sent after {decision}"
        );
        decision
    }

    /// The contact's values of the custom attribute `key`, `None` when it has none.
    pub async fn attribute(&self, lead: &Lead, key: &str) -> Option<Vec<String>> {
        let contact = self.fetch_contact(&json!(lead.contact_id)).await;
        contact["customAttributes"]
            .as_array()
            .expect("customAttributes is an array")
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| {
                a["values"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_owned())
                    .collect()
            })
    }

    /// The contact's opt-outs.
    pub async fn opt_outs(&self, lead: &Lead) -> Vec<Value> {
        let (status, list) = self
            .get(&format!("/api/v1/contacts/{}/opt-outs", lead.contact_id))
            .await;
        assert_eq!(status, 200, "{list}");
        list.as_array().unwrap().clone()
    }

    /// The ids of the conversation's internal participants.
    pub async fn internals(&self, lead: &Lead) -> Vec<String> {
        self.conversation(lead).await["participants"]["internals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["identifier"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The flow script over [`AgentApp::qualifying_attributes`]: timeline, then budget;
/// qualified when the timeline is Now or 1-3 months.
pub fn qualifying_script() -> Value {
    json!({
        "questions": [
            {"attribute": "timeline", "text": "When are you planning to move?"},
            {"attribute": "budget", "text": "What budget do you have in mind?"}
        ],
        "qualification": [{"attribute": "timeline", "anyOf": ["Now", "1-3 months"]}],
        "qualifiedMessage": "Great news: an advisor will call you today.",
        "notQualifiedMessage": "Thanks for your answers! We will keep you posted.",
        "personRequestedMessage": "Sure, a person from our team will write to you now.",
        "retryPrefix": "Sorry, I did not get that.",
        "maxRetries": 2
    })
}

/// The first question as the agent asks it, with the options of `timeline`.
pub const TIMELINE_QUESTION: &str =
    "When are you planning to move? (Now, 1-3 months or Just looking)";
pub const BUDGET_QUESTION: &str = "What budget do you have in mind?";
pub const QUALIFIED: &str = "Great news: an advisor will call you today.";
pub const NOT_QUALIFIED: &str = "Thanks for your answers! We will keep you posted.";
pub const PERSON_REQUESTED: &str = "Sure, a person from our team will write to you now.";

/// Sets the fields of `extra` (an object) on `body`, recursively for objects.
pub fn merge(body: &mut Value, extra: Value) {
    match (body, extra) {
        (Value::Object(body), Value::Object(extra)) => {
            for (key, value) in extra {
                match body.get_mut(&key) {
                    Some(existing) if existing.is_object() && value.is_object() => {
                        merge(existing, value)
                    }
                    _ => {
                        body.insert(key, value);
                    }
                }
            }
        }
        (body, extra) => *body = extra,
    }
}

/// Defines `NAME::sqlite` and `NAME::postgres` tests running the same body against a
/// fresh [`AgentApp`] on each store.
#[macro_export]
macro_rules! agent_stores {
    ($name:ident, |$app:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($app: &$crate::common::agent::AgentApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::agent::AgentApp::start(leadline_store::BackendKind::Sqlite)
                    .await
                    .expect("SQLite is always available");
                run(&app).await;
                app.stop().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(app) = $crate::common::agent::AgentApp::start(leadline_store::BackendKind::Postgres).await else {
                    return;
                };
                run(&app).await;
                app.stop().await;
            }
        }
    };
}
