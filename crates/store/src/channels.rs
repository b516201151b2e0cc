//! Channels: what they carry, the adapter and its settings, and the write-only secrets.
//! Secrets are sealed at rest (one envelope per channel, bound to the channel's row;
//! see [`crate::secret_box`]), opened when a channel is read, and leave the store only
//! towards the provider adapters. `Channel`'s `Debug` shows their names, never values.

use chrono::{DateTime, Utc};
use leadline_core::channel::{MessageProviderType, ProviderKind};
use leadline_core::delivery::DeliverySettings;
use leadline_core::{ChannelId, SecretMap, WorkspaceId};
use serde_json::{Map, Value};

use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all, fetch_optional, page_args, to_micros};
use crate::secret_store::Stored;
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
    /// The adapter's credentials, opened from their sealed form.
    pub secrets: SecretMap,
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
    pub secrets: SecretMap,
    pub delivery: DeliverySettings,
}

macro_rules! channel_columns {
    () => {
        "id, workspace_id, name, message_provider_type, provider, sender, settings, secrets, created_at, updated_at, delivery, secrets_key_id"
    };
}

/// A channel as read, its secrets still in their stored form.
pub(crate) struct SealedChannel {
    channel: Channel,
    secrets: Stored,
}

impl FromStoreRow for SealedChannel {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let channel = Channel {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            name: row.text("name")?,
            carries: row.parsed("message_provider_type", MessageProviderType::parse)?,
            provider: row.parsed("provider", ProviderKind::parse)?,
            sender: row.text("sender")?,
            settings: row.json("settings")?,
            secrets: SecretMap::default(),
            delivery: match row.optional_text("delivery")? {
                Some(text) => serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("channels.delivery: {e}")))?,
                None => DeliverySettings::default(),
            },
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        };
        let secrets = Stored {
            text: row.text("secrets")?,
            key_id: row.optional_text("secrets_key_id")?,
        };
        Ok(SealedChannel { channel, secrets })
    }
}

impl Store {
    /// A channel read from its row, its secrets opened.
    pub(crate) fn open_channel(&self, sealed: SealedChannel) -> Result<Channel, StoreError> {
        let mut channel = sealed.channel;
        channel.secrets =
            self.open_channel_secrets(channel.workspace_id, channel.id, &sealed.secrets)?;
        Ok(channel)
    }

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
        let sealed = self.seal_channel_secrets(workspace_id, channel.id, &channel.secrets)?;
        on_write!(&self.backend, pool => {
            sqlx::query(concat!(
                "INSERT INTO channels (", channel_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ))
            .bind(channel.id.to_string())
            .bind(workspace_id.to_string())
            .bind(&channel.name)
            .bind(channel.carries.as_str())
            .bind(channel.provider.as_str())
            .bind(&channel.sender)
            .bind(Value::Object(channel.settings.clone()).to_string())
            .bind(&sealed.text)
            .bind(to_micros(now))
            .bind(to_micros(now))
            .bind(serde_json::to_string(&channel.delivery).expect("delivery settings serialize"))
            .bind(&sealed.key_id)
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

    /// Changes a channel's secrets with `change` and seals them again; `None` when the
    /// channel is not the workspace's. The write is guarded by the stored value it
    /// read, so two changes at once (two webhook-secret rotations, or one and
    /// `leadline secrets rotate`) apply one after the other, never one over the other.
    pub async fn change_channel_secrets<R>(
        &self,
        workspace_id: WorkspaceId,
        channel_id: ChannelId,
        mut change: impl FnMut(&mut SecretMap) -> R,
    ) -> Result<Option<(Channel, R)>, StoreError> {
        let sql = concat!(
            "SELECT ",
            channel_columns!(),
            " FROM channels WHERE id = $1 AND workspace_id = $2"
        );
        loop {
            let args = vec![
                channel_id.to_string().into(),
                workspace_id.to_string().into(),
            ];
            let Some(sealed) = fetch_optional::<SealedChannel>(&self.backend, sql, args).await?
            else {
                return Ok(None);
            };
            let read = sealed.secrets.text.clone();
            let mut channel = self.open_channel(sealed)?;
            let outcome = change(&mut channel.secrets);
            let stored = self.seal_channel_secrets(workspace_id, channel_id, &channel.secrets)?;
            let now = self.clock.now();
            let updated = on_write!(&self.backend, pool => {
                sqlx::query(
                    "UPDATE channels SET secrets = $1, secrets_key_id = $2, updated_at = $3 \
                     WHERE id = $4 AND workspace_id = $5 AND secrets = $6",
                )
                .bind(&stored.text)
                .bind(&stored.key_id)
                .bind(to_micros(now))
                .bind(channel_id.to_string())
                .bind(workspace_id.to_string())
                .bind(&read)
                .execute(pool)
                .await?
                .rows_affected()
            });
            if updated == 1 {
                channel.updated_at = now;
                return Ok(Some((channel, outcome)));
            }
        }
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
        fetch_optional::<SealedChannel>(&self.backend, sql, vec![channel_id.to_string().into()])
            .await?
            .map(|sealed| self.open_channel(sealed))
            .transpose()
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
        fetch_all::<SealedChannel>(&self.backend, sql, page_args(workspace_id, after, limit))
            .await?
            .into_iter()
            .map(|sealed| self.open_channel(sealed))
            .collect()
    }
}
