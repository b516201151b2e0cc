//! Holds on a number of the pool: a person pauses it (it keeps its place and resumes
//! later) or records that a carrier blocked it; resume lifts either. A block is not
//! turned into a pause: resume it first, so a carrier block is never lost by accident.
//! The API's `/api/v1/phone-numbers/{id}/pause|block|resume` and the console's numbers
//! page both call [`set_hold`].

use leadline_core::FieldError;
use leadline_core::numbers::Hold;
use leadline_core::validation::text;
use leadline_store::phone_numbers::PhoneNumber;
use leadline_store::{Store, StoreError};

use crate::numbers::NumberPools;

/// Longest reason a hold keeps.
pub const MAX_REASON: usize = 500;

/// Why a hold cannot be set.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    /// Pausing a blocked number would lose the block.
    #[error("the number is blocked; resume it before pausing it")]
    Blocked,
    #[error("the phone number was deleted meanwhile")]
    Deleted,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A hold's reason, checked: one sentence of at most [`MAX_REASON`] characters.
pub fn reason(value: &str) -> Result<String, FieldError> {
    text("reason", value, MAX_REASON)
}

/// A pause a person asked for.
pub fn paused(reason: String) -> Hold {
    Hold::Paused {
        reason,
        automatic: false,
    }
}

/// Sets `hold` on `number` and makes the pool see it at once.
pub async fn set_hold(
    store: &Store,
    pools: &NumberPools,
    number: &PhoneNumber,
    hold: Hold,
) -> Result<PhoneNumber, HoldError> {
    if matches!(hold, Hold::Paused { .. }) && matches!(number.hold, Hold::Blocked { .. }) {
        return Err(HoldError::Blocked);
    }
    let held = store
        .set_phone_number_hold(number.workspace_id, number.id, hold)
        .await?
        .ok_or(HoldError::Deleted)?;
    tracing::info!(phone_number = %held.id, hold = ?held.hold, "phone number hold changed");
    pools.invalidate(number.workspace_id);
    Ok(held)
}
