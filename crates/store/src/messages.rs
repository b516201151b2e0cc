//! Messages and calls: the stored record, reads, and the changes that come from outside
//! (provider status reports, inbound replies, externally logged calls). Outbound
//! messages are created together with their send job (see `conversations` and
//! `outbox`), never alone.

use chrono::{DateTime, Utc};
use leadline_core::message::{CallStatus, Direction, MessageStatus, MessageType};
use leadline_core::{
    ChannelId, ContactId, ConversationId, E164, MessageId, PhoneNumberId, UserId, WorkspaceId,
};
use serde::{Deserialize, Serialize};

use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional};

mod reports;

use crate::{Store, StoreError};
pub use reports::InboundFiled;

/// The template a message was rendered from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageTemplate {
    pub name: String,
    pub language: String,
    pub params: Vec<String>,
}

/// The call side of a CALL message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDetails {
    pub to: Option<String>,
    pub from: Option<String>,
    pub status: Option<CallStatus>,
    pub duration_seconds: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub workspace_id: WorkspaceId,
    pub conversation_id: ConversationId,
    pub contact_id: ContactId,
    pub channel_id: ChannelId,
    pub direction: Direction,
    pub message_type: MessageType,
    pub status: MessageStatus,
    /// The text sent or received (for templates: the rendered text; for calls: what
    /// the call says, or the caller's note).
    pub body: Option<String>,
    pub template: Option<MessageTemplate>,
    /// The advisor who wrote it, for human messages.
    pub author_user_id: Option<UserId>,
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub call: Option<CallDetails>,
    pub attachments: Vec<String>,
    /// The caller's own id of an externally logged message (unique per conversation).
    pub alt_id: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The pool number an outbound message goes out from; `None` when it goes out from
    /// its channel's configured sender (and for inbound messages).
    pub from_number_id: Option<PhoneNumberId>,
    /// That number, kept with the message: it stays right if the number is deleted.
    pub from_number: Option<E164>,
}

/// How a report names its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKey {
    Id(MessageId),
    ProviderId(String),
}

macro_rules! message_columns {
    () => {
        "id, workspace_id, conversation_id, contact_id, channel_id, direction, message_type, status, \
         body, template_name, template_language, template_params, author_user_id, provider_message_id, \
         error_code, error_message, call_to, call_from, call_status, call_duration, attachments, alt_id, \
         sent_at, delivered_at, created_at, updated_at, from_number_id, from_number"
    };
}
pub(crate) use message_columns;

impl FromStoreRow for Message {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let message_type = row.parsed("message_type", MessageType::parse)?;
        let template = match row.optional_text("template_name")? {
            Some(name) => Some(MessageTemplate {
                name,
                language: row.optional_text("template_language")?.unwrap_or_default(),
                params: match row.optional_text("template_params")? {
                    Some(params) => serde_json::from_str(&params).map_err(|e| {
                        StoreError::Corrupt(format!("messages.template_params: {e}"))
                    })?,
                    None => Vec::new(),
                },
            }),
            None => None,
        };
        let call = (message_type == MessageType::Call)
            .then(|| -> Result<CallDetails, StoreError> {
                Ok(CallDetails {
                    to: row.optional_text("call_to")?,
                    from: row.optional_text("call_from")?,
                    status: row.optional_parsed("call_status", CallStatus::parse)?,
                    duration_seconds: row.optional_int("call_duration")?,
                })
            })
            .transpose()?;
        let attachments = match row.optional_text("attachments")? {
            Some(list) => serde_json::from_str(&list)
                .map_err(|e| StoreError::Corrupt(format!("messages.attachments: {e}")))?,
            None => Vec::new(),
        };
        Ok(Message {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            conversation_id: row.id("conversation_id")?,
            contact_id: row.id("contact_id")?,
            channel_id: row.id("channel_id")?,
            direction: row.parsed("direction", Direction::parse)?,
            message_type,
            status: row.parsed("status", MessageStatus::parse)?,
            body: row.optional_text("body")?,
            template,
            author_user_id: row.optional_id("author_user_id")?,
            provider_message_id: row.optional_text("provider_message_id")?,
            error_code: row.optional_text("error_code")?,
            error_message: row.optional_text("error_message")?,
            call,
            attachments,
            alt_id: row.optional_text("alt_id")?,
            sent_at: row.optional_time("sent_at")?,
            delivered_at: row.optional_time("delivered_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            from_number_id: row.optional_id("from_number_id")?,
            from_number: row.optional_text("from_number")?.map(E164::from_trusted),
        })
    }
}

/// The statement that inserts one message; bind it with [`bind_message!`].
pub(crate) const INSERT_MESSAGE: &str = concat!(
    "INSERT INTO messages (",
    message_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
);

/// Binds every column of a [`Message`] to [`INSERT_MESSAGE`]. A macro rather than a
/// function so one text serves both databases' query types. `@with push_bind` binds
/// the same columns into one row of a multi-row `VALUES` list (a `QueryBuilder`).
macro_rules! bind_message {
    ($query:expr, $message:expr) => {
        $crate::messages::bind_message!(@with bind, $query, $message)
    };
    (@with $bind:ident, $query:expr, $message:expr) => {{
        let message: &$crate::messages::Message = $message;
        let call = message.call.as_ref();
        $query
            .$bind(message.id.to_string())
            .$bind(message.workspace_id.to_string())
            .$bind(message.conversation_id.to_string())
            .$bind(message.contact_id.to_string())
            .$bind(message.channel_id.to_string())
            .$bind(message.direction.as_str())
            .$bind(message.message_type.as_str())
            .$bind(message.status.as_str())
            .$bind(message.body.clone())
            .$bind(message.template.as_ref().map(|t| t.name.clone()))
            .$bind(message.template.as_ref().map(|t| t.language.clone()))
            .$bind(
                message
                    .template
                    .as_ref()
                    .map(|t| serde_json::to_string(&t.params).expect("strings serialize")),
            )
            .$bind(message.author_user_id.map(|u| u.to_string()))
            .$bind(message.provider_message_id.clone())
            .$bind(message.error_code.clone())
            .$bind(message.error_message.clone())
            .$bind(call.and_then(|c| c.to.clone()))
            .$bind(call.and_then(|c| c.from.clone()))
            .$bind(call.and_then(|c| c.status).map(|s| s.as_str()))
            .$bind(call.and_then(|c| c.duration_seconds))
            .$bind(
                (!message.attachments.is_empty()).then(|| {
                    serde_json::to_string(&message.attachments).expect("strings serialize")
                }),
            )
            .$bind(message.alt_id.clone())
            .$bind(message.sent_at.map($crate::rows::to_micros))
            .$bind(message.delivered_at.map($crate::rows::to_micros))
            .$bind($crate::rows::to_micros(message.created_at))
            .$bind($crate::rows::to_micros(message.updated_at))
            .$bind(message.from_number_id.map(|n| n.to_string()))
            .$bind(message.from_number.as_ref().map(|n| n.as_str().to_owned()))
    }};
}
pub(crate) use bind_message;

impl Store {
    /// How many outbound messages there are in each status: what an operator (or a
    /// test) checks after a send run. A scan of the messages table.
    pub async fn outbound_status_counts(
        &self,
    ) -> Result<std::collections::BTreeMap<String, i64>, StoreError> {
        crate::backend::on_read!(&self.backend, pool => {
            sqlx::query("SELECT status, COUNT(*) AS n FROM messages WHERE direction = 'outbound' GROUP BY status")
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((row.text("status")?, row.int("n")?)))
                .collect()
        })
    }
}

impl Store {
    pub async fn message(
        &self,
        workspace_id: WorkspaceId,
        message_id: MessageId,
    ) -> Result<Option<Message>, StoreError> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![
            workspace_id.to_string().into(),
            message_id.to_string().into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }

    /// One page of a conversation's messages, oldest first.
    pub async fn list_messages(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        after: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages \
             WHERE workspace_id = $1 AND conversation_id = $2 AND id > $3 ORDER BY id LIMIT $4"
        );
        let args = vec![
            workspace_id.to_string().into(),
            conversation_id.to_string().into(),
            after.map(|a| a.to_string()).unwrap_or_default().into(),
            i64::from(limit).into(),
        ];
        fetch_all(&self.backend, sql, args).await
    }

    /// The last `limit` messages of a conversation, oldest first.
    pub async fn recent_messages(
        &self,
        conversation_id: ConversationId,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError> {
        let sql = concat!(
            "SELECT ",
            message_columns!(),
            " FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2"
        );
        let args = vec![conversation_id.to_string().into(), i64::from(limit).into()];
        let mut messages: Vec<Message> = fetch_all(&self.backend, sql, args).await?;
        messages.reverse();
        Ok(messages)
    }

    /// A message of a channel by our id or the provider's.
    pub async fn message_of_channel(
        &self,
        channel_id: ChannelId,
        key: &MessageKey,
    ) -> Result<Option<Message>, StoreError> {
        let (sql, value) = match key {
            MessageKey::Id(id) => (
                concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages WHERE channel_id = $1 AND id = $2"
                ),
                id.to_string(),
            ),
            MessageKey::ProviderId(id) => (
                concat!(
                    "SELECT ",
                    message_columns!(),
                    " FROM messages WHERE channel_id = $1 AND provider_message_id = $2"
                ),
                id.clone(),
            ),
        };
        fetch_optional(
            &self.backend,
            sql,
            vec![channel_id.to_string().into(), value.into()],
        )
        .await
    }
}
