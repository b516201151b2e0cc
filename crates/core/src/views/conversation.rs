//! A conversation as the API returns it: the Bridge shape with leadline's own fields.

use serde::Serialize;
use utoipa::ToSchema;

use crate::conversation::{Controller, ConversationStatus, ParticipantRole};

/// A conversation in the Bridge shape, with leadline's own fields added.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ConversationResponse)]
pub struct ConversationView {
    pub id: String,
    pub workspace_id: String,
    pub participants: ParticipantsView,
    pub created_at: String,
    pub updated_at: String,
    pub name: String,
    pub status: ConversationStatus,
    pub contact_id: String,
    pub channel_id: String,
    pub controller: Controller,
    pub assigned_user_id: Option<String>,
    pub agent_context: Option<String>,
    pub campaign_id: Option<String>,
    pub agent: AgentMemoryView,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ParticipantResponse)]
pub struct ParticipantView {
    pub identifier: String,
    pub identifier_type: String,
    pub role: ParticipantRole,
    pub joined_at: String,
    pub last_seen_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = ParticipantsResponse)]
pub struct ParticipantsView {
    pub externals: Vec<ParticipantView>,
    pub internals: Vec<ParticipantView>,
}

/// What the conversation remembers of its agent.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AgentMemoryResponse)]
pub struct AgentMemoryView {
    /// Agent replies so far (the turn limit counts them).
    pub turns: u32,
    pub last_reply_at: Option<String>,
    /// When the lead last wrote (WhatsApp's 24-hour window runs from it).
    pub last_inbound_at: Option<String>,
    /// The LeadScout additional messages went out.
    pub additional_messages_sent: bool,
}
