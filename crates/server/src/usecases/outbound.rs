//! Opening an outbound conversation: what a LeadScout request, a campaign's attempt and
//! an advisor's reply have in common. Given the contact's active conversation on the
//! channel (loaded by the caller) and the message to send, it decides where the message
//! goes — a new conversation, or the active one — and builds the rows to store. The
//! store writes them ([`Store::write_opening`](leadline_store::Store::write_opening) for
//! one, [`Store::write_campaign_batch`](leadline_store::Store::write_campaign_batch) for
//! a campaign's batch) and settles a race with a conversation opened meanwhile.

use chrono::{DateTime, Utc};
use leadline_core::ConversationId;
pub use leadline_store::conversations::NewConversation;
use leadline_store::conversations::{
    Conversation, NewOutbound, PlannedConversation, PlannedOpening, outbound_message,
};

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
    let sticky = outbound.sender.as_ref().map(|s| s.phone_number_id);
    let conversation = Conversation::new_active(open, sticky, now);
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

#[cfg(test)]
mod tests {
    use leadline_core::conversation::Controller;
    use leadline_core::message::MessageType;
    use leadline_core::{ChannelId, ContactId, UserId, WorkspaceId};

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
