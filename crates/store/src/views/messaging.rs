//! Contacts, conversations, messages and the agent's decisions as the API shows them.

use leadline_core::custom_attribute::{self, AttributeDefinition};
use leadline_core::views::{
    AgentMemoryView, CallView, ContactView, ConversationView, CustomAttributeValue, DecisionView,
    MessageTemplateView, MessageView, ParticipantView, ParticipantsView, timestamp,
};

use crate::agent::Decision;
use crate::contacts::ContactRecord;
use crate::conversations::{Conversation, Participant};
use crate::messages::Message;

/// A contact as the API shows it: closed custom attributes by their options' labels,
/// which is why it takes the workspace's attribute definitions.
pub fn contact_view(contact: &ContactRecord, definitions: &[AttributeDefinition]) -> ContactView {
    let custom_attributes =
        custom_attribute::display_values(&contact.fields.attributes, definitions)
            .into_iter()
            .map(|(key, values)| CustomAttributeValue { key, values })
            .collect();
    ContactView {
        id: contact.id.to_string(),
        workspace_id: contact.workspace_id.to_string(),
        contact_type: contact.contact_type,
        created_at: timestamp(contact.created_at),
        updated_at: timestamp(contact.updated_at),
        first_name: contact.fields.first_name.clone(),
        last_name: contact.fields.last_name.clone(),
        email: contact.fields.email.as_ref().map(|e| e.to_string()),
        cellphone: Some(contact.cellphone.to_string()),
        custom_attributes,
        language_code: contact.fields.language_code,
        owner_id: contact.fields.owner_id.map(|o| o.to_string()),
    }
}

impl From<&Participant> for ParticipantView {
    fn from(participant: &Participant) -> Self {
        ParticipantView {
            identifier: participant.identifier.clone(),
            identifier_type: participant.identifier_type.clone(),
            role: participant.role,
            joined_at: timestamp(participant.joined_at),
            last_seen_at: participant.last_seen_at.map(timestamp),
        }
    }
}

impl From<&Conversation> for ConversationView {
    fn from(conversation: &Conversation) -> Self {
        let participants = &conversation.participants;
        ConversationView {
            id: conversation.id.to_string(),
            workspace_id: conversation.workspace_id.to_string(),
            participants: ParticipantsView {
                externals: participants.externals.iter().map(Into::into).collect(),
                internals: participants.internals.iter().map(Into::into).collect(),
            },
            created_at: timestamp(conversation.created_at),
            updated_at: timestamp(conversation.updated_at),
            name: conversation.name.clone(),
            status: conversation.status,
            contact_id: conversation.contact_id.to_string(),
            channel_id: conversation.channel_id.to_string(),
            controller: conversation.controller,
            assigned_user_id: conversation.assigned_user_id.map(|u| u.to_string()),
            agent_context: conversation.agent_context.clone(),
            campaign_id: conversation.campaign_id.clone(),
            agent: AgentMemoryView {
                turns: conversation.agent.turns,
                last_reply_at: conversation.agent.replied_at.map(timestamp),
                last_inbound_at: conversation.agent.last_inbound_at.map(timestamp),
                additional_messages_sent: conversation.agent.additional_sent,
            },
        }
    }
}

impl From<&Message> for MessageView {
    fn from(message: &Message) -> Self {
        MessageView {
            id: message.id.to_string(),
            conversation_id: message.conversation_id.to_string(),
            contact_id: message.contact_id.to_string(),
            channel_id: message.channel_id.to_string(),
            direction: message.direction,
            message_type: message.message_type,
            status: message.status,
            body: message.body.clone(),
            template: message.template.as_ref().map(|t| MessageTemplateView {
                name: t.name.clone(),
                language: t.language.clone(),
                params: t.params.clone(),
            }),
            author_user_id: message.author_user_id.map(|u| u.to_string()),
            provider_message_id: message.provider_message_id.clone(),
            error_code: message.error_code.clone(),
            error_message: message.error_message.clone(),
            call: message.call.as_ref().map(|c| CallView {
                to: c.to.clone(),
                from: c.from.clone(),
                status: c.status,
                duration_seconds: c.duration_seconds,
            }),
            attachments: message.attachments.clone(),
            alt_id: message.alt_id.clone(),
            sent_at: message.sent_at.map(timestamp),
            delivered_at: message.delivered_at.map(timestamp),
            created_at: timestamp(message.created_at),
            updated_at: timestamp(message.updated_at),
        }
    }
}

impl From<&Decision> for DecisionView {
    fn from(decision: &Decision) -> Self {
        DecisionView {
            id: decision.id.to_string(),
            kind: decision.kind.as_str().to_owned(),
            reason: decision.reason.clone(),
            detail: decision.detail.clone(),
            message_id: decision.message_id.map(|m| m.to_string()),
            created_at: timestamp(decision.created_at),
        }
    }
}
