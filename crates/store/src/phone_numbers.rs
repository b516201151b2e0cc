//! The phone numbers a workspace sends from: what each can do, what it is reserved for
//! (a channel, a team, campaigns, sources), whether a person or the health check has
//! held it, and where its warm-up started. The daily usage and the outcomes that judge
//! its health live in their own tables and are read alongside in [`pool`] and
//! [`lookups`].
//!
//! One number per workspace may be the default (the last resort of selection): setting
//! the flag on one clears it on the others in the same transaction, and a partial
//! unique index makes two concurrent writers unable to leave two defaults behind.

// First: its `write_assignments!` is used below.
#[macro_use]
mod assignments;
mod holds;
mod lookups;
mod pool;

use chrono::{DateTime, NaiveDate, Utc};
use leadline_core::numbers::{Capabilities, Hold};
use leadline_core::{CampaignId, ChannelId, E164, PhoneNumberId, SourceId, TeamId, WorkspaceId};

use crate::backend::on_write;
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_all, fetch_optional, to_micros};
use crate::{Store, StoreError};

pub use pool::PoolEntry;

#[derive(Debug, Clone, PartialEq)]
pub struct PhoneNumber {
    pub id: PhoneNumberId,
    pub workspace_id: WorkspaceId,
    pub number: E164,
    pub display_number: String,
    pub capabilities: Capabilities,
    /// The channel it sends through; `None`: any channel of a matching type.
    pub channel_id: Option<ChannelId>,
    pub label: Option<String>,
    pub team_id: Option<TeamId>,
    pub campaign_ids: Vec<CampaignId>,
    pub source_ids: Vec<SourceId>,
    pub preferred: bool,
    pub is_default: bool,
    pub hold: Hold,
    /// When the current hold was put on; `None` without a hold.
    pub held_at: Option<DateTime<Utc>>,
    /// The first day of the warm-up (in the workspace's zone); `None` until it sends.
    pub warmup_started_on: Option<NaiveDate>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a client sets on a number; the hold, usage and timestamps are the store's.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneNumberFields {
    pub number: E164,
    pub display_number: String,
    pub capabilities: Capabilities,
    pub channel_id: Option<ChannelId>,
    pub label: Option<String>,
    pub team_id: Option<TeamId>,
    pub campaign_ids: Vec<CampaignId>,
    pub source_ids: Vec<SourceId>,
    pub preferred: bool,
    pub is_default: bool,
    pub warmup_started_on: Option<NaiveDate>,
}

/// Which numbers a list returns (every number when both are `None`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PhoneNumberFilter {
    pub team_id: Option<TeamId>,
    pub channel_id: Option<ChannelId>,
}

/// The name of the partial unique index that keeps one default per workspace.
const ONE_DEFAULT: &str = "phone_numbers_one_default";

/// Attempts of a write that lost a race for the default flag (PostgreSQL only: SQLite
/// has a single writer) before the conflict is reported.
const DEFAULT_RACE_ATTEMPTS: usize = 3;

macro_rules! phone_number_columns {
    () => {
        "id, workspace_id, number, display_number, can_sms, can_call, channel_id, label, team_id, \
         preferred, is_default, hold, hold_reason, hold_automatic, held_at, warmup_started_on, \
         last_used_at, created_at, updated_at"
    };
}
pub(crate) use phone_number_columns;

const DAY_FORMAT: &str = "%Y-%m-%d";

/// Days are stored as `YYYY-MM-DD` text, which sorts (and so compares) as dates do.
pub(crate) fn day_text(day: NaiveDate) -> String {
    day.format(DAY_FORMAT).to_string()
}

/// A number row before its campaigns and sources are attached.
impl FromStoreRow for PhoneNumber {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let reason = row.optional_text("hold_reason")?.unwrap_or_default();
        let hold = match row.optional_text("hold")?.as_deref() {
            None => Hold::None,
            Some("PAUSED") => Hold::Paused {
                reason,
                automatic: row.flag("hold_automatic")?,
            },
            Some("BLOCKED") => Hold::Blocked { reason },
            Some(other) => {
                return Err(StoreError::Corrupt(format!("phone_numbers.hold '{other}'")));
            }
        };
        let warmup_started_on = row
            .optional_text("warmup_started_on")?
            .map(|day| {
                NaiveDate::parse_from_str(&day, DAY_FORMAT).map_err(|_| {
                    StoreError::Corrupt(format!("phone_numbers.warmup_started_on '{day}'"))
                })
            })
            .transpose()?;
        Ok(PhoneNumber {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            number: E164::from_trusted(row.text("number")?),
            display_number: row.text("display_number")?,
            capabilities: Capabilities {
                sms: row.flag("can_sms")?,
                call: row.flag("can_call")?,
            },
            channel_id: row.optional_id("channel_id")?,
            label: row.optional_text("label")?,
            team_id: row.optional_id("team_id")?,
            campaign_ids: Vec::new(),
            source_ids: Vec::new(),
            preferred: row.flag("preferred")?,
            is_default: row.flag("is_default")?,
            hold,
            held_at: row.optional_time("held_at")?,
            warmup_started_on,
            last_used_at: row.optional_time("last_used_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// Clears the default flag on the workspace's other numbers inside the caller's
/// transaction, when `$fields` sets it on this one.
macro_rules! clear_other_defaults {
    ($tx:expr, $workspace:expr, $id:expr, $fields:expr, $now:expr) => {
        if $fields.is_default {
            sqlx::query(
                "UPDATE phone_numbers SET is_default = $1, updated_at = $2 \
                 WHERE workspace_id = $3 AND id <> $4 AND is_default = $5",
            )
            .bind(false)
            .bind($now)
            .bind($workspace.to_string())
            .bind($id.to_string())
            .bind(true)
            .execute(&mut *$tx)
            .await?;
        }
    };
}

impl Store {
    /// Adds a number to the pool. A number the workspace already has is
    /// [`StoreError::Duplicate`].
    pub async fn create_phone_number(
        &self,
        workspace_id: WorkspaceId,
        fields: PhoneNumberFields,
    ) -> Result<PhoneNumber, StoreError> {
        let id = PhoneNumberId::new();
        for attempt in 1..=DEFAULT_RACE_ATTEMPTS {
            match self.insert_phone_number(workspace_id, id, &fields).await {
                Err(error)
                    if error.is_duplicate_of(ONE_DEFAULT) && attempt < DEFAULT_RACE_ATTEMPTS => {}
                Err(error) => return Err(error),
                Ok(()) => break,
            }
        }
        self.phone_number(workspace_id, id)
            .await?
            .ok_or_else(|| StoreError::WriteFailed("the new number was deleted at once".into()))
    }

    async fn insert_phone_number(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
        fields: &PhoneNumberFields,
    ) -> Result<(), StoreError> {
        let now = to_micros(self.clock.now());
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            clear_other_defaults!(tx, workspace_id, id, fields, now);
            sqlx::query(
                "INSERT INTO phone_numbers (id, workspace_id, number, display_number, can_sms, can_call, \
                 channel_id, label, team_id, preferred, is_default, warmup_started_on, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            )
            .bind(id.to_string())
            .bind(workspace_id.to_string())
            .bind(fields.number.as_str())
            .bind(&fields.display_number)
            .bind(fields.capabilities.sms)
            .bind(fields.capabilities.call)
            .bind(fields.channel_id.map(|c| c.to_string()))
            .bind(fields.label.as_deref())
            .bind(fields.team_id.map(|t| t.to_string()))
            .bind(fields.preferred)
            .bind(fields.is_default)
            .bind(fields.warmup_started_on.map(day_text))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            write_assignments!(tx, id, fields);
            tx.commit().await?;
        });
        Ok(())
    }

    /// Replaces a number's client fields and assignments in one transaction; `None`
    /// when there is no such number.
    pub async fn update_phone_number(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
        fields: PhoneNumberFields,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        for attempt in 1..=DEFAULT_RACE_ATTEMPTS {
            match self.rewrite_phone_number(workspace_id, id, &fields).await {
                Err(error)
                    if error.is_duplicate_of(ONE_DEFAULT) && attempt < DEFAULT_RACE_ATTEMPTS => {}
                Err(error) => return Err(error),
                Ok(false) => return Ok(None),
                Ok(true) => break,
            }
        }
        self.phone_number(workspace_id, id).await
    }

    async fn rewrite_phone_number(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
        fields: &PhoneNumberFields,
    ) -> Result<bool, StoreError> {
        let now = to_micros(self.clock.now());
        let found = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            clear_other_defaults!(tx, workspace_id, id, fields, now);
            let updated = sqlx::query(
                "UPDATE phone_numbers SET number = $1, display_number = $2, can_sms = $3, can_call = $4, \
                 channel_id = $5, label = $6, team_id = $7, preferred = $8, is_default = $9, \
                 warmup_started_on = $10, updated_at = $11 WHERE workspace_id = $12 AND id = $13",
            )
            .bind(fields.number.as_str())
            .bind(&fields.display_number)
            .bind(fields.capabilities.sms)
            .bind(fields.capabilities.call)
            .bind(fields.channel_id.map(|c| c.to_string()))
            .bind(fields.label.as_deref())
            .bind(fields.team_id.map(|t| t.to_string()))
            .bind(fields.preferred)
            .bind(fields.is_default)
            .bind(fields.warmup_started_on.map(day_text))
            .bind(now)
            .bind(workspace_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Without the number, the cleared defaults roll back with the transaction.
            if updated > 0 {
                write_assignments!(tx, id, fields);
                tx.commit().await?;
            }
            updated > 0
        });
        Ok(found)
    }

    /// Deletes a number; contacts assigned to it lose the assignment in the same
    /// transaction. Its usage, outcomes and assignments go with it (foreign keys
    /// cascade).
    pub async fn delete_phone_number(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
    ) -> Result<bool, StoreError> {
        let deleted = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE contacts SET assigned_phone_number_id = NULL \
                 WHERE workspace_id = $1 AND assigned_phone_number_id = $2",
            )
            .bind(workspace_id.to_string())
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
            let deleted = sqlx::query("DELETE FROM phone_numbers WHERE workspace_id = $1 AND id = $2")
                .bind(workspace_id.to_string())
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            deleted
        });
        Ok(deleted > 0)
    }

    pub async fn phone_number(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        let sql = concat!(
            "SELECT ",
            phone_number_columns!(),
            " FROM phone_numbers WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![workspace_id.to_string().into(), id.to_string().into()];
        let Some(number) = fetch_optional::<PhoneNumber>(&self.backend, sql, args).await? else {
            return Ok(None);
        };
        Ok(self.with_assignments(vec![number]).await?.pop())
    }

    /// One page of the workspace's numbers in creation order, optionally only those of
    /// a team or a channel.
    pub async fn list_phone_numbers(
        &self,
        workspace_id: WorkspaceId,
        filter: PhoneNumberFilter,
        after: Option<PhoneNumberId>,
        limit: u32,
    ) -> Result<Vec<PhoneNumber>, StoreError> {
        // An empty string stands for "no filter": one statement serves every
        // combination, and ids are never empty.
        let sql = concat!(
            "SELECT ",
            phone_number_columns!(),
            " FROM phone_numbers WHERE workspace_id = $1 AND id > $2 \
             AND ($3 = '' OR team_id = $4) AND ($5 = '' OR channel_id = $6) ORDER BY id LIMIT $7"
        );
        let team = filter.team_id.map(|t| t.to_string()).unwrap_or_default();
        let channel = filter.channel_id.map(|c| c.to_string()).unwrap_or_default();
        let args = vec![
            Arg::Text(workspace_id.to_string()),
            Arg::Text(after.map(|a| a.to_string()).unwrap_or_default()),
            Arg::Text(team.clone()),
            Arg::Text(team),
            Arg::Text(channel.clone()),
            Arg::Text(channel),
            Arg::Int(i64::from(limit)),
        ];
        let numbers = fetch_all(&self.backend, sql, args).await?;
        self.with_assignments(numbers).await
    }
}
