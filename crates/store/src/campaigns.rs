//! Outbound campaigns. The calling hours and the opening are stored as JSON and typed
//! in the core: read back once, with the row (they are checked by the core's parser
//! before they get here).

use chrono::{DateTime, Utc};
use leadline_core::calling_hours::CallingWindowInput;
use leadline_core::campaign::{CampaignStatus, Opening, RetryInterval};
use leadline_core::{CampaignId, ChannelId, WorkspaceId};

use crate::backend::on_write;
use crate::events::{record_events, resources};
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    pub id: CampaignId,
    pub workspace_id: WorkspaceId,
    pub fields: CampaignFields,
    pub status: CampaignStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The fields a client sets; the rest is the store's.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignFields {
    pub name: String,
    pub channel_id: ChannelId,
    /// An IANA zone name.
    pub default_time_zone: String,
    /// ISO 3166 region used to read national phone numbers, e.g. `US`.
    pub default_country: String,
    /// `[{day, start, end}]` as accepted.
    pub calling_hours: Vec<CallingWindowInput>,
    pub max_attempts: u32,
    pub retry_interval: RetryInterval,
    /// The template sent as the opening message (SMS and WhatsApp campaigns).
    pub opening_template: Option<String>,
    /// The opening's texts with `{{variable}}` placeholders (the voice script, the
    /// template's parameters).
    pub opening: Opening,
    pub concurrency: u32,
}

macro_rules! campaign_columns {
    () => {
        "id, workspace_id, name, channel_id, default_time_zone, default_country, calling_hours, max_attempts, \
         retry_interval, opening_template, opening, concurrency, status, created_at, updated_at"
    };
}

impl FromStoreRow for Campaign {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Campaign {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            fields: CampaignFields {
                name: row.text("name")?,
                channel_id: row.id("channel_id")?,
                default_time_zone: row.text("default_time_zone")?,
                default_country: row.text("default_country")?,
                calling_hours: row.json("calling_hours")?,
                max_attempts: u32::try_from(row.int("max_attempts")?).unwrap_or(1),
                retry_interval: row.parsed("retry_interval", RetryInterval::parse)?,
                opening_template: row.optional_text("opening_template")?,
                opening: row.json("opening")?,
                concurrency: u32::try_from(row.int("concurrency")?).unwrap_or(1),
            },
            status: row.parsed("status", CampaignStatus::parse)?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    /// Creates a campaign in DRAFT.
    pub async fn create_campaign(
        &self,
        workspace_id: WorkspaceId,
        fields: CampaignFields,
    ) -> Result<Campaign, StoreError> {
        let now = self.clock.now();
        let campaign = Campaign {
            id: CampaignId::new(),
            workspace_id,
            fields,
            status: CampaignStatus::Draft,
            created_at: now,
            updated_at: now,
        };
        on_write!(&self.backend, pool => {
            sqlx::query(concat!(
                "INSERT INTO campaigns (", campaign_columns!(), ") \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
            ))
            .bind(campaign.id.to_string())
            .bind(workspace_id.to_string())
            .bind(&campaign.fields.name)
            .bind(campaign.fields.channel_id.to_string())
            .bind(&campaign.fields.default_time_zone)
            .bind(&campaign.fields.default_country)
            .bind(serde_json::to_string(&campaign.fields.calling_hours).expect("windows serialize"))
            .bind(i64::from(campaign.fields.max_attempts))
            .bind(campaign.fields.retry_interval.as_str())
            .bind(campaign.fields.opening_template.as_deref())
            .bind(serde_json::to_string(&campaign.fields.opening).expect("an opening serializes"))
            .bind(i64::from(campaign.fields.concurrency))
            .bind(campaign.status.as_str())
            .bind(to_micros(now))
            .bind(to_micros(now))
            .execute(pool)
            .await?;
        });
        Ok(campaign)
    }

    /// Replaces a campaign's client fields; `None` when there is no such campaign.
    pub async fn update_campaign(
        &self,
        workspace_id: WorkspaceId,
        campaign_id: CampaignId,
        fields: CampaignFields,
    ) -> Result<Option<Campaign>, StoreError> {
        let now = self.clock.now();
        on_write!(&self.backend, pool => {
            sqlx::query(
                "UPDATE campaigns SET name = $1, channel_id = $2, default_time_zone = $3, default_country = $4, \
                 calling_hours = $5, max_attempts = $6, retry_interval = $7, opening_template = $8, \
                 opening = $9, concurrency = $10, updated_at = $11 WHERE workspace_id = $12 AND id = $13",
            )
            .bind(&fields.name)
            .bind(fields.channel_id.to_string())
            .bind(&fields.default_time_zone)
            .bind(&fields.default_country)
            .bind(serde_json::to_string(&fields.calling_hours).expect("windows serialize"))
            .bind(i64::from(fields.max_attempts))
            .bind(fields.retry_interval.as_str())
            .bind(fields.opening_template.as_deref())
            .bind(serde_json::to_string(&fields.opening).expect("an opening serializes"))
            .bind(i64::from(fields.concurrency))
            .bind(to_micros(now))
            .bind(workspace_id.to_string())
            .bind(campaign_id.to_string())
            .execute(pool)
            .await?;
        });
        self.campaign(workspace_id, campaign_id).await
    }

    /// Moves a campaign to `status`; `None` when there is no such campaign.
    pub async fn set_campaign_status(
        &self,
        workspace_id: WorkspaceId,
        campaign_id: CampaignId,
        status: CampaignStatus,
    ) -> Result<Option<Campaign>, StoreError> {
        let now = self.clock.now();
        // Only a campaign whose status moves is written (and told of): setting the
        // status it already has changes nothing.
        let moved = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(concat!(
                "UPDATE campaigns SET status = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4 \
                 AND status <> $1 RETURNING ", campaign_columns!()
            ))
            .bind(status.as_str())
            .bind(to_micros(now))
            .bind(workspace_id.to_string())
            .bind(campaign_id.to_string())
            .fetch_optional(&mut *tx)
            .await?;
            let moved = row.as_ref().map(Campaign::from_row).transpose()?;
            if let Some(campaign) = &moved {
                let events: Vec<_> = resources::campaign(campaign, now).into_iter().collect();
                record_events!(tx, &events, now);
            }
            tx.commit().await?;
            moved
        });
        match moved {
            Some(campaign) => Ok(Some(campaign)),
            None => self.campaign(workspace_id, campaign_id).await,
        }
    }

    /// Deletes a campaign that has no leads; `Ok(false)` when it has some (or does not
    /// exist).
    pub async fn delete_campaign(
        &self,
        workspace_id: WorkspaceId,
        campaign_id: CampaignId,
    ) -> Result<bool, StoreError> {
        let deleted = on_write!(&self.backend, pool => {
            sqlx::query(
                "DELETE FROM campaigns WHERE workspace_id = $1 AND id = $2 \
                 AND NOT EXISTS (SELECT 1 FROM leads WHERE leads.campaign_id = campaigns.id)",
            )
            .bind(workspace_id.to_string())
            .bind(campaign_id.to_string())
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(deleted > 0)
    }

    pub async fn campaign(
        &self,
        workspace_id: WorkspaceId,
        campaign_id: CampaignId,
    ) -> Result<Option<Campaign>, StoreError> {
        let sql = concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![
            workspace_id.to_string().into(),
            campaign_id.to_string().into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }

    /// A campaign of any workspace (the seed lead endpoint names only the campaign).
    pub async fn campaign_by_id(
        &self,
        campaign_id: CampaignId,
    ) -> Result<Option<Campaign>, StoreError> {
        let sql = concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE id = $1"
        );
        fetch_optional(&self.backend, sql, vec![campaign_id.to_string().into()]).await
    }

    /// One page of the workspace's campaigns in creation order.
    pub async fn list_campaigns(
        &self,
        workspace_id: WorkspaceId,
        after: Option<CampaignId>,
        limit: u32,
    ) -> Result<Vec<Campaign>, StoreError> {
        let sql = concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await
    }

    /// Every active campaign of every workspace, for the scheduler.
    pub async fn active_campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let sql = concat!(
            "SELECT ",
            campaign_columns!(),
            " FROM campaigns WHERE status = 'ACTIVE' ORDER BY id"
        );
        fetch_all(&self.backend, sql, Vec::new()).await
    }
}
