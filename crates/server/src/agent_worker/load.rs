//! Loading a conversation whole before its pass: the conversation, its channel and
//! contact, its latest messages, the workspace's agent settings and custom attributes,
//! the contact's opt-out and, on WhatsApp, the template that may reopen the window.
//! The pass rules then read the [`LoadedConversation`] and nothing else.

use leadline_agent::{
    ConversationState, LoadedConversation, LoadedMessage, PriorOptOut, ReopenCandidate,
    TRANSCRIPT_LINES,
};
use leadline_core::channel::MessageProviderType;
use leadline_store::agent::AgentTask;
use leadline_store::channels::Channel;
use leadline_store::contacts::ContactRecord;
use leadline_store::conversations::Conversation;
use leadline_store::{Store, StoreError};

/// A conversation as the pass read it: the store's records (the sender assignment,
/// the hand-off and the outcome's write need them) and the rules' view of them.
pub(super) struct Loaded {
    pub conversation: Conversation,
    pub channel: Channel,
    pub contact: ContactRecord,
    pub view: LoadedConversation,
}

/// Loads the task's conversation; `None` when it, its channel or its contact is gone.
pub(super) async fn load(store: &Store, task: &AgentTask) -> Result<Option<Loaded>, StoreError> {
    let workspace = task.workspace_id;
    let Some(conversation) = store.conversation(workspace, task.conversation_id).await? else {
        return Ok(None);
    };
    let (channel, contact, messages, settings, definitions) = tokio::try_join!(
        store.channel(workspace, conversation.channel_id),
        store.contact(workspace, conversation.contact_id),
        store.recent_messages(conversation.id, TRANSCRIPT_LINES),
        store.agent_settings(workspace),
        store.custom_attributes(workspace),
    )?;
    let (Some(channel), Some(contact)) = (channel, contact) else {
        return Ok(None);
    };
    let reopen_name = settings
        .whatsapp_reopen_template
        .as_deref()
        .filter(|_| channel.carries == MessageProviderType::Whatsapp);
    let (opt_out, reopen_templates) =
        tokio::try_join!(store.opt_out(contact.id, channel.carries), async {
            match reopen_name {
                Some(name) => store.templates_named(workspace, name).await,
                None => Ok(Vec::new()),
            }
        },)?;
    let memory = &conversation.agent;
    let view = LoadedConversation {
        conversation: ConversationState {
            id: conversation.id,
            status: conversation.status,
            controller: conversation.controller,
            agent_context: conversation.agent_context.clone(),
            additional_messages: conversation.additional_messages.clone(),
            additional_sent: memory.additional_sent,
            flow_state: memory.flow_state.clone(),
            turns: memory.turns,
            replied_at: memory.replied_at,
            handled_through: memory.handled_through,
            read_through: memory.read_through,
            last_inbound_at: memory.last_inbound_at,
        },
        messages: messages
            .into_iter()
            .map(|m| LoadedMessage {
                id: m.id,
                direction: m.direction,
                by_advisor: m.author_user_id.is_some(),
                body: m.body,
                created_at: m.created_at,
            })
            .collect(),
        cellphone: contact.cellphone.clone(),
        contact: contact.fields.clone(),
        channel_type: channel.carries,
        settings,
        opt_out: opt_out.map(|o| PriorOptOut {
            message_id: o.message_id,
            opted_out_at: o.opted_out_at,
        }),
        definitions,
        reopen_templates: reopen_templates
            .into_iter()
            .map(|t| ReopenCandidate {
                name: t.name,
                language: t.language,
                body: t.body,
                channel_type: t.channel_type,
                status: t.status,
            })
            .collect(),
    };
    Ok(Some(Loaded {
        conversation,
        channel,
        contact,
        view,
    }))
}
