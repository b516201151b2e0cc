//! The circuit state of each outbox lane, as the dispatcher last decided it: written
//! when a circuit opens or closes (rarely), read by the channel API and by other nodes'
//! operators. A closed circuit has no row.

use chrono::{DateTime, Utc};

use crate::backend::{on_read, on_write};
use crate::rows::{StoreRow, to_micros};
use crate::{Store, StoreError};

/// An open (or half-open) circuit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneCircuit {
    pub lane: String,
    /// `open` or `half_open`.
    pub state: String,
    pub open_until: DateTime<Utc>,
    /// What the provider kept answering.
    pub reason: String,
    pub updated_at: DateTime<Utc>,
}

impl Store {
    /// Records that `lane`'s circuit opened until `open_until`, because of `reason`.
    pub async fn open_lane_circuit(
        &self,
        lane: &str,
        open_until: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let now = to_micros(self.clock.now());
        on_write!(&self.backend, pool => {
            sqlx::query("INSERT INTO lane_circuits (lane, state, open_until, reason, updated_at) VALUES ($1, 'open', $2, $3, $4) \
                         ON CONFLICT (lane) DO UPDATE SET state = 'open', open_until = $2, reason = $3, updated_at = $4")
                .bind(lane)
                .bind(to_micros(open_until))
                .bind(reason)
                .bind(now)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Records that `lane`'s circuit closed: its provider answers again.
    pub async fn close_lane_circuit(&self, lane: &str) -> Result<(), StoreError> {
        on_write!(&self.backend, pool => {
            sqlx::query("DELETE FROM lane_circuits WHERE lane = $1").bind(lane).execute(pool).await?;
        });
        Ok(())
    }

    /// The circuit of `lane`, when it is not closed.
    pub async fn lane_circuit(&self, lane: &str) -> Result<Option<LaneCircuit>, StoreError> {
        on_read!(&self.backend, pool => {
            let row = sqlx::query("SELECT lane, state, open_until, reason, updated_at FROM lane_circuits WHERE lane = $1")
                .bind(lane)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => Ok(Some(LaneCircuit {
                    lane: row.text("lane")?,
                    state: row.text("state")?,
                    open_until: row.time("open_until")?,
                    reason: row.text("reason")?,
                    updated_at: row.time("updated_at")?,
                })),
                None => Ok(None),
            }
        })
    }
}
