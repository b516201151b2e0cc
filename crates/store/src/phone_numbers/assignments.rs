//! The campaigns and sources a number serves: read for many numbers at once (one
//! statement per table, never one per number) and rewritten as a whole inside the
//! transaction that writes the number.

use std::collections::HashMap;

use leadline_core::{CampaignId, PhoneNumberId, SourceId};

use super::PhoneNumber;
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_all, id};
use crate::{Store, StoreError};

/// One row of `phone_number_campaigns` or `phone_number_sources`:
/// `(phone_number_id, target id)` as stored.
pub(super) type Assignment = (String, String);

struct AssignmentRow(Assignment);

impl FromStoreRow for AssignmentRow {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(AssignmentRow((
            row.text("phone_number_id")?,
            row.text("target")?,
        )))
    }
}

/// Groups assignment rows by number, parsing the ids and ordering each number's
/// targets by id (creation order). Sorting the few ids of each number here spares the
/// database a sort of every row.
pub(super) fn group<T: std::str::FromStr + Ord>(
    rows: impl IntoIterator<Item = Assignment>,
) -> Result<HashMap<PhoneNumberId, Vec<T>>, StoreError> {
    let mut grouped: HashMap<PhoneNumberId, Vec<T>> = HashMap::new();
    for (number, target) in rows {
        let target = id("assignment target", &target)?;
        grouped
            .entry(id("assignment phone_number_id", &number)?)
            .or_default()
            .push(target);
    }
    for targets in grouped.values_mut() {
        targets.sort_unstable();
    }
    Ok(grouped)
}

/// Rewrites a number's campaigns and sources inside the caller's transaction.
macro_rules! write_assignments {
    ($tx:expr, $id:expr, $fields:expr) => {{
        let id = $id.to_string();
        sqlx::query("DELETE FROM phone_number_campaigns WHERE phone_number_id = $1")
            .bind(&id)
            .execute(&mut *$tx)
            .await?;
        sqlx::query("DELETE FROM phone_number_sources WHERE phone_number_id = $1")
            .bind(&id)
            .execute(&mut *$tx)
            .await?;
        for campaign_id in &$fields.campaign_ids {
            sqlx::query(
                "INSERT INTO phone_number_campaigns (phone_number_id, campaign_id) VALUES ($1, $2)",
            )
            .bind(&id)
            .bind(campaign_id.to_string())
            .execute(&mut *$tx)
            .await?;
        }
        for source_id in &$fields.source_ids {
            sqlx::query(
                "INSERT INTO phone_number_sources (phone_number_id, source_id) VALUES ($1, $2)",
            )
            .bind(&id)
            .bind(source_id.to_string())
            .execute(&mut *$tx)
            .await?;
        }
    }};
}

impl Store {
    /// Attaches campaigns and sources to `numbers` (one workspace, in id order) with
    /// one query per table over the id range they span, not one per number.
    pub(super) async fn with_assignments(
        &self,
        mut numbers: Vec<PhoneNumber>,
    ) -> Result<Vec<PhoneNumber>, StoreError> {
        let (Some(first), Some(last)) = (numbers.first(), numbers.last()) else {
            return Ok(numbers);
        };
        let args = || -> Vec<Arg> {
            vec![
                first.workspace_id.to_string().into(),
                first.id.to_string().into(),
                last.id.to_string().into(),
            ]
        };
        let campaigns = fetch_all::<AssignmentRow>(
            &self.backend,
            "SELECT a.phone_number_id, a.campaign_id AS target FROM phone_number_campaigns a \
             JOIN phone_numbers p ON p.id = a.phone_number_id \
             WHERE p.workspace_id = $1 AND p.id >= $2 AND p.id <= $3",
            args(),
        );
        let sources = fetch_all::<AssignmentRow>(
            &self.backend,
            "SELECT a.phone_number_id, a.source_id AS target FROM phone_number_sources a \
             JOIN phone_numbers p ON p.id = a.phone_number_id \
             WHERE p.workspace_id = $1 AND p.id >= $2 AND p.id <= $3",
            args(),
        );
        let (campaigns, sources) = tokio::try_join!(campaigns, sources)?;
        let (campaigns, sources) = (
            group(campaigns.into_iter().map(|row| row.0))?,
            group(sources.into_iter().map(|row| row.0))?,
        );
        attach(&mut numbers, campaigns, sources);
        Ok(numbers)
    }
}

/// Moves each number's campaigns and sources out of the grouped maps onto it.
pub(super) fn attach(
    numbers: &mut [PhoneNumber],
    mut campaigns: HashMap<PhoneNumberId, Vec<CampaignId>>,
    mut sources: HashMap<PhoneNumberId, Vec<SourceId>>,
) {
    for number in numbers {
        number.campaign_ids = campaigns.remove(&number.id).unwrap_or_default();
        number.source_ids = sources.remove(&number.id).unwrap_or_default();
    }
}
