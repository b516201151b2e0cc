//! Reads for a whole batch of leads at once: the campaign scheduler asks each of these
//! once per batch instead of once per lead. A list of keys travels as one parameter (a
//! JSON array read with `json_each` on SQLite, a `text[]` unnested on PostgreSQL), so a
//! statement's text does not depend on the batch's size and stays prepared.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::{ChannelId, ContactId, E164, PhoneNumberId, UserId, WorkspaceId};

use crate::backend::on_read;
use crate::conversations::{Conversation, conversation_columns};
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::{Backend, Store, StoreError};

/// "is one of the list bound at `$n`" (bind the list with [`list`]), in the backend's
/// dialect.
pub(crate) fn in_list(backend: &Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite { .. } => format!("IN (SELECT value FROM json_each(${n}))"),
        // A semi-join, not `= ANY(array)`: a generic plan made while the table was small
        // would test every row of the workspace against the whole array.
        Backend::Postgres(_) => format!("IN (SELECT unnest(CAST(${n} AS TEXT[])))"),
    }
}

/// `values` as one text parameter for [`in_list`]: a JSON array on SQLite, an array
/// literal on PostgreSQL.
pub(crate) fn list<T: ToString>(backend: &Backend, values: impl IntoIterator<Item = T>) -> String {
    let values: Vec<String> = values.into_iter().map(|v| v.to_string()).collect();
    match backend {
        Backend::Sqlite { .. } => serde_json::to_string(&values).expect("strings serialize"),
        Backend::Postgres(_) => {
            let quoted: Vec<String> = values
                .iter()
                .map(|v| format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            format!("{{{}}}", quoted.join(","))
        }
    }
}

/// What a contact carries into an attempt: its owner (the conversation's advisor) and
/// the pool number assigned to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactLinks {
    pub owner_id: Option<UserId>,
    pub assigned_number_id: Option<PhoneNumberId>,
}

/// A pool number's live sending state: its next free slot and today's usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberState {
    pub next_slot_at: DateTime<Utc>,
    pub sms_used: u32,
    pub calls_used: u32,
}

/// Runs `sql` (with its `$n` list placeholders already expanded) on the read pool and
/// hands each row to `read`.
macro_rules! read_rows {
    ($store:expr, $sql:expr, [$($arg:expr),*], |$row:ident| $read:expr) => {
        on_read!(&$store.backend, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe($sql))
                $(.bind($arg))*
                .fetch_all(pool)
                .await?;
            rows.iter().map(|$row| $read).collect::<Result<_, StoreError>>()
        })
    };
}

impl Store {
    /// The contacts among `contacts` that opted out of `channel_type`.
    pub async fn opted_out_among(
        &self,
        contacts: &[ContactId],
        channel_type: MessageProviderType,
    ) -> Result<HashSet<ContactId>, StoreError> {
        if contacts.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!(
            "SELECT contact_id FROM contact_opt_outs WHERE channel_type = $1 AND contact_id {}",
            in_list(&self.backend, 2)
        );
        read_rows!(
            self,
            sql,
            [channel_type.as_str(), list(&self.backend, contacts)],
            |row| row.id("contact_id")
        )
    }

    /// The numbers among `phones` on the workspace's do-not-contact list.
    pub async fn do_not_contact_among(
        &self,
        workspace_id: WorkspaceId,
        phones: &[&E164],
    ) -> Result<HashSet<String>, StoreError> {
        if phones.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!(
            "SELECT phone_number FROM do_not_contact WHERE workspace_id = $1 AND phone_number {}",
            in_list(&self.backend, 2)
        );
        let phones = list(&self.backend, phones.iter().map(|p| p.as_str()));
        read_rows!(self, sql, [workspace_id.to_string(), phones], |row| row
            .text("phone_number"))
    }

    /// The active conversations on `channel_id` of any of `contacts`, by contact.
    pub async fn active_conversations_among(
        &self,
        workspace_id: WorkspaceId,
        channel_id: ChannelId,
        contacts: &[ContactId],
    ) -> Result<HashMap<ContactId, Conversation>, StoreError> {
        if contacts.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            concat!(
                "SELECT ",
                conversation_columns!(),
                " FROM conversations WHERE workspace_id = $1 AND channel_id = $2 \
                 AND status = 'ACTIVE' AND contact_id {}"
            ),
            in_list(&self.backend, 3)
        );
        let args = (workspace_id.to_string(), channel_id.to_string());
        let found: Vec<Conversation> = read_rows!(
            self,
            sql,
            [args.0, args.1, list(&self.backend, contacts)],
            |row| { Conversation::from_row(row) }
        )?;
        Ok(found.into_iter().map(|c| (c.contact_id, c)).collect())
    }

    /// The owner and assigned number of each of `contacts` in the workspace.
    pub async fn contact_links(
        &self,
        workspace_id: WorkspaceId,
        contacts: &[ContactId],
    ) -> Result<HashMap<ContactId, ContactLinks>, StoreError> {
        if contacts.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, owner_id, assigned_phone_number_id FROM contacts \
             WHERE workspace_id = $1 AND id {}",
            in_list(&self.backend, 2)
        );
        read_rows!(
            self,
            sql,
            [workspace_id.to_string(), list(&self.backend, contacts)],
            |row| Ok((
                row.id("id")?,
                ContactLinks {
                    owner_id: row.optional_id("owner_id")?,
                    assigned_number_id: row.optional_id("assigned_phone_number_id")?,
                },
            ))
        )
    }

    /// The number that last reached each of `recipients`, where that was at or after
    /// `since` (the sticky window), by recipient.
    pub async fn recipient_numbers_among(
        &self,
        workspace_id: WorkspaceId,
        recipients: &[&E164],
        since: DateTime<Utc>,
    ) -> Result<HashMap<String, PhoneNumberId>, StoreError> {
        if recipients.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT recipient, phone_number_id FROM recipient_numbers \
             WHERE workspace_id = $1 AND last_used_at >= $2 AND recipient {}",
            in_list(&self.backend, 3)
        );
        let recipients = list(&self.backend, recipients.iter().map(|r| r.as_str()));
        read_rows!(
            self,
            sql,
            [workspace_id.to_string(), to_micros(since), recipients],
            |row| Ok((row.text("recipient")?, row.id("phone_number_id")?))
        )
    }

    /// Every number of the workspace with its next free slot and its usage on `day`:
    /// the state a batch of reservations starts from (see
    /// [`Store::write_campaign_batch`], which writes them only if no number moved).
    pub async fn number_states(
        &self,
        workspace_id: WorkspaceId,
        day: NaiveDate,
    ) -> Result<HashMap<PhoneNumberId, NumberState>, StoreError> {
        let sql = "SELECT p.id, p.next_slot_at, u.sms, u.calls FROM phone_numbers p \
                   LEFT JOIN number_usage u ON u.phone_number_id = p.id AND u.day = $2 \
                   WHERE p.workspace_id = $1";
        let used = |value: Option<i64>| u32::try_from(value.unwrap_or(0).max(0)).unwrap_or(0);
        read_rows!(
            self,
            sql.to_owned(),
            [workspace_id.to_string(), day.to_string()],
            |row| Ok((
                row.id("id")?,
                NumberState {
                    next_slot_at: row.time("next_slot_at")?,
                    sms_used: used(row.optional_int("sms")?),
                    calls_used: used(row.optional_int("calls")?),
                },
            ))
        )
    }
}
