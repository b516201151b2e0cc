//! Conversations: their shape, how they are read, and (in [`writes`]) the writes that
//! start or extend them.

mod writes;

pub(crate) use writes::record_activity;
pub use writes::{NewConversation, outbound_message};

use chrono::{DateTime, Utc};
use leadline_core::conversation::{Controller, ConversationStatus, ParticipantRole};
use leadline_core::message::MessageType;
use leadline_core::{
    ChannelId, ContactId, ConversationId, E164, MessageId, PhoneNumberId, TeamId, UserId,
    WorkspaceId,
};
use serde::{Deserialize, Serialize};

use crate::messages::{Message, MessageTemplate};
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_all, fetch_optional};
use crate::{Store, StoreError};

/// One participant, in the shape the Bridge API shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub identifier: String,
    pub identifier_type: String,
    pub role: ParticipantRole,
    pub joined_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl Participant {
    pub fn contact(contact_id: ContactId, at: DateTime<Utc>) -> Self {
        Self {
            identifier: contact_id.to_string(),
            identifier_type: "ID".into(),
            role: ParticipantRole::External,
            joined_at: at,
            last_seen_at: None,
        }
    }

    pub fn user(user_id: UserId, at: DateTime<Utc>) -> Self {
        Self {
            identifier: user_id.to_string(),
            identifier_type: "ID".into(),
            role: ParticipantRole::Internal,
            joined_at: at,
            last_seen_at: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participants {
    pub externals: Vec<Participant>,
    pub internals: Vec<Participant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub contact_id: ContactId,
    pub channel_id: ChannelId,
    pub status: ConversationStatus,
    pub controller: Controller,
    pub name: String,
    pub assigned_user_id: Option<UserId>,
    pub participants: Participants,
    pub agent_context: Option<String>,
    /// Messages the agent may send once the lead has replied.
    pub additional_messages: Vec<String>,
    pub campaign_id: Option<String>,
    pub consent_captured_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The pool number the conversation's last outbound message went out from; its
    /// next messages stay on it while it can send.
    pub sticky_number_id: Option<PhoneNumberId>,
    /// The number a person chose for this conversation; it wins over every other rule.
    pub override_number_id: Option<PhoneNumberId>,
    /// What the conversation remembers of its agent.
    pub agent: AgentMemory,
    /// The team whose queue holds it once handed off (see the console's inbox).
    pub team_id: Option<TeamId>,
}

/// A conversation's memory of its agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentMemory {
    /// The flow script's position (JSON of `FlowState`).
    pub flow_state: Option<String>,
    /// Agent replies sent so far.
    pub turns: u32,
    pub replied_at: Option<DateTime<Utc>>,
    /// The last inbound message the opt-out handling has read.
    pub handled_through: Option<MessageId>,
    /// The last inbound message an agent turn has answered.
    pub read_through: Option<MessageId>,
    /// The LeadScout additional messages went out.
    pub additional_sent: bool,
    /// When the lead last wrote (WhatsApp's 24-hour window runs from it).
    pub last_inbound_at: Option<DateTime<Utc>>,
}

/// An outbound message to queue.
#[derive(Debug, Clone)]
pub struct NewOutbound {
    pub message_type: MessageType,
    pub body: String,
    pub template: Option<MessageTemplate>,
    pub author_user_id: Option<UserId>,
    /// The pool number it goes out from, its send already reserved; `None` sends from
    /// the channel's configured sender, at once.
    pub sender: Option<OutboundSender>,
}

/// A pool number reserved for one outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSender {
    pub phone_number_id: PhoneNumberId,
    pub number: E164,
    /// The reserved slot: the send job is not due before it, which keeps the number
    /// under its rate.
    pub not_before: DateTime<Utc>,
}

/// A conversation to open with its first message.
#[derive(Debug, Clone)]
pub struct OpenConversation {
    pub conversation: NewConversation,
    /// The first message, queued with the conversation; `None` when the lead wrote
    /// first.
    pub opening: Option<NewOutbound>,
}

/// Where an outbound message goes.
#[derive(Debug, Clone)]
pub enum PlannedConversation {
    /// A conversation to open with the message.
    Open(Conversation),
    /// The contact's active conversation on the channel.
    Existing(Conversation),
}

/// An outbound message and where it goes, as the use case decided: the rows to write.
#[derive(Debug, Clone)]
pub struct PlannedOpening {
    pub conversation: PlannedConversation,
    pub message: Message,
    /// When the send job is due: now, or the slot reserved on its pool number.
    pub run_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum OpenOutcome {
    /// A new conversation, with its queued opening message.
    Opened {
        conversation: Conversation,
        message: Option<Box<Message>>,
    },
    /// The contact already has an active conversation on this channel; nothing was
    /// written.
    AlreadyActive { conversation: Conversation },
}

/// What [`Store::write_opening`] did.
#[derive(Debug, Clone)]
pub enum OpeningWritten {
    /// The planned conversation was opened with the message.
    Opened {
        conversation: Conversation,
        message: Box<Message>,
    },
    /// The message was queued in the existing conversation the plan named.
    Queued {
        conversation: Conversation,
        message: Box<Message>,
    },
    /// The contact got an active conversation on the channel meanwhile; nothing was
    /// written.
    AlreadyActive { conversation: Conversation },
}

/// Filters of the conversation list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub contact_id: Option<ContactId>,
    pub channel_id: Option<ChannelId>,
    pub status: Option<ConversationStatus>,
}

macro_rules! conversation_columns {
    () => {
        "id, workspace_id, contact_id, channel_id, status, controller, name, assigned_user_id, participants, \
         agent_context, additional_messages, campaign_id, consent_captured_at, created_at, updated_at, \
         sticky_number_id, override_number_id, agent_state, agent_turns, agent_replied_at, handled_through, \
         agent_read_through, additional_sent, last_inbound_at, team_id"
    };
}
pub(crate) use conversation_columns;

impl FromStoreRow for Conversation {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Conversation {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            contact_id: row.id("contact_id")?,
            channel_id: row.id("channel_id")?,
            status: row.parsed("status", ConversationStatus::parse)?,
            controller: row.parsed("controller", Controller::parse)?,
            name: row.text("name")?,
            assigned_user_id: row.optional_id("assigned_user_id")?,
            participants: row.json("participants")?,
            agent_context: row.optional_text("agent_context")?,
            additional_messages: row.json("additional_messages")?,
            campaign_id: row.optional_text("campaign_id")?,
            consent_captured_at: row.optional_time("consent_captured_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            sticky_number_id: row.optional_id("sticky_number_id")?,
            override_number_id: row.optional_id("override_number_id")?,
            agent: AgentMemory {
                flow_state: row.optional_text("agent_state")?,
                turns: u32::try_from(row.int("agent_turns")?).unwrap_or(u32::MAX),
                replied_at: row.optional_time("agent_replied_at")?,
                handled_through: row.optional_id("handled_through")?,
                read_through: row.optional_id("agent_read_through")?,
                additional_sent: row.flag("additional_sent")?,
                last_inbound_at: row.optional_time("last_inbound_at")?,
            },
            team_id: row.optional_id("team_id")?,
        })
    }
}

const ACTIVE_CONVERSATION: &str = concat!(
    "SELECT ",
    conversation_columns!(),
    " FROM conversations WHERE workspace_id = $1 AND contact_id = $2 AND channel_id = $3 AND status = 'ACTIVE'"
);

impl Store {
    pub async fn conversation(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![
            workspace_id.to_string().into(),
            conversation_id.to_string().into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }

    pub async fn active_conversation(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
        channel_id: ChannelId,
    ) -> Result<Option<Conversation>, StoreError> {
        fetch_optional(
            &self.backend,
            ACTIVE_CONVERSATION,
            pair_args(workspace_id, contact_id, channel_id),
        )
        .await
    }

    /// The conversation an inbound message on `channel_id` from `contact_id` belongs
    /// to: the active one, else the latest one.
    pub async fn latest_conversation(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
        channel_id: ChannelId,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations \
             WHERE workspace_id = $1 AND contact_id = $2 AND channel_id = $3 \
             ORDER BY CASE WHEN status = 'ACTIVE' THEN 0 ELSE 1 END, id DESC LIMIT 1"
        );
        fetch_optional(
            &self.backend,
            sql,
            pair_args(workspace_id, contact_id, channel_id),
        )
        .await
    }

    /// One page of the workspace's conversations, oldest first, filtered.
    pub async fn list_conversations(
        &self,
        workspace_id: WorkspaceId,
        filter: &ConversationFilter,
        after: Option<ConversationId>,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        // Absent filters bind as '' and match everything: one statement text, whatever
        // the combination of filters.
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations \
             WHERE workspace_id = $1 AND id > $2 \
               AND ($3 = '' OR contact_id = $3) AND ($4 = '' OR channel_id = $4) AND ($5 = '' OR status = $5) \
             ORDER BY id LIMIT $6"
        );
        let args = vec![
            workspace_id.to_string().into(),
            after.map(|a| a.to_string()).unwrap_or_default().into(),
            filter
                .contact_id
                .map(|c| c.to_string())
                .unwrap_or_default()
                .into(),
            filter
                .channel_id
                .map(|c| c.to_string())
                .unwrap_or_default()
                .into(),
            filter.status.map(|s| s.as_str()).unwrap_or_default().into(),
            i64::from(limit).into(),
        ];
        fetch_all(&self.backend, sql, args).await
    }
}

/// The arguments of a lookup by workspace, contact and channel.
fn pair_args(workspace_id: WorkspaceId, contact_id: ContactId, channel_id: ChannelId) -> Vec<Arg> {
    vec![
        workspace_id.to_string().into(),
        contact_id.to_string().into(),
        channel_id.to_string().into(),
    ]
}
