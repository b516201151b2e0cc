//! Contacts' opt-outs per channel type, with their evidence (who or what recorded it,
//! the words, the message). The gate refuses an opted-out contact on that channel type.
//! A new opt-out also counts against the pool number that last reached the contact.

use chrono::{DateTime, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::{ContactId, MessageId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct OptOut {
    pub contact_id: ContactId,
    pub channel_type: MessageProviderType,
    /// `api` (recorded by a user) or `message` (the lead's own words).
    pub source: String,
    pub evidence: Option<String>,
    pub message_id: Option<MessageId>,
    pub opted_out_at: DateTime<Utc>,
}

impl FromStoreRow for OptOut {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(OptOut {
            contact_id: row.id("contact_id")?,
            channel_type: row.parsed("channel_type", MessageProviderType::parse)?,
            source: row.text("source")?,
            evidence: row.optional_text("evidence")?,
            message_id: row.optional_id("message_id")?,
            opted_out_at: row.time("opted_out_at")?,
        })
    }
}

/// Records an opt-out inside a transaction (`$tx` is `&mut Transaction`); when it is
/// new, writes its `opt_out.recorded` event and counts it for the pool number that last
/// reached the contact.
macro_rules! insert_opt_out {
    ($tx:expr, $workspace_id:expr, $contact_id:expr, $channel_type:expr, $source:expr, $evidence:expr, $message_id:expr, $now:expr) => {{
        let workspace_id: leadline_core::WorkspaceId = $workspace_id;
        let contact_id: leadline_core::ContactId = $contact_id;
        let channel_type: leadline_core::channel::MessageProviderType = $channel_type;
        let message_id: Option<leadline_core::MessageId> = $message_id;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let added = sqlx::query(
            "INSERT INTO contact_opt_outs (workspace_id, contact_id, channel_type, source, evidence, message_id, opted_out_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (contact_id, channel_type) DO NOTHING",
        )
        .bind(workspace_id.to_string())
        .bind(contact_id.to_string())
        .bind(channel_type.as_str())
        .bind($source)
        .bind($evidence)
        .bind(message_id.map(|m| m.to_string()))
        .bind($crate::rows::to_micros(now))
        .execute(&mut **$tx)
        .await?
        .rows_affected();
        if added == 1 {
            let recorded = $crate::opt_outs::OptOut {
                contact_id,
                channel_type,
                source: $source.to_owned(),
                evidence: $evidence.map(str::to_owned),
                message_id,
                opted_out_at: now,
            };
            let events = [$crate::events::resources::opt_out(
                leadline_core::event::EventType::OptOutRecorded, workspace_id, &recorded, now)];
            let conn = &mut **$tx;
            $crate::events::record_events!(conn, &events, now);
        }
        // WhatsApp sends from the channel's business number, never the pool's.
        if added == 1 && channel_type != leadline_core::channel::MessageProviderType::Whatsapp {
            let number: Option<leadline_core::PhoneNumberId> = sqlx::query(
                "SELECT r.phone_number_id FROM recipient_numbers AS r \
                 JOIN contacts AS c ON c.workspace_id = r.workspace_id AND c.cellphone = r.recipient \
                 WHERE c.id = $1 AND c.workspace_id = $2",
            )
            .bind(contact_id.to_string())
            .bind(workspace_id.to_string())
            .fetch_optional(&mut **$tx)
            .await?
            .map(|row| $crate::rows::StoreRow::id(&row, "phone_number_id"))
            .transpose()?;
            let event = number.map(|number| $crate::number_usage::NumberEvent {
                phone_number_id: number,
                at: now,
                kind: $crate::number_usage::NumberEventKind::OptOut,
            });
            $crate::number_usage::add_outcomes!(&mut **$tx, &$crate::number_usage::tally(event.as_slice()));
        }
    }};
}
pub(crate) use insert_opt_out;

/// Lifts an opt-out inside a transaction (`$tx` is `&mut Transaction`) and, when there
/// was one, writes its `opt_out.revoked` event with the record as it was. Evaluates to
/// whether there was one.
macro_rules! delete_opt_out {
    ($tx:expr, $contact_id:expr, $channel_type:expr, $now:expr) => {{
        let contact_id: leadline_core::ContactId = $contact_id;
        let channel_type: leadline_core::channel::MessageProviderType = $channel_type;
        let now: chrono::DateTime<chrono::Utc> = $now;
        let row = sqlx::query(
            "DELETE FROM contact_opt_outs WHERE contact_id = $1 AND channel_type = $2 \
             RETURNING workspace_id, contact_id, channel_type, source, evidence, message_id, opted_out_at",
        )
        .bind(contact_id.to_string())
        .bind(channel_type.as_str())
        .fetch_optional(&mut **$tx)
        .await?;
        match row {
            Some(row) => {
                let removed = <$crate::opt_outs::OptOut as $crate::rows::FromStoreRow>::from_row(&row)?;
                let workspace_id = $crate::rows::StoreRow::id(&row, "workspace_id")?;
                let events = [$crate::events::resources::opt_out(
                    leadline_core::event::EventType::OptOutRevoked, workspace_id, &removed, now)];
                let conn = &mut **$tx;
                $crate::events::record_events!(conn, &events, now);
                true
            }
            None => false,
        }
    }};
}
pub(crate) use delete_opt_out;

impl Store {
    /// Records an opt-out; a contact already opted out on that channel type keeps its
    /// first record. A new SMS or voice opt-out counts for the pool number that last
    /// reached the contact's cellphone, in the same transaction; a WhatsApp one does
    /// not, since WhatsApp sends from the channel's business number, never the pool's.
    pub async fn add_opt_out(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
        channel_type: MessageProviderType,
        source: &str,
        evidence: Option<&str>,
        message_id: Option<MessageId>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            insert_opt_out!(&mut tx, workspace_id, contact_id, channel_type, source, evidence, message_id, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Lifts an opt-out (the contact consented again); whether there was one.
    pub async fn remove_opt_out(
        &self,
        contact_id: ContactId,
        channel_type: MessageProviderType,
    ) -> Result<bool, StoreError> {
        let now = self.clock.now();
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let removed = delete_opt_out!(&mut tx, contact_id, channel_type, now);
            tx.commit().await?;
            Ok(removed)
        })
    }

    /// The contact's opt-out on a channel type, if any.
    pub async fn opt_out(
        &self,
        contact_id: ContactId,
        channel_type: MessageProviderType,
    ) -> Result<Option<OptOut>, StoreError> {
        let sql = "SELECT contact_id, channel_type, source, evidence, message_id, opted_out_at \
                   FROM contact_opt_outs WHERE contact_id = $1 AND channel_type = $2";
        fetch_optional(
            &self.backend,
            sql,
            vec![contact_id.to_string().into(), channel_type.as_str().into()],
        )
        .await
    }

    /// Every opt-out of the contact.
    pub async fn opt_outs(&self, contact_id: ContactId) -> Result<Vec<OptOut>, StoreError> {
        let sql = "SELECT contact_id, channel_type, source, evidence, message_id, opted_out_at \
                   FROM contact_opt_outs WHERE contact_id = $1 ORDER BY channel_type";
        fetch_all(&self.backend, sql, vec![contact_id.to_string().into()]).await
    }
}
