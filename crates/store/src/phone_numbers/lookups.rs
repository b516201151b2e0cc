//! Small reads and writes around the pool: one number's counters (the warm-up
//! endpoint), the workspace's pool settings (JSON in `workspaces.number_settings`, the
//! defaults while NULL), and the number a contact is assigned.

use chrono::NaiveDate;
use leadline_core::numbers::{NumberMetrics, NumberPoolSettings};
use leadline_core::{ContactId, PhoneNumberId, WorkspaceId};

use super::day_text;
use crate::backend::on_write;
use crate::rows::{FromStoreRow, OptionalText, StoreRow, fetch_optional};
use crate::workspaces::SettingsColumn;
use crate::{Store, StoreError};

/// `(sms, calls)` of one number and day.
pub(super) struct Usage {
    pub sms: u32,
    pub calls: u32,
}

impl FromStoreRow for Usage {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Usage {
            sms: count(row.int("sms")?),
            calls: count(row.int("calls")?),
        })
    }
}

/// Outcomes summed over some days, from the columns `outcome_sums!` names.
fn metrics(row: &impl StoreRow) -> Result<NumberMetrics, StoreError> {
    let sum = |column: &str| row.int(column).map(|n| u64::try_from(n).unwrap_or(0));
    Ok(NumberMetrics {
        sent: sum("sent")?,
        delivered: sum("delivered")?,
        failed: sum("failed")?,
        filtered: sum("filtered")?,
        carrier_blocks: sum("carrier_blocks")?,
        opt_outs: sum("opt_outs")?,
        replies: sum("replies")?,
    })
}

struct Metrics(NumberMetrics);

impl FromStoreRow for Metrics {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        metrics(row).map(Metrics)
    }
}

/// A stored counter as a `u32`; counters never go negative or past `u32::MAX`.
fn count(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// The sums of `number_outcomes o`; `CAST` because PostgreSQL sums BIGINT to NUMERIC.
macro_rules! outcome_sums {
    () => {
        "CAST(COALESCE(SUM(o.sent), 0) AS BIGINT) AS sent, \
         CAST(COALESCE(SUM(o.delivered), 0) AS BIGINT) AS delivered, \
         CAST(COALESCE(SUM(o.failed), 0) AS BIGINT) AS failed, \
         CAST(COALESCE(SUM(o.filtered), 0) AS BIGINT) AS filtered, \
         CAST(COALESCE(SUM(o.carrier_blocks), 0) AS BIGINT) AS carrier_blocks, \
         CAST(COALESCE(SUM(o.opt_outs), 0) AS BIGINT) AS opt_outs, \
         CAST(COALESCE(SUM(o.replies), 0) AS BIGINT) AS replies"
    };
}
pub(super) use outcome_sums;

impl Store {
    /// `(sms, calls)` reserved on one number on `day`; zeros without a row.
    pub async fn phone_number_usage(
        &self,
        id: PhoneNumberId,
        day: NaiveDate,
    ) -> Result<(u32, u32), StoreError> {
        let sql = "SELECT sms, calls FROM number_usage WHERE phone_number_id = $1 AND day = $2";
        let args = vec![id.to_string().into(), day_text(day).into()];
        Ok(fetch_optional::<Usage>(&self.backend, sql, args)
            .await?
            .map_or((0, 0), |u| (u.sms, u.calls)))
    }

    /// One number's outcomes summed over the days from `since` on.
    pub async fn phone_number_metrics(
        &self,
        id: PhoneNumberId,
        since: NaiveDate,
    ) -> Result<NumberMetrics, StoreError> {
        let sql = concat!(
            "SELECT ",
            outcome_sums!(),
            " FROM number_outcomes o WHERE o.phone_number_id = $1 AND o.day >= $2"
        );
        let args = vec![id.to_string().into(), day_text(since).into()];
        Ok(fetch_optional::<Metrics>(&self.backend, sql, args)
            .await?
            .map(|m| m.0)
            .unwrap_or_default())
    }

    /// The workspace's pool settings; the defaults when it never set any (or does not
    /// exist).
    pub async fn number_pool_settings(
        &self,
        workspace_id: WorkspaceId,
    ) -> Result<NumberPoolSettings, StoreError> {
        self.workspace_settings(workspace_id, SettingsColumn::NumberPool)
            .await
    }

    /// Stores the workspace's pool settings (validated by the caller); `false` when
    /// there is no such workspace.
    pub async fn set_number_pool_settings(
        &self,
        workspace_id: WorkspaceId,
        settings: &NumberPoolSettings,
    ) -> Result<bool, StoreError> {
        self.set_workspace_settings(workspace_id, SettingsColumn::NumberPool, settings)
            .await
    }

    /// Assigns a contact its own number (`None` lifts the assignment); `false` when
    /// the workspace has no such contact. The number is checked by the caller. The
    /// contact's `updated_at` stays: the assignment is the pool's data, not the lead's.
    pub async fn assign_contact_number(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
        number: Option<PhoneNumberId>,
    ) -> Result<bool, StoreError> {
        let updated = on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE contacts SET assigned_phone_number_id = $1 WHERE workspace_id = $2 AND id = $3",
            )
            .bind(number.map(|n| n.to_string()))
            .bind(workspace_id.to_string())
            .bind(contact_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(updated > 0)
    }

    /// The number assigned to a contact, if any (and if the contact exists).
    pub async fn contact_assigned_number(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
    ) -> Result<Option<PhoneNumberId>, StoreError> {
        let sql = "SELECT assigned_phone_number_id AS value FROM contacts \
                   WHERE workspace_id = $1 AND id = $2";
        let args = vec![
            workspace_id.to_string().into(),
            contact_id.to_string().into(),
        ];
        fetch_optional::<OptionalText>(&self.backend, sql, args)
            .await?
            .and_then(|row| row.0)
            .map(|value| crate::rows::id("contacts.assigned_phone_number_id", &value))
            .transpose()
    }
}
