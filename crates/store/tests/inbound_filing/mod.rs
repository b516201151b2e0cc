//! Files a lead's reply with the store's own reads and write, as the server's inbound
//! use case does for a contact that already has a conversation on the channel: the
//! suites that use it open that conversation first.
#![allow(dead_code)]

use leadline_core::channel::MessageProviderType;
use leadline_core::message::{Direction, MessageStatus, MessageType};
use leadline_core::{E164, MessageId};
use leadline_store::channels::Channel;
use leadline_store::messages::{InboundFiled, Message};
use leadline_store::{Store, StoreError};

/// What filing a reply did.
pub struct Filed {
    /// The provider reported it before; nothing was written.
    pub duplicate: bool,
    pub message: Message,
}

/// Files `text` from `from` on `channel`, in the contact's latest conversation there.
pub async fn file_reply(
    store: &Store,
    channel: &Channel,
    from: &E164,
    text: &str,
    provider_message_id: Option<&str>,
) -> Result<Filed, StoreError> {
    let contact = store
        .contact_by_cellphone(channel.workspace_id, from)
        .await?
        .expect("the suite created the contact");
    let conversation = store
        .latest_conversation(channel.workspace_id, contact.id, channel.id)
        .await?
        .expect("the suite opened the conversation");
    let now = store.clock().now();
    let message = Message {
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
        body: Some(text.to_owned()),
        template: None,
        author_user_id: None,
        provider_message_id: provider_message_id.map(str::to_owned),
        error_code: None,
        error_message: None,
        call: None,
        attachments: Vec::new(),
        alt_id: None,
        sent_at: None,
        delivered_at: Some(now),
        created_at: now,
        updated_at: now,
        from_number_id: None,
        from_number: None,
    };
    Ok(match store.file_inbound(&conversation, &message).await? {
        InboundFiled::Filed => Filed {
            duplicate: false,
            message,
        },
        InboundFiled::Duplicate(stored) => Filed {
            duplicate: true,
            message: *stored,
        },
    })
}
