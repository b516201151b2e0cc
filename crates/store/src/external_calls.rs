//! Calls made outside leadline and logged through the API (LeadConnector's call log):
//! stored as messages of their conversation, once per caller's `altId`.

use chrono::{DateTime, Utc};
use leadline_core::ConversationId;
use leadline_core::MessageId;
use leadline_core::event::EventType;
use leadline_core::message::{Direction, MessageStatus, MessageType};

use crate::backend::on_write;
use crate::conversations::{Conversation, record_activity};
use crate::events::{record_events, resources};
use crate::messages::{CallDetails, INSERT_MESSAGE, Message, bind_message};
use crate::rows::fetch_optional;
use crate::{Store, StoreError};

impl Store {
    /// Records a call made outside leadline, with the caller's `note` as its text. A
    /// repeat with the same `alt_id` in the conversation returns the first record (and
    /// `false`) instead of a duplicate.
    pub async fn record_external_call(
        &self,
        conversation: &Conversation,
        call: CallDetails,
        note: Option<String>,
        alt_id: Option<String>,
        date: Option<DateTime<Utc>>,
        attachments: Vec<String>,
    ) -> Result<(Message, bool), StoreError> {
        if let Some(alt) = &alt_id
            && let Some(existing) = self.message_by_alt_id(conversation.id, alt).await?
        {
            return Ok((existing, false));
        }
        let now = self.clock.now();
        let at = date.unwrap_or(now);
        let message = Message {
            id: MessageId::new(),
            workspace_id: conversation.workspace_id,
            conversation_id: conversation.id,
            contact_id: conversation.contact_id,
            channel_id: conversation.channel_id,
            direction: Direction::Outbound,
            message_type: MessageType::Call,
            status: MessageStatus::Sent,
            body: note,
            template: None,
            author_user_id: None,
            provider_message_id: None,
            error_code: None,
            error_message: None,
            call: Some(call),
            attachments,
            alt_id: alt_id.clone(),
            sent_at: Some(at),
            delivered_at: None,
            created_at: now,
            updated_at: now,
            from_number_id: None,
            from_number: None,
        };
        let logged = [resources::message(EventType::CallLogged, &message, now)];
        let result: Result<(), StoreError> = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            match bind_message!(sqlx::query(INSERT_MESSAGE), &message).execute(&mut *tx).await {
                Ok(_) => {
                    record_activity!(&mut *tx, [(message.conversation_id, message.created_at)]);
                    record_events!(tx, &logged, now);
                    tx.commit().await?;
                    Ok(())
                }
                Err(error) => Err(error.into()),
            }
        });
        match result {
            Ok(()) => Ok((message, true)),
            Err(error) if error.is_duplicate_of("alt_id") => {
                let alt = alt_id.expect("only alt ids are unique");
                let existing = self
                    .message_by_alt_id(conversation.id, &alt)
                    .await?
                    .ok_or_else(|| {
                        StoreError::Corrupt(format!("message with alt id '{alt}' vanished"))
                    })?;
                Ok((existing, false))
            }
            Err(error) => Err(error),
        }
    }

    async fn message_by_alt_id(
        &self,
        conversation_id: ConversationId,
        alt_id: &str,
    ) -> Result<Option<Message>, StoreError> {
        let sql = concat!(
            "SELECT ",
            crate::messages::message_columns!(),
            " FROM messages WHERE conversation_id = $1 AND alt_id = $2"
        );
        fetch_optional(
            &self.backend,
            sql,
            vec![conversation_id.to_string().into(), alt_id.into()],
        )
        .await
    }
}
