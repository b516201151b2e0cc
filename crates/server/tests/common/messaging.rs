//! Helpers of the messaging suites: a sandbox channel, a template, a contact, and
//! seeing a message moved along by the dispatcher, which the test steps.

use serde_json::{Value, json};

use super::TestApp;

/// A LeadScout conversation ready to use: its ids and the opening message.
pub struct Opened {
    pub channel_id: String,
    pub contact_id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub response: Value,
}

impl TestApp {
    /// Creates a channel from `body`; panics unless the answer is 201.
    pub async fn create_channel(&self, body: Value) -> Value {
        let (status, channel) = self.post("/api/v1/channels", body.clone()).await;
        assert_eq!(status, 201, "creating channel {body}: {channel}");
        channel
    }

    /// A sandbox SMS channel that reports delivery at once.
    pub async fn sandbox_channel(&self) -> String {
        let channel = self
            .create_channel(json!({
                "name": "Sandbox SMS", "messageProviderType": "SMS", "sender": "+14155550100",
                "settings": {"deliveryDelaySeconds": 0}
            }))
            .await;
        channel["id"].as_str().unwrap().to_owned()
    }

    /// Creates a template from `body`; panics unless the answer is 201.
    pub async fn create_template(&self, body: Value) -> Value {
        let (status, template) = self.post("/api/v1/templates", body.clone()).await;
        assert_eq!(status, 201, "creating template {body}: {template}");
        template
    }

    /// The LeadScout outbound path of this app's workspace.
    pub fn leadscout_path(&self) -> String {
        format!(
            "/bridge/api/v1/workspaces/{}/leadscout/outbound",
            self.workspace_id
        )
    }

    /// A LeadScout request for the contact with this cellphone on `channel_id`.
    pub fn leadscout_body(cellphone: &str, channel_id: &str, params: &[&str]) -> Value {
        json!({
            "contact": {"identifier": cellphone, "identifierType": "CELLPHONE",
                        "messageProviderType": "SMS", "providerChannelId": channel_id},
            "template": {"name": "welcome", "orderedParams": params}
        })
    }

    /// A sandbox channel, the `welcome` template, a contact, and a LeadScout
    /// conversation opened with it.
    pub async fn open_leadscout(&self, cellphone: &str) -> Opened {
        let channel_id = self.sandbox_channel().await;
        self.create_template(json!({
            "name": "welcome", "language": "en", "body": "Hi {{1}}, this is {{2}}.", "channelType": "SMS"
        }))
        .await;
        let (status, contact) = self
            .upsert_contact(json!({"cellphone": cellphone, "firstName": "Ana"}))
            .await;
        assert_eq!(status, 200, "{contact}");
        let (status, response) = self
            .post(
                &self.leadscout_path(),
                Self::leadscout_body(cellphone, &channel_id, &["Ana", "Leo"]),
            )
            .await;
        assert_eq!(status, 200, "{response}");
        Opened {
            channel_id,
            contact_id: contact["id"].as_str().unwrap().to_owned(),
            conversation_id: response["conversation"]["id"].as_str().unwrap().to_owned(),
            message_id: response["templateSent"]["messageId"]
                .as_str()
                .unwrap()
                .to_owned(),
            response,
        }
    }

    /// The messages of a conversation, oldest first.
    pub async fn messages(&self, conversation_id: &str) -> Vec<Value> {
        let (status, page) = self
            .get(&format!("/api/v1/conversations/{conversation_id}/messages"))
            .await;
        assert_eq!(status, 200, "{page}");
        page["data"].as_array().unwrap().clone()
    }

    /// The message once its status is `wanted`: drains the dispatcher (the app steps
    /// it, see `dispatch_steps::stepped`), so every send due and what it makes due (the
    /// sandbox's receipts) is recorded when this looks.
    pub async fn wait_for_status(
        &self,
        conversation_id: &str,
        message_id: &str,
        wanted: &str,
    ) -> Value {
        self.drain_dispatcher().await;
        let message = self
            .messages(conversation_id)
            .await
            .into_iter()
            .find(|m| m["id"] == message_id);
        match message {
            Some(message) if message["status"] == wanted => message,
            other => panic!(
                "message {message_id} is not {wanted} once the dispatcher is drained: {other:?}"
            ),
        }
    }
}
