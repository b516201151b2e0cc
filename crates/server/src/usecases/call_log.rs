//! Logging a call made outside leadline on a conversation: from LeadConnector's call
//! log (`POST /conversations/messages/outbound`) or the console's "log a call" form.
//! The call is stored as a CALL message of the conversation (the inbox moves it up)
//! with a `call.logged` event; a repeat with the same caller's id (`alt_id`) returns
//! the first record instead of a duplicate.

use chrono::{DateTime, Utc};
use leadline_store::conversations::Conversation;
use leadline_store::messages::{CallDetails, Message};
use leadline_store::{Store, StoreError};

/// A call to log.
#[derive(Debug, Clone)]
pub struct LoggedCall {
    pub call: CallDetails,
    /// What the caller noted about it.
    pub note: Option<String>,
    /// The caller's own id of the call (unique per conversation).
    pub alt_id: Option<String>,
    /// When it was made; `None` for now.
    pub date: Option<DateTime<Utc>>,
    pub attachments: Vec<String>,
}

/// Logs `logged` in `conversation`: the stored message, and whether it is new.
pub async fn log_call(
    store: &Store,
    conversation: &Conversation,
    logged: LoggedCall,
) -> Result<(Message, bool), StoreError> {
    let (message, created) = store
        .record_external_call(
            conversation,
            logged.call,
            logged.note,
            logged.alt_id,
            logged.date,
            logged.attachments,
        )
        .await?;
    tracing::info!(conversation = %conversation.id, message_id = %message.id, created, "external call logged");
    Ok((message, created))
}
