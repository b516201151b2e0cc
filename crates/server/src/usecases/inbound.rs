//! Receiving a message a lead wrote: what happens when a lead replies, whichever
//! provider's webhook (or the sandbox) brings it. Read [`receive_inbound`] top to
//! bottom:
//!
//! 1. the sender is the workspace's contact with that cellphone, created (cellphone
//!    only) when there is none;
//! 2. a message its provider reported before is not filed again: the first filing is
//!    the answer;
//! 3. the message goes into the contact's active or latest conversation on the
//!    channel, or into a new one under a human's control (no agent starts talking to a
//!    lead who wrote first);
//! 4. it is written with the agent's task in one transaction (see
//!    `Store::file_inbound`), where the unique provider id settles reports that race.
//!
//! The decisions are the pure functions below, on data already loaded; the store only
//! reads and writes.

use chrono::{DateTime, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::Controller;
use leadline_core::message::{Direction, MessageStatus, MessageType};
use leadline_core::{E164, MessageId};
use leadline_store::channels::Channel;
use leadline_store::contacts::{ContactRecord, ContactUpsert};
use leadline_store::conversations::{Conversation, NewConversation, OpenConversation, OpenOutcome};
use leadline_store::messages::{InboundFiled, Message, MessageKey};
use leadline_store::{Store, StoreError};

/// A message a lead wrote, as its provider reported it.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub from: E164,
    pub text: String,
    /// The provider's id of the message: reports carrying one are filed once.
    pub provider_message_id: Option<String>,
    /// When the provider received it, if it says; else when it reached us.
    pub received_at: Option<DateTime<Utc>>,
}

/// Where an inbound message was filed.
#[derive(Debug, Clone)]
pub struct InboundReceived {
    pub message: Message,
    pub conversation: Conversation,
    /// The provider reported this message before; nothing new was written (and the
    /// agent need not be woken).
    pub duplicate: bool,
}

/// Why an inbound message could not be filed.
#[derive(Debug, thiserror::Error)]
pub enum InboundError {
    #[error("reading or writing the message failed: {0}")]
    Store(#[from] StoreError),
    /// The store refused to create the sender's contact (a bug: a cellphone-only
    /// contact has nothing to refuse).
    #[error("the sender's contact was refused: {0}")]
    ContactRefused(String),
    /// A stored message points at a conversation that is not there.
    #[error("message {0} has no conversation")]
    MissingConversation(MessageId),
}

/// Files `inbound`, which a lead wrote on `channel`.
pub async fn receive_inbound(
    store: &Store,
    channel: &Channel,
    inbound: Inbound,
) -> Result<InboundReceived, InboundError> {
    let workspace_id = channel.workspace_id;
    let contact = match store
        .contact_by_cellphone(workspace_id, &inbound.from)
        .await?
    {
        Some(contact) => contact,
        None => {
            store
                .upsert_contact(ContactUpsert::cellphone_only(
                    workspace_id,
                    inbound.from.clone(),
                ))
                .await?
                .map_err(|errors| InboundError::ContactRefused(format!("{errors:?}")))?
                .contact
        }
    };
    if let Some(earlier) = earlier_filing(store, channel, &inbound).await? {
        return Ok(earlier);
    }
    let conversation = match store
        .latest_conversation(workspace_id, contact.id, channel.id)
        .await?
    {
        Some(conversation) => conversation,
        None => match store
            .open_conversation(conversation_for_first_message(channel, &contact))
            .await?
        {
            OpenOutcome::Opened { conversation, .. }
            | OpenOutcome::AlreadyActive { conversation } => conversation,
        },
    };
    let message = inbound_message(
        channel,
        &contact,
        &conversation,
        inbound,
        store.clock().now(),
    );
    match store.file_inbound(&conversation, &message).await? {
        InboundFiled::Filed => Ok(InboundReceived {
            message,
            conversation,
            duplicate: false,
        }),
        InboundFiled::Duplicate(stored) => Ok(InboundReceived {
            message: *stored,
            conversation,
            duplicate: true,
        }),
    }
}

/// The filing of a message its provider reported before, if there was one.
async fn earlier_filing(
    store: &Store,
    channel: &Channel,
    inbound: &Inbound,
) -> Result<Option<InboundReceived>, InboundError> {
    let Some(provider_id) = &inbound.provider_message_id else {
        return Ok(None);
    };
    let key = MessageKey::ProviderId(provider_id.clone());
    let Some(message) = store.message_of_channel(channel.id, &key).await? else {
        return Ok(None);
    };
    let conversation = store
        .conversation(channel.workspace_id, message.conversation_id)
        .await?
        .ok_or(InboundError::MissingConversation(message.id))?;
    Ok(Some(InboundReceived {
        message,
        conversation,
        duplicate: true,
    }))
}

/// The conversation opened for a lead who wrote first on `channel`: under a human's
/// control, assigned to the contact's owner, with nothing queued to send.
pub fn conversation_for_first_message(
    channel: &Channel,
    contact: &ContactRecord,
) -> OpenConversation {
    OpenConversation {
        conversation: NewConversation {
            workspace_id: channel.workspace_id,
            contact_id: contact.id,
            channel_id: channel.id,
            name: channel.name.clone(),
            controller: Controller::Human,
            assigned_user_id: contact.fields.owner_id,
            agent_context: None,
            additional_messages: Vec::new(),
            campaign_id: None,
            consent_captured_at: None,
        },
        opening: None,
    }
}

/// The message to store for `inbound` in `conversation`: received, of the channel's
/// kind (WhatsApp on WhatsApp channels, else SMS), delivered when the provider says it
/// received it.
pub fn inbound_message(
    channel: &Channel,
    contact: &ContactRecord,
    conversation: &Conversation,
    inbound: Inbound,
    now: DateTime<Utc>,
) -> Message {
    Message {
        id: MessageId::new(),
        workspace_id: channel.workspace_id,
        conversation_id: conversation.id,
        contact_id: contact.id,
        channel_id: channel.id,
        direction: Direction::Inbound,
        message_type: match channel.carries {
            MessageProviderType::Whatsapp => MessageType::Whatsapp,
            _ => MessageType::Sms,
        },
        status: MessageStatus::Received,
        body: Some(inbound.text),
        template: None,
        author_user_id: None,
        provider_message_id: inbound.provider_message_id,
        error_code: None,
        error_message: None,
        call: None,
        attachments: Vec::new(),
        alt_id: None,
        sent_at: None,
        delivered_at: inbound.received_at.or(Some(now)),
        created_at: now,
        updated_at: now,
        from_number_id: None,
        from_number: None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use leadline_core::channel::ProviderKind;
    use leadline_core::contact::{ContactFields, ContactType};
    use leadline_core::conversation::ConversationStatus;
    use leadline_core::{ChannelId, ContactId, ConversationId, UserId, WorkspaceId};

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap()
    }

    fn channel(carries: MessageProviderType) -> Channel {
        Channel {
            id: ChannelId::new(),
            workspace_id: WorkspaceId::new(),
            name: "Sales line".into(),
            carries,
            provider: ProviderKind::Sandbox,
            sender: "+14155550100".into(),
            settings: Default::default(),
            secrets: Default::default(),
            delivery: Default::default(),
            created_at: now(),
            updated_at: now(),
        }
    }

    fn contact(channel: &Channel, owner: Option<UserId>) -> ContactRecord {
        ContactRecord {
            id: ContactId::new(),
            workspace_id: channel.workspace_id,
            cellphone: E164::parse("+14155552671").unwrap(),
            fields: ContactFields {
                owner_id: owner,
                ..ContactFields::default()
            },
            contact_type: ContactType::Partial,
            created_at: now(),
            updated_at: now(),
        }
    }

    fn conversation(channel: &Channel, contact: &ContactRecord) -> Conversation {
        Conversation {
            id: ConversationId::new(),
            workspace_id: channel.workspace_id,
            contact_id: contact.id,
            channel_id: channel.id,
            status: ConversationStatus::Active,
            controller: Controller::Ai,
            name: channel.name.clone(),
            assigned_user_id: None,
            participants: Default::default(),
            agent_context: None,
            additional_messages: Vec::new(),
            campaign_id: None,
            consent_captured_at: None,
            created_at: now(),
            updated_at: now(),
            sticky_number_id: None,
            override_number_id: None,
            agent: Default::default(),
            team_id: None,
        }
    }

    fn reply(received_at: Option<DateTime<Utc>>) -> Inbound {
        Inbound {
            from: E164::parse("+14155552671").unwrap(),
            text: "Who is this?".into(),
            provider_message_id: Some("in-1".into()),
            received_at,
        }
    }

    #[test]
    fn a_lead_who_writes_first_gets_a_human_conversation_with_the_owner() {
        let channel = channel(MessageProviderType::Sms);
        let owner = UserId::new();
        let opened = conversation_for_first_message(&channel, &contact(&channel, Some(owner)));
        assert_eq!(opened.conversation.controller, Controller::Human);
        assert_eq!(opened.conversation.assigned_user_id, Some(owner));
        assert_eq!(opened.conversation.name, "Sales line");
        assert!(
            opened.opening.is_none(),
            "nothing is sent to a lead who wrote first"
        );
    }

    #[test]
    fn the_message_is_received_in_the_channels_kind() {
        for (carries, kind) in [
            (MessageProviderType::Sms, MessageType::Sms),
            (MessageProviderType::Whatsapp, MessageType::Whatsapp),
        ] {
            let channel = channel(carries);
            let contact = contact(&channel, None);
            let conversation = conversation(&channel, &contact);
            let message = inbound_message(&channel, &contact, &conversation, reply(None), now());
            assert_eq!(message.message_type, kind);
            assert_eq!(message.direction, Direction::Inbound);
            assert_eq!(message.status, MessageStatus::Received);
            assert_eq!(message.conversation_id, conversation.id);
            assert_eq!(message.provider_message_id.as_deref(), Some("in-1"));
            assert_eq!(message.delivered_at, Some(now()));
        }
    }

    #[test]
    fn the_providers_reception_time_is_kept() {
        let channel = channel(MessageProviderType::Sms);
        let contact = contact(&channel, None);
        let conversation = conversation(&channel, &contact);
        let earlier = now() - chrono::Duration::minutes(3);
        let message = inbound_message(
            &channel,
            &contact,
            &conversation,
            reply(Some(earlier)),
            now(),
        );
        assert_eq!(message.delivered_at, Some(earlier));
        assert_eq!(message.created_at, now());
    }
}
