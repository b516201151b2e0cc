//! Channels: what they carry, the adapter and its settings, and the write-only secrets.
//! Secrets are stored with the row (protect the database as you protect the keys it
//! holds) and leave the store only towards the provider adapters.

use chrono::{DateTime, Utc};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::delivery::DeliverySettings;
use leadline_core::{ChannelId, WorkspaceId};
use serde_json::{Map, Value};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    pub id: ChannelId,
    pub workspace_id: WorkspaceId,
    pub name: String,
    pub carries: MessageProviderType,
    pub provider: ProviderKind,
    /// The from-number, WhatsApp phone-number id or Kannel sender.
    pub sender: String,
    pub settings: Map<String, Value>,
    pub secrets: Map<String, Value>,
    /// How the dispatcher treats the channel: concurrency, rate, uncertain sends.
    pub delivery: DeliverySettings,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewChannel {
    pub name: String,
    pub carries: MessageProviderType,
    pub provider: ProviderKind,
    pub sender: String,
    pub settings: Map<String, Value>,
    pub secrets: Map<String, Value>,
    pub delivery: DeliverySettings,
}

macro_rules! channel_columns {
    () => {
        "id, workspace_id, name, message_provider_type, provider, sender, settings, secrets, created_at, updated_at, delivery"
    };
}

impl FromStoreRow for Channel {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Channel {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            name: row.text("name")?,
            carries: row.parsed("message_provider_type", MessageProviderType::parse)?,
            provider: row.parsed("provider", ProviderKind::parse)?,
            sender: row.text("sender")?,
            settings: row.json("settings")?,
            secrets: row.json("secrets")?,
            delivery: match row.optional_text("delivery")? {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("channels.delivery: {e}")))?,
                None => DeliverySettings::default(),
            },
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Store {
    pub async fn create_channel(
        &self,
        workspace_id: WorkspaceId,
        new: NewChannel,
    ) -> Result<Channel, StoreError> {
        let now = self.clock.now();
        let channel = Channel {
            id: ChannelId::new(),
            workspace_id,
            name: new.name,
            carries: new.carries,
            provider: new.provider,
            sender: new.sender,
            settings: new.settings,
            secrets: new.secrets,
            delivery: new.delivery,
            created_at: now,
            updated_at: now,
        };
        on_write!(&self.backend, pool => {
            sqlx::query(concat!(
                "INSERT INTO channels (", channel_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            ))
            .bind(channel.id.to_string())
            .bind(workspace_id.to_string())
            .bind(&channel.name)
            .bind(channel.carries.as_str())
            .bind(channel.provider.as_str())
            .bind(&channel.sender)
            .bind(Value::Object(channel.settings.clone()).to_string())
            .bind(Value::Object(channel.secrets.clone()).to_string())
            .bind(to_micros(now))
            .bind(to_micros(now))
            .bind(serde_json::to_string(&channel.delivery).expect("delivery settings serialize"))
            .execute(pool)
            .await?;
        });
        Ok(channel)
    }

    /// Replaces a channel's delivery settings; `None` when the channel is not the
    /// workspace's.
    pub async fn set_channel_delivery(
        &self,
        workspace_id: WorkspaceId,
        channel_id: ChannelId,
        delivery: DeliverySettings,
    ) -> Result<Option<Channel>, StoreError> {
        let now = to_micros(self.clock.now());
        let updated = on_write!(&self.backend, pool => {
            sqlx::query("UPDATE channels SET delivery = $1, updated_at = $2 WHERE workspace_id = $3 AND id = $4")
                .bind(serde_json::to_string(&delivery).expect("delivery settings serialize"))
                .bind(now)
                .bind(workspace_id.to_string())
                .bind(channel_id.to_string())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if updated == 0 {
            return Ok(None);
        }
        self.channel(workspace_id, channel_id).await
    }

    /// A channel of the workspace.
    pub async fn channel(
        &self,
        workspace_id: WorkspaceId,
        channel_id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        Ok(self
            .channel_by_id(channel_id)
            .await?
            .filter(|channel| channel.workspace_id == workspace_id))
    }

    /// A channel of any workspace: provider webhooks name only the channel.
    pub async fn channel_by_id(
        &self,
        channel_id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        let sql = concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels WHERE id = $1"
        );
        fetch_optional(&self.backend, sql, vec![channel_id.to_string().into()]).await
    }

    /// One page of the workspace's channels in creation order.
    pub async fn list_channels(
        &self,
        workspace_id: WorkspaceId,
        after: Option<ChannelId>,
        limit: u32,
    ) -> Result<Vec<Channel>, StoreError> {
        let sql = concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels WHERE workspace_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        );
        fetch_all(&self.backend, sql, page_args(workspace_id, after, limit)).await
    }
}
