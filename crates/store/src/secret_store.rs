//! How the store seals and opens the secrets it keeps: a channel's credentials (the
//! whole map, one envelope per channel) and a workspace's LLM API key. Each sealed
//! value is bound to its row: channel secrets to `channels.secrets:{workspace}:{channel}`,
//! the LLM key to `workspaces.llm_api_key:{workspace}`.
//!
//! A row whose key-id column is NULL holds a legacy clear-text value (written before
//! migration 0007); it is read as it is until the start-up sweep
//! ([`crate::secrets_rotation`]) seals it. Without keys the store keeps only empty
//! channel secrets, in clear (there is nothing to protect), and refuses every other
//! secret with [`SecretError::NoKey`].

use leadline_core::{ChannelId, Secret, SecretMap, WorkspaceId};
use serde_json::{Map, Value};

use crate::secret_box::{Sealed, SealedAt, SecretError};
use crate::{SecretKeys, Store, StoreError};

/// A secret as stored: the envelope (or legacy clear text) and the id of its key.
/// `Debug` shows the key id only: the text may be a legacy clear value.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Stored {
    pub text: String,
    pub key_id: Option<String>,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("key_id", &self.key_id)
            .field("bytes", &self.text.len())
            .finish()
    }
}

impl From<Sealed> for Stored {
    fn from(sealed: Sealed) -> Self {
        Self {
            text: sealed.envelope,
            key_id: Some(sealed.key_id),
        }
    }
}

pub(crate) fn channel_secrets_at(workspace_id: WorkspaceId, channel_id: ChannelId) -> SealedAt {
    SealedAt::new(
        "channels.secrets",
        &[&workspace_id.to_string(), &channel_id.to_string()],
    )
}

pub(crate) fn llm_key_at(workspace_id: WorkspaceId) -> SealedAt {
    SealedAt::new("workspaces.llm_api_key", &[&workspace_id.to_string()])
}

impl Store {
    /// The keys this store seals with, if it has any.
    pub fn secret_keys(&self) -> Option<&SecretKeys> {
        self.secret_keys.as_ref()
    }

    /// Seals `plaintext` for `at` under the primary key.
    pub(crate) fn seal(&self, plaintext: &[u8], at: &SealedAt) -> Result<Sealed, StoreError> {
        let keys = self.secret_keys.as_ref().ok_or(SecretError::NoKey)?;
        Ok(keys.ring_for_sealing().seal(plaintext, at))
    }

    /// Opens an envelope stored at `at`. A value sealed under a key this process does
    /// not have makes it read its key file again once (a rotation may have added it).
    pub(crate) fn open_sealed(&self, envelope: &str, at: &SealedAt) -> Result<Vec<u8>, StoreError> {
        let keys = self.secret_keys.as_ref().ok_or(SecretError::NoKey)?;
        match keys.ring().open(envelope, at) {
            Err(SecretError::UnknownKey { kid, .. }) if keys.reload_for(&kid) => {
                Ok(keys.ring().open(envelope, at)?)
            }
            opened => Ok(opened?),
        }
    }

    /// The stored form of a channel's secrets.
    pub(crate) fn seal_channel_secrets(
        &self,
        workspace_id: WorkspaceId,
        channel_id: ChannelId,
        secrets: &SecretMap,
    ) -> Result<Stored, StoreError> {
        let json = Value::Object(secrets.expose().clone()).to_string();
        if self.secret_keys.is_none() && secrets.is_empty() {
            return Ok(Stored {
                text: json,
                key_id: None,
            });
        }
        let at = channel_secrets_at(workspace_id, channel_id);
        Ok(self.seal(json.as_bytes(), &at)?.into())
    }

    /// A channel's secrets from their stored form.
    pub(crate) fn open_channel_secrets(
        &self,
        workspace_id: WorkspaceId,
        channel_id: ChannelId,
        stored: &Stored,
    ) -> Result<SecretMap, StoreError> {
        let at = channel_secrets_at(workspace_id, channel_id);
        let json = match &stored.key_id {
            None => stored.text.clone().into_bytes(),
            Some(_) => self.open_sealed(&stored.text, &at)?,
        };
        let map: Map<String, Value> =
            serde_json::from_slice(&json).map_err(|e| StoreError::Corrupt(format!("{at}: {e}")))?;
        Ok(SecretMap::new(map))
    }

    /// The stored form of a workspace's LLM key.
    pub(crate) fn seal_llm_key(
        &self,
        workspace_id: WorkspaceId,
        key: &Secret,
    ) -> Result<Stored, StoreError> {
        Ok(self
            .seal(key.expose().as_bytes(), &llm_key_at(workspace_id))?
            .into())
    }

    /// A workspace's LLM key from its stored form.
    pub(crate) fn open_llm_key(
        &self,
        workspace_id: WorkspaceId,
        stored: &Stored,
    ) -> Result<Secret, StoreError> {
        let at = llm_key_at(workspace_id);
        let bytes = match &stored.key_id {
            None => stored.text.clone().into_bytes(),
            Some(_) => self.open_sealed(&stored.text, &at)?,
        };
        String::from_utf8(bytes)
            .map(Secret::new)
            .map_err(|_| StoreError::Corrupt(format!("{at}: not UTF-8")))
    }
}
