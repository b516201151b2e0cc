//! Reading a workspace's event log step by step: what a test's last action wrote, and
//! whether each event's `data` is what the API answers for its resource.

use leadline_core::WorkspaceId;
use leadline_store::events::EventQuery;
use serde_json::Value;

use super::TestApp;

/// One event as a receiver gets it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub event_type: String,
    pub resource_id: String,
    pub data: Value,
}

/// The events written since the previous step.
#[derive(Debug, Clone)]
pub struct Step(pub Vec<Seen>);

/// The position in a workspace's log up to which a test has read.
pub struct EventLog {
    workspace: WorkspaceId,
    read: usize,
}

impl EventLog {
    pub fn new(app: &TestApp) -> Self {
        Self {
            workspace: app.workspace_id.parse().expect("a workspace id"),
            read: 0,
        }
    }

    /// Every event of the workspace, oldest first.
    pub async fn all(&self, app: &TestApp) -> Vec<Seen> {
        let query = EventQuery {
            limit: 10_000,
            ..EventQuery::default()
        };
        app.store
            .list_events(self.workspace, &query)
            .await
            .expect("the event log reads")
            .into_iter()
            .map(|event| {
                let payload: Value = serde_json::from_str(&event.payload).expect("JSON payload");
                assert_eq!(payload["type"], event.event_type.as_str(), "{payload}");
                assert!(payload["timestamp"].is_string(), "{payload}");
                Seen {
                    event_type: event.event_type.as_str().to_owned(),
                    resource_id: event.resource_id,
                    data: payload["data"].clone(),
                }
            })
            .collect()
    }

    /// The events written since the last step.
    pub async fn step(&mut self, app: &TestApp) -> Step {
        let all = self.all(app).await;
        let new = all[self.read..].to_vec();
        self.read = all.len();
        Step(new)
    }
}

impl Step {
    /// The step's events whose type starts with `prefix` (`call.`): what a test looks
    /// at while background workers write others.
    pub fn only(&self, prefix: &str) -> Step {
        Step(
            self.0
                .iter()
                .filter(|e| e.event_type.starts_with(prefix))
                .cloned()
                .collect(),
        )
    }

    /// The types of the step's events; an agent's decision with its kind, as
    /// `agent.decision:REPLY`.
    pub fn types(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|e| match e.data["kind"].as_str() {
                Some(kind) if e.event_type == "agent.decision" => {
                    format!("{}:{kind}", e.event_type)
                }
                _ => e.event_type.clone(),
            })
            .collect()
    }

    /// Each event's data is what the API shows of its resource now. Of several events
    /// about one resource in a step, the last one shows it as it is now; the earlier
    /// ones showed it as it was then, which the API no longer does, so they are only
    /// checked to be about it.
    pub async fn assert_as_the_api_shows(&self, app: &TestApp) {
        for (n, event) in self.0.iter().enumerate() {
            let later = self.0[n + 1..]
                .iter()
                .any(|e| e.resource_id == event.resource_id && e.event_type != "agent.decision");
            let shown = api_view(app, event).await;
            if later {
                assert_eq!(shown["id"], event.data["id"], "{}", event.event_type);
            } else {
                assert_eq!(
                    event.data, shown,
                    "{} about {} differs from the API",
                    event.event_type, event.resource_id
                );
            }
        }
    }
}

/// What the API answers for the resource of `event` (with the ids an event adds).
async fn api_view(app: &TestApp, event: &Seen) -> Value {
    let data = &event.data;
    let text = |key: &str| data[key].as_str().unwrap_or_default().to_owned();
    let resource = event.event_type.split('.').next().unwrap();
    let found = match resource {
        "contact" => app.get(&format!("/api/v1/contacts/{}", text("id"))).await,
        "conversation" => {
            app.get(&format!("/api/v1/conversations/{}", text("id")))
                .await
        }
        "lead" => app.get(&format!("/api/v1/leads/{}", text("id"))).await,
        "campaign" => app.get(&format!("/api/v1/campaigns/{}", text("id"))).await,
        "number" => {
            app.get(&format!("/api/v1/phone-numbers/{}", text("id")))
                .await
        }
        "message" | "call" => {
            let path = format!(
                "/api/v1/conversations/{}/messages?limit=500",
                text("conversationId")
            );
            let (status, page) = app.get(&path).await;
            (status, find(&page["data"], "id", data["id"].clone()))
        }
        "opt_out" => {
            let path = format!("/api/v1/contacts/{}/opt-outs", text("contactId"));
            let (status, list) = app.get(&path).await;
            let kind = data["messageProviderType"].clone();
            (status, find(&list, "messageProviderType", kind))
        }
        "agent" => {
            let path = format!(
                "/api/v1/conversations/{}/decisions?limit=500",
                text("conversationId")
            );
            let (status, page) = app.get(&path).await;
            let mut decision = find(&page["data"], "id", data["id"].clone());
            if let Value::Object(fields) = &mut decision {
                fields.insert("conversationId".into(), data["conversationId"].clone());
                fields.insert("contactId".into(), data["contactId"].clone());
            }
            (status, decision)
        }
        other => panic!("no API view of {other} events"),
    };
    assert_eq!(found.0, 200, "{}: {}", event.event_type, found.1);
    found.1
}

fn find(list: &Value, key: &str, value: Value) -> Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item[key] == value))
        .cloned()
        .unwrap_or(Value::Null)
}
