//! Opening an outbound conversation: what a LeadScout request, a campaign's attempt and
//! an advisor's reply have in common. Given the contact's active conversation on the
//! channel (loaded by the caller) and the message to send, it decides where the message
//! goes — a new conversation, or the active one — and builds the rows to store. The
//! store writes them ([`Store::write_opening`](leadline_store::Store::write_opening) for
//! one, [`Store::write_campaign_batch`](leadline_store::Store::write_campaign_batch) for
//! a campaign's batch) and settles a race with a conversation opened meanwhile.

use chrono::{DateTime, Utc};
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::{ChannelId, ContactId, ConversationId, UserId, WorkspaceId};
use leadline_store::conversations::{
    AgentMemory, Conversation, NewOutbound, Participant, Participants, PlannedConversation,
    PlannedOpening, outbound_message,
};

/// The conversation to open when the contact has no active one on the channel.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub workspace_id: WorkspaceId,
    pub contact_id: ContactId,
    pub channel_id: ChannelId,
    pub name: String,
    pub controller: Controller,
    pub assigned_user_id: Option<UserId>,
    pub agent_context: Option<String>,
    pub additional_messages: Vec<String>,
    pub campaign_id: Option<String>,
    pub consent_captured_at: Option<DateTime<Utc>>,
}

/// What to do when the contact already has an active conversation on the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenActive {
    /// Send the message in it (a campaign's retry, an advisor's reply).
    SendInIt,
    /// Refuse: the caller asked to open a new conversation (LeadScout).
    Refuse,
}

/// Why no conversation was opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    #[error("the contact already has an active conversation ({conversation_id}) on this channel")]
    AlreadyActive { conversation_id: ConversationId },
}

/// Where `outbound` goes, and the rows to store: a new conversation from `open`, or the
/// contact's `active` one.
pub fn open_outbound_conversation(
    open: NewConversation,
    active: Option<&Conversation>,
    when_active: WhenActive,
    outbound: NewOutbound,
    now: DateTime<Utc>,
) -> Result<PlannedOpening, OutboundError> {
    if let Some(active) = active {
        return match when_active {
            WhenActive::SendInIt => Ok(send_in(active, outbound, now)),
            WhenActive::Refuse => Err(OutboundError::AlreadyActive {
                conversation_id: active.id,
            }),
        };
    }
    let conversation = new_conversation(open, &outbound, now);
    let (message, run_at) = outbound_message(&conversation, outbound, now);
    Ok(PlannedOpening {
        conversation: PlannedConversation::Open(conversation),
        message,
        run_at,
    })
}

/// The message `outbound` queued in the existing `conversation`.
pub fn send_in(
    conversation: &Conversation,
    outbound: NewOutbound,
    now: DateTime<Utc>,
) -> PlannedOpening {
    let (message, run_at) = outbound_message(conversation, outbound, now);
    PlannedOpening {
        conversation: PlannedConversation::Existing(conversation.clone()),
        message,
        run_at,
    }
}

/// A new active conversation with the contact (and its advisor, when it has one) as
/// participants, sticking to the pool number its first message goes out from.
fn new_conversation(
    open: NewConversation,
    first: &NewOutbound,
    now: DateTime<Utc>,
) -> Conversation {
    let mut participants = Participants {
        externals: vec![Participant::contact(open.contact_id, now)],
        internals: Vec::new(),
    };
    if let Some(user) = open.assigned_user_id {
        participants.internals.push(Participant::user(user, now));
    }
    Conversation {
        id: ConversationId::new(),
        workspace_id: open.workspace_id,
        contact_id: open.contact_id,
        channel_id: open.channel_id,
        status: ConversationStatus::Active,
        controller: open.controller,
        name: open.name,
        assigned_user_id: open.assigned_user_id,
        participants,
        agent_context: open.agent_context,
        additional_messages: open.additional_messages,
        campaign_id: open.campaign_id,
        consent_captured_at: open.consent_captured_at,
        created_at: now,
        updated_at: now,
        sticky_number_id: first.sender.as_ref().map(|s| s.phone_number_id),
        override_number_id: None,
        agent: AgentMemory::default(),
    }
}

#[cfg(test)]
mod tests {
    use leadline_core::message::MessageType;

    use super::*;

    fn open() -> NewConversation {
        NewConversation {
            workspace_id: WorkspaceId::new(),
            contact_id: ContactId::new(),
            channel_id: ChannelId::new(),
            name: "Spring".into(),
            controller: Controller::Ai,
            assigned_user_id: Some(UserId::new()),
            agent_context: None,
            additional_messages: Vec::new(),
            campaign_id: None,
            consent_captured_at: None,
        }
    }

    fn hello() -> NewOutbound {
        NewOutbound {
            message_type: MessageType::Sms,
            body: "Hello".into(),
            template: None,
            author_user_id: None,
            sender: None,
        }
    }

    #[test]
    fn without_an_active_conversation_a_new_one_is_opened_with_the_message() {
        let now = Utc::now();
        let plan = open_outbound_conversation(open(), None, WhenActive::Refuse, hello(), now)
            .expect("opened");
        let PlannedConversation::Open(conversation) = &plan.conversation else {
            panic!("a new conversation");
        };
        assert_eq!(plan.message.conversation_id, conversation.id);
        assert_eq!(plan.message.body.as_deref(), Some("Hello"));
        assert_eq!(plan.run_at, now);
        assert_eq!(
            conversation.participants.internals.len(),
            1,
            "the advisor joins"
        );
    }

    #[test]
    fn an_active_conversation_takes_the_message_or_refuses_it() {
        let now = Utc::now();
        let first = open_outbound_conversation(open(), None, WhenActive::Refuse, hello(), now)
            .expect("opened");
        let PlannedConversation::Open(active) = first.conversation else {
            panic!("a new conversation");
        };
        let joined =
            open_outbound_conversation(open(), Some(&active), WhenActive::SendInIt, hello(), now)
                .expect("sent in it");
        assert_eq!(joined.message.conversation_id, active.id);
        assert!(matches!(
            joined.conversation,
            PlannedConversation::Existing(_)
        ));
        assert_eq!(
            open_outbound_conversation(open(), Some(&active), WhenActive::Refuse, hello(), now)
                .unwrap_err(),
            OutboundError::AlreadyActive {
                conversation_id: active.id
            }
        );
    }
}
