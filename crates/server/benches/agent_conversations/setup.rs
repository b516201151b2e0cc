//! The bench's HTTP client and the untimed setup: agent settings, attributes, the
//! workspace's flow script, a sandbox channel, the opening template, the contacts and
//! their LeadScout conversations.

use super::*;

/// The bench's HTTP side: one pooled client and the workspace's key.
#[derive(Clone)]
pub(crate) struct Api {
    pub(crate) client: reqwest::Client,
    pub(crate) base: String,
    pub(crate) key: String,
}

impl Api {
    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-api-key", &self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{path}: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub(crate) async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(&body)).await
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    /// POSTs and panics unless the answer is `expected`.
    pub(crate) async fn setup(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        expected: u16,
    ) -> Value {
        let (status, answer) = self.send(method, path, Some(&body)).await;
        assert_eq!(status.as_u16(), expected, "{path} {body}: {answer}");
        answer
    }
}

/// Agent settings, attributes, the workspace's script, a sandbox channel, the opening
/// template, the contacts and their LeadScout conversations.
pub(crate) async fn set_up(
    api: &Api,
    workspace_id: &str,
    messages: usize,
    total: usize,
) -> (String, Vec<Lead>) {
    use reqwest::Method;
    api.setup(
        Method::PUT,
        "/api/v1/settings/agent",
        json!({"agent": "FLOW", "maxTurns": 200, "minReplyDelaySeconds": 0, "respectQuietHours": true}),
        200,
    )
    .await;
    for q in 1..=messages {
        api.setup(
            Method::POST,
            "/api/v1/custom-attributes",
            json!({"key": format!("q{q}"), "label": format!("Question {q}"), "kind": "OPEN"}),
            201,
        )
        .await;
    }
    api.setup(
        Method::POST,
        "/api/v1/agent-scripts",
        json!({"name": "Benchmark qualification", "script": script_json(messages - 1)}),
        201,
    )
    .await;
    let channel = api
        .setup(
            Method::POST,
            "/api/v1/channels",
            json!({"name": "Sandbox SMS", "messageProviderType": "SMS", "sender": "+14155550100",
                   "settings": {"deliveryDelaySeconds": 0}}),
            201,
        )
        .await;
    let channel_id = channel["id"].as_str().expect("a channel id").to_owned();
    api.setup(
        Method::POST,
        "/api/v1/templates",
        json!({"name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}. Can I ask you a few questions?",
               "channelType": "SMS"}),
        201,
    )
    .await;

    let leadscout = format!("/bridge/api/v1/workspaces/{workspace_id}/leadscout/outbound");
    let contacts = format!("/bridge/api/v1/workspaces/{workspace_id}/contacts/partial");
    for index in 0..total {
        E164::parse(&phone_of(index)).unwrap_or_else(|e| panic!("{}: {e}", phone_of(index)));
    }
    let mut leads: Vec<Lead> = futures::stream::iter(0..total)
        .map(|index| {
            let (api, leadscout, contacts, channel_id) =
                (api.clone(), leadscout.clone(), contacts.clone(), channel_id.clone());
            async move {
                let phone = phone_of(index);
                api.setup(
                    Method::POST,
                    &contacts,
                    json!({"cellphone": phone, "firstName": format!("Lead{index}")}),
                    200,
                )
                .await;
                let opened = api
                    .setup(
                        Method::POST,
                        &leadscout,
                        json!({
                            "contact": {"identifier": phone, "identifierType": "CELLPHONE",
                                        "messageProviderType": "SMS", "providerChannelId": channel_id},
                            "template": {"name": "welcome", "orderedParams": [format!("Lead{index}"), "Leo"]}
                        }),
                        200,
                    )
                    .await;
                Lead {
                    index,
                    phone,
                    conversation_id: opened["conversation"]["id"]
                        .as_str()
                        .expect("a conversation id")
                        .to_owned(),
                }
            }
        })
        .buffer_unordered(SETUP_CONCURRENCY)
        .collect()
        .await;
    leads.sort_by_key(|lead| lead.index);
    (channel_id, leads)
}
