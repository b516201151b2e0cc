//! An advisor's reply in a conversation, from the API (`POST
//! /api/v1/conversations/{id}/messages`) or the console's reply form: free text, or an
//! approved template when WhatsApp's 24-hour window is closed. The advisor takes the
//! conversation over from the agent (controller HUMAN) and the message goes out through
//! the outbox like any other send; the caller wakes the dispatcher.
//!
//! Refused: a conversation opted out or closed, a voice channel, a contact who opted
//! out of the channel's type, free text on WhatsApp outside the window (the provider
//! would refuse it), and a moment when no pool number can send.

use leadline_core::agent::whatsapp_window_open;
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::ConversationStatus;
use leadline_core::message::MessageType;
use leadline_core::template::TemplateStatus;
use leadline_core::{FieldError, UserId};
use leadline_store::conversations::{Conversation, NewOutbound};
use leadline_store::messages::{Message, MessageTemplate};
use leadline_store::templates::Template;
use leadline_store::{Store, StoreError};

use crate::numbers::{SenderAssigner, SenderRequest, SenderUnavailable};
use crate::usecases::outbound::send_in;

/// What the advisor sends.
#[derive(Debug, Clone)]
pub enum ReplyContent {
    /// Free text (already checked: not blank, not too long).
    Text(String),
    /// An approved template of the channel's type, with its parameters in order.
    Template {
        template: Box<Template>,
        params: Vec<String>,
    },
}

/// Why a reply is not sent.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error("the conversation is {0}; nothing more can be sent in it")]
    NotOpen(ConversationStatus),
    #[error("this conversation is on a VOICE channel: text messages cannot be sent on it")]
    VoiceChannel,
    #[error("the conversation's {0} no longer exists")]
    Gone(&'static str),
    #[error(
        "the contact opted out of {channel_type} on {at}; nothing can be sent to it on this channel type"
    )]
    OptedOut {
        channel_type: MessageProviderType,
        at: String,
    },
    #[error(
        "the lead has not written in the last 24 hours, so WhatsApp only lets a template be sent"
    )]
    WindowClosed,
    /// The template does not fit the channel or its parameters.
    #[error("{}", .0.message)]
    Template(FieldError),
    #[error(transparent)]
    NoSender(#[from] SenderUnavailable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Queues `author`'s reply in `conversation` (see the module doc) and returns the
/// queued message.
pub async fn advisor_reply(
    store: &Store,
    senders: &SenderAssigner,
    conversation: &Conversation,
    author: UserId,
    content: ReplyContent,
) -> Result<Message, ReplyError> {
    if matches!(
        conversation.status,
        ConversationStatus::OptedOut | ConversationStatus::Closed
    ) {
        return Err(ReplyError::NotOpen(conversation.status));
    }
    let workspace = conversation.workspace_id;
    let channel = store
        .channel(workspace, conversation.channel_id)
        .await?
        .ok_or(ReplyError::Gone("channel"))?;
    let message_type = match channel.carries {
        MessageProviderType::Sms => MessageType::Sms,
        MessageProviderType::Whatsapp => MessageType::Whatsapp,
        MessageProviderType::Voice => return Err(ReplyError::VoiceChannel),
    };
    let contact = store
        .contact(workspace, conversation.contact_id)
        .await?
        .ok_or(ReplyError::Gone("contact"))?;
    if let Some(opt_out) = store.opt_out(contact.id, channel.carries).await? {
        return Err(ReplyError::OptedOut {
            channel_type: channel.carries,
            at: crate::extract::timestamp(opt_out.opted_out_at),
        });
    }
    let now = store.clock().now();
    let (body, template) = match content {
        ReplyContent::Text(text) => {
            if channel.carries == MessageProviderType::Whatsapp
                && !whatsapp_window_open(conversation.agent.last_inbound_at, now)
            {
                return Err(ReplyError::WindowClosed);
            }
            (text, None)
        }
        ReplyContent::Template { template, params } => {
            if template.status != TemplateStatus::Approved {
                return Err(ReplyError::Template(FieldError::new(
                    "template",
                    format!(
                        "'{}' is {}; only approved templates can be sent",
                        template.name, template.status
                    ),
                )));
            }
            if template.channel_type != channel.carries {
                return Err(ReplyError::Template(FieldError::new(
                    "template",
                    format!(
                        "is a {} template; this conversation is on {}",
                        template.channel_type, channel.carries
                    ),
                )));
            }
            let body = template
                .body
                .render(&params)
                .map_err(ReplyError::Template)?;
            let sent = MessageTemplate {
                name: template.name.clone(),
                language: template.language.clone(),
                params,
            };
            (body, Some(sent))
        }
    };
    let sender = senders
        .assign_for_request(&SenderRequest {
            workspace_id: workspace,
            channel: &channel,
            conversation: Some(conversation),
            contact_id: contact.id,
            recipient: &contact.cellphone,
            campaign_id: conversation
                .campaign_id
                .as_deref()
                .and_then(|id| id.parse().ok()),
        })
        .await?;
    let outbound = NewOutbound {
        message_type,
        body,
        template,
        author_user_id: Some(author),
        sender,
    };
    let plan = send_in(conversation, outbound, now);
    let message = plan.message.clone();
    store.write_opening(plan).await?;
    tracing::info!(conversation = %conversation.id, message_id = %message.id, advisor = %author, "advisor message queued");
    Ok(message)
}
