//! The changes to messages that come from outside: a provider's delivery and call
//! reports, and a lead's inbound message. Each is written in one transaction with the
//! event it causes, and only when it changes something, so a repeated report tells
//! nothing twice.

use leadline_core::ChannelId;
use leadline_core::event::EventType;
use leadline_core::message::{CallStatus, MessageStatus};

use super::{INSERT_MESSAGE, Message, MessageKey, bind_message, message_columns};
use crate::events::{record_events, resources};
use crate::number_usage::{NumberEvent, NumberEventKind, add_outcomes, status_event, tally};
use crate::rows::FromStoreRow;
use crate::{Store, StoreError};

/// How filing an inbound message went.
#[derive(Debug, Clone)]
pub enum InboundFiled {
    /// Written now, with its conversation's last inbound time and the agent's task.
    Filed,
    /// Its provider reported it before (a moment ago, perhaps to another node): this is
    /// the message stored then; nothing was written.
    Duplicate(Box<Message>),
}

impl Store {
    /// Applies a provider's delivery report. Reports that would move the message back
    /// (a late `sent` after `delivered`) or repeat its state change nothing; the
    /// message is returned either way, `None` when no message matches.
    pub async fn apply_message_status(
        &self,
        channel_id: ChannelId,
        key: &MessageKey,
        reported: MessageStatus,
        error_code: Option<&str>,
    ) -> Result<Option<Message>, StoreError> {
        // Two reports of one message may race; the status guard in the UPDATE makes the
        // loser re-read and decide again.
        for _ in 0..3 {
            let Some(message) = self.message_of_channel(channel_id, key).await? else {
                return Ok(None);
            };
            let Some(next) = message.status.advance(reported) else {
                return Ok(Some(message));
            };
            let now = self.clock.now();
            let delivered_at = matches!(next, MessageStatus::Delivered | MessageStatus::Read)
                .then_some(now)
                .or(message.delivered_at);
            // Counted for the message's number in the same transaction as the change,
            // and only when this report is the one that made it: a repeat counts nothing.
            let event = status_event(
                message.from_number_id,
                message.status,
                next,
                error_code,
                now,
            );
            let outcomes = tally(event.as_slice());
            let changed = crate::backend::on_write!(&self.backend, pool => {
                let mut tx = pool.begin().await?;
                let row = sqlx::query(concat!(
                    "UPDATE messages SET status = $1, delivered_at = $2, error_code = $3, updated_at = $4 \
                     WHERE id = $5 AND status = $6 RETURNING ", message_columns!()
                ))
                .bind(next.as_str())
                .bind(delivered_at.map(crate::rows::to_micros))
                .bind(if next == MessageStatus::Failed { error_code } else { message.error_code.as_deref() })
                .bind(crate::rows::to_micros(now))
                .bind(message.id.to_string())
                .bind(message.status.as_str())
                .fetch_optional(&mut *tx)
                .await?;
                let changed = row.as_ref().map(Message::from_row).transpose()?;
                if let Some(changed) = &changed {
                    add_outcomes!(&mut *tx, &outcomes);
                    let events: Vec<_> = resources::message_status(message.status, changed, now).into_iter().collect();
                    record_events!(tx, &events, now);
                }
                tx.commit().await?;
                changed
            });
            if let Some(changed) = changed {
                return Ok(Some(changed));
            }
        }
        Err(StoreError::WriteFailed(
            "the message kept changing under concurrent reports".into(),
        ))
    }

    /// Applies a provider's call progress report.
    pub async fn apply_call_status(
        &self,
        channel_id: ChannelId,
        key: &MessageKey,
        status: CallStatus,
        duration_seconds: Option<i64>,
    ) -> Result<Option<Message>, StoreError> {
        let Some(message) = self.message_of_channel(channel_id, key).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        // A report that changes neither the status nor the duration writes nothing, so
        // a repeated report tells of the call's end once.
        let changed = crate::backend::on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(concat!(
                "UPDATE messages SET call_status = $1, call_duration = COALESCE($2, call_duration), updated_at = $3 \
                 WHERE id = $4 AND (COALESCE(call_status, '') <> $1 \
                 OR COALESCE(call_duration, -1) <> COALESCE($2, call_duration, -1)) RETURNING ",
                message_columns!()
            ))
            .bind(status.as_str())
            .bind(duration_seconds)
            .bind(crate::rows::to_micros(now))
            .bind(message.id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let changed = row.as_ref().map(Message::from_row).transpose()?;
            if let Some(changed) = &changed
                && resources::call_ended(status)
            {
                let events = [resources::message(EventType::CallCompleted, changed, now)];
                record_events!(tx, &events, now);
            }
            tx.commit().await?;
            changed
        });
        match changed {
            Some(changed) => Ok(Some(changed)),
            None => self.message(message.workspace_id, message.id).await,
        }
    }

    /// Writes `message`, which a lead wrote in `conversation`, in one transaction with
    /// the conversation's last inbound time, the reply counted for the number the
    /// conversation sticks to, and the agent's task. A provider id already stored on
    /// the message's channel is refused by its unique index, so reports of one message
    /// racing each other (a webhook retried to another node) write it once; the others
    /// get [`InboundFiled::Duplicate`] with the stored message.
    pub async fn file_inbound(
        &self,
        conversation: &crate::conversations::Conversation,
        message: &Message,
    ) -> Result<InboundFiled, StoreError> {
        let now = message.created_at;
        // A reply counts for the number the conversation sticks to, with the message, so
        // a repeat the provider sends (refused by the unique provider id) counts nothing.
        let reply = conversation.sticky_number_id.map(|number| NumberEvent {
            phone_number_id: number,
            at: now,
            kind: NumberEventKind::Reply,
        });
        let outcomes = tally(reply.as_slice());
        let inserted = crate::backend::on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            match bind_message!(sqlx::query(INSERT_MESSAGE), message).execute(&mut *tx).await {
                Ok(_) => {
                    add_outcomes!(&mut *tx, &outcomes);
                    sqlx::query("UPDATE conversations SET last_inbound_at = $1, last_activity_at = $1 WHERE id = $2")
                        .bind(crate::rows::to_micros(now))
                        .bind(conversation.id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    // The agent (and the opt-out handling) reads it: its task is written
                    // with it, so no crash can leave it unread.
                    crate::agent::enqueue_agent_task!(&mut *tx, conversation, now);
                    let received = [resources::message(EventType::MessageReceived, message, now)];
                    record_events!(tx, &received, now);
                    tx.commit().await?;
                    Ok(())
                }
                Err(error) => Err(error),
            }
        });
        match inserted.map_err(StoreError::from) {
            Ok(()) => Ok(InboundFiled::Filed),
            // PostgreSQL names the index, SQLite the columns.
            Err(error)
                if error.is_duplicate_of("messages_by_provider_id")
                    || error.is_duplicate_of("provider_message_id") =>
            {
                let provider_id = message.provider_message_id.clone().unwrap_or_default();
                let stored = self
                    .message_of_channel(message.channel_id, &MessageKey::ProviderId(provider_id))
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("duplicate inbound vanished".into()))?;
                Ok(InboundFiled::Duplicate(Box::new(stored)))
            }
            Err(error) => Err(error),
        }
    }
}
