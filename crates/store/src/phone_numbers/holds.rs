//! Holds on pool numbers: a person pauses, blocks or resumes a number, and the health
//! check takes a failing number out of rotation. Each hold is written in one
//! transaction with the events it causes.

use leadline_core::numbers::Hold;
use leadline_core::{PhoneNumberId, WorkspaceId};

use super::{PhoneNumber, phone_number_columns};
use crate::backend::on_write;
use crate::events::{record_events, resources};
use crate::rows::{FromStoreRow, to_micros};
use crate::{Store, StoreError};

impl Store {
    /// Puts a hold on a number or lifts it ([`Hold::None`]), as a person does; `held_at`
    /// is now while held. `None` when there is no such number.
    pub async fn set_phone_number_hold(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
        hold: Hold,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        self.write_hold(workspace_id, id, hold, false).await
    }

    /// Puts the health check's verdict on a number: as [`Store::set_phone_number_hold`],
    /// and a number taken out of rotation also tells that its health changed.
    pub async fn hold_phone_number_on_health(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
        hold: Hold,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        self.write_hold(workspace_id, id, hold, true).await
    }

    /// Writes a hold in one transaction with its events. The update is guarded by the
    /// hold read before it, so the events compare the hold it replaced; a number whose
    /// hold changed meanwhile is read and written again. Putting on the hold a number
    /// already has writes nothing.
    async fn write_hold(
        &self,
        workspace_id: WorkspaceId,
        id: PhoneNumberId,
        hold: Hold,
        by_health: bool,
    ) -> Result<Option<PhoneNumber>, StoreError> {
        let (state, reason, automatic) = match &hold {
            Hold::None => (None, None, false),
            Hold::Paused { reason, automatic } => {
                (Some("PAUSED"), Some(reason.as_str()), *automatic)
            }
            Hold::Blocked { reason } => (Some("BLOCKED"), Some(reason.as_str()), false),
        };
        for _ in 0..3 {
            let Some(before) = self.phone_number(workspace_id, id).await? else {
                return Ok(None);
            };
            // The hold it already has: nothing changes, not even when it was put on.
            if before.hold == hold {
                return Ok(Some(before));
            }
            let at = self.clock.now();
            let now = to_micros(at);
            let held_at = state.map(|_| now);
            let (was_state, was_reason, was_automatic) = match &before.hold {
                Hold::None => ("", "", false),
                Hold::Paused { reason, automatic } => ("PAUSED", reason.as_str(), *automatic),
                Hold::Blocked { reason } => ("BLOCKED", reason.as_str(), false),
            };
            let written = on_write!(&self.backend, pool => {
                let mut tx = pool.begin().await?;
                let row = sqlx::query(concat!(
                    "UPDATE phone_numbers SET hold = $1, hold_reason = $2, hold_automatic = $3, held_at = $4, \
                     updated_at = $5 WHERE workspace_id = $6 AND id = $7 AND COALESCE(hold, '') = $8 \
                     AND COALESCE(hold_reason, '') = $9 AND hold_automatic = $10 RETURNING ",
                    phone_number_columns!()
                ))
                .bind(state)
                .bind(reason)
                .bind(automatic)
                .bind(held_at)
                .bind(now)
                .bind(workspace_id.to_string())
                .bind(id.to_string())
                .bind(was_state)
                .bind(was_reason)
                .bind(was_automatic)
                .fetch_optional(&mut *tx)
                .await?;
                let written = row.as_ref().map(PhoneNumber::from_row).transpose()?.map(|number| PhoneNumber {
                    campaign_ids: before.campaign_ids.clone(),
                    source_ids: before.source_ids.clone(),
                    ..number
                });
                if let Some(number) = &written {
                    let events = resources::number_hold(&before.hold, number, by_health, at);
                    record_events!(tx, &events, at);
                }
                tx.commit().await?;
                written
            });
            if written.is_some() {
                return Ok(written);
            }
        }
        Err(StoreError::WriteFailed(
            "the number's hold kept changing under concurrent writes".into(),
        ))
    }
}
