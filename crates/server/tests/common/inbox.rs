//! Helpers of the console's inbox suites: conversations opened by a lead's message on a
//! sandbox channel, queued for a team or assigned through the store's hand-off write,
//! and reading which conversations a page lists.

use leadline_core::agent::DecisionKind;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::{ConversationId, TeamId, UserId, WorkspaceId};
use leadline_store::agent::{ControlChange, NewDecision};
use leadline_store::conversations::Conversation;
use leadline_store::teams::TeamFields;
use serde_json::json;

use super::TestApp;

impl TestApp {
    /// The workspace's id, typed.
    pub fn typed_workspace(&self) -> WorkspaceId {
        self.workspace_id.parse().expect("a workspace id")
    }

    /// A lead at `from` writes `text` on the sandbox channel; the conversation's id.
    pub async fn lead_writes(&self, channel_id: &str, from: &str, text: &str) -> String {
        let (status, message) = self
            .post(
                "/api/v1/sandbox/inbound",
                json!({"channelId": channel_id, "from": from, "text": text}),
            )
            .await;
        assert_eq!(status, 201, "{message}");
        message["conversationId"]
            .as_str()
            .expect("a conversation")
            .to_owned()
    }

    /// The conversation as the store has it.
    pub async fn stored_conversation(&self, id: &str) -> Conversation {
        let id: ConversationId = id.parse().expect("a conversation id");
        self.store
            .conversation(self.typed_workspace(), id)
            .await
            .expect("the store answers")
            .expect("the conversation exists")
    }

    /// A team of the workspace with these members (user ids).
    pub async fn team_of(&self, name: &str, members: &[&str]) -> TeamId {
        let fields = TeamFields {
            name: name.into(),
            description: None,
            member_user_ids: members
                .iter()
                .map(|m| m.parse::<UserId>().unwrap())
                .collect(),
        };
        self.store
            .create_team(self.typed_workspace(), fields)
            .await
            .expect("a team")
            .id
    }

    /// Gives the conversation to the AI agent (a lead who wrote first starts with a
    /// person), as the store's release writes it.
    pub async fn give_to_ai(&self, id: &str) {
        let conversation = self.stored_conversation(id).await;
        self.store
            .change_control(
                &conversation,
                ControlChange {
                    status: ConversationStatus::Active,
                    controller: Controller::Ai,
                    advisor: None,
                    team: None,
                    handled_through: None,
                    decision: NewDecision::new(
                        DecisionKind::Released,
                        "given to the agent by the test",
                    ),
                },
            )
            .await
            .expect("released");
    }

    /// Hands the conversation off, as the store's hand-off write does: to `advisor`
    /// (a user id) or, with none, to `team`'s queue.
    pub async fn hand_off(&self, id: &str, advisor: Option<&str>, team: Option<TeamId>) {
        let conversation = self.stored_conversation(id).await;
        self.store
            .change_control(
                &conversation,
                ControlChange {
                    status: ConversationStatus::HandedOff,
                    controller: Controller::Human,
                    advisor: advisor.map(|a| a.parse().unwrap()),
                    team,
                    handled_through: None,
                    decision: NewDecision::new(DecisionKind::HandOff, "handed off by the test"),
                },
            )
            .await
            .expect("handed off");
    }
}

/// The ids of the conversations a page lists, in order.
pub fn listed(body: &str) -> Vec<String> {
    body.split("data-conversation-id=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// The unread badge of conversation `id` in an inbox page, if it has one.
pub fn unread(body: &str, id: &str) -> Option<u32> {
    let start = body.find(&format!("data-conversation-id=\"{id}\""))?;
    let item = &body[start..];
    let item = &item[..item.find("</li>").unwrap_or(item.len())];
    super::console::attribute(item, "data-unread").map(|n| n.parse().unwrap())
}
