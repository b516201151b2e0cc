//! Re-sealing webhook endpoints' signing secrets under the primary key, for `leadline
//! secrets rotate` ([`crate::secrets_rotation`]). Both the current secret and the
//! previous one of a rotation are re-sealed, the previous one whether or not its
//! overlap has ended, so that no row keeps needing a key the rotation is about to drop.
//!
//! The write is a compare-and-swap on both envelopes read: an endpoint whose secret was
//! rotated meanwhile (its new secret already under the primary key, its old one moved
//! to `previous_secret` under the old key) is left for the next pass, which finds it
//! again because its previous secret is still not under the primary key.

use leadline_core::{WebhookEndpointId, WorkspaceId};

use super::secret_at;
use crate::backend::on_write;
use crate::rows::{FromStoreRow, StoreRow, fetch_all};
use crate::secret_box::SealedAt;
use crate::secrets_rotation::Resealed;
use crate::{Store, StoreError};

/// An envelope as stored with the id of the key it is sealed under.
struct Envelope {
    text: String,
    key_id: String,
}

struct EndpointSecretsRow {
    id: WebhookEndpointId,
    workspace_id: WorkspaceId,
    secret: Envelope,
    previous: Option<Envelope>,
}

impl FromStoreRow for EndpointSecretsRow {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let previous = match (
            row.optional_text("previous_secret")?,
            row.optional_text("previous_secret_key_id")?,
        ) {
            (Some(text), Some(key_id)) => Some(Envelope { text, key_id }),
            _ => None,
        };
        Ok(Self {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            secret: Envelope {
                text: row.text("secret")?,
                key_id: row.text("secret_key_id")?,
            },
            previous,
        })
    }
}

const NOT_PRIMARY: &str = "SELECT id, workspace_id, secret, secret_key_id, previous_secret, \
     previous_secret_key_id FROM webhook_endpoints \
     WHERE (secret_key_id <> $1 OR (previous_secret IS NOT NULL AND previous_secret_key_id <> $1)) \
     AND id > $2 ORDER BY id LIMIT $3";

const SWAP: &str = "UPDATE webhook_endpoints SET secret = $1, secret_key_id = $2, \
     previous_secret = $3, previous_secret_key_id = $4 \
     WHERE id = $5 AND secret = $6 AND COALESCE(previous_secret, '') = $7";

impl Store {
    /// Re-seals the next `limit` endpoints after `cursor` whose secrets are not all
    /// under `primary`, and moves the cursor.
    pub(crate) async fn reseal_webhook_secrets(
        &self,
        primary: &str,
        cursor: &mut String,
        limit: u32,
    ) -> Result<Resealed, StoreError> {
        let rows = fetch_all::<EndpointSecretsRow>(
            &self.backend,
            NOT_PRIMARY,
            vec![
                primary.to_owned().into(),
                cursor.clone().into(),
                i64::from(limit).into(),
            ],
        )
        .await?;
        let mut pass = Resealed::default();
        for row in rows {
            pass.seen += 1;
            *cursor = row.id.to_string();
            let at = secret_at(row.workspace_id, row.id);
            let secret = self.reseal_envelope(&row.secret, primary, &at)?;
            let previous = row
                .previous
                .as_ref()
                .map(|previous| self.reseal_envelope(previous, primary, &at))
                .transpose()?;
            let read_previous = row
                .previous
                .as_ref()
                .map(|previous| previous.text.clone())
                .unwrap_or_default();
            let swapped = on_write!(&self.backend, pool => {
                sqlx::query(SWAP)
                    .bind(&secret.text)
                    .bind(&secret.key_id)
                    .bind(previous.as_ref().map(|p| p.text.clone()))
                    .bind(previous.as_ref().map(|p| p.key_id.clone()))
                    .bind(row.id.to_string())
                    .bind(&row.secret.text)
                    .bind(&read_previous)
                    .execute(pool)
                    .await?
                    .rows_affected()
            });
            pass.resealed += swapped;
        }
        Ok(pass)
    }

    /// The envelope as it is when already under `primary`, else opened and sealed again.
    fn reseal_envelope(
        &self,
        envelope: &Envelope,
        primary: &str,
        at: &SealedAt,
    ) -> Result<Envelope, StoreError> {
        if envelope.key_id == primary {
            return Ok(Envelope {
                text: envelope.text.clone(),
                key_id: envelope.key_id.clone(),
            });
        }
        let plaintext = self.open_sealed(&envelope.text, at)?;
        let sealed = self.seal(&plaintext, at)?;
        Ok(Envelope {
            text: sealed.envelope,
            key_id: sealed.key_id,
        })
    }
}
