//! What the dispatcher needs to deliver to many endpoints at once: each endpoint with
//! the secrets that sign now, read in one statement for a whole round of leased jobs.
//! Read at every round rather than cached, so an endpoint disabled, deleted or given a
//! new secret is seen by the next delivery on every node.

use std::collections::HashMap;

use leadline_core::WebhookEndpointId;
use leadline_core::event::signature::WebhookSecret;

use super::{SealedSecrets, SigningSecrets, WebhookEndpoint, secret_at};
use crate::backend::on_read;
use crate::rows::FromStoreRow;
use crate::{Backend, Store, StoreError};

macro_rules! targets_by_ids {
    ($list:literal) => {
        concat!(
            "SELECT id, workspace_id, url, description, event_types, enabled, rate_limit, \
             disabled_reason, failing_since, previous_secret_until, created_at, updated_at, \
             secret, previous_secret FROM webhook_endpoints WHERE ",
            $list
        )
    };
}

const SQLITE: &str = targets_by_ids!("id IN (SELECT value FROM json_each($1))");
const POSTGRES: &str =
    targets_by_ids!("id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))");

impl Store {
    /// The endpoints named, each with the secrets that sign its deliveries now (the
    /// previous one only while its overlap lasts). An endpoint that no longer exists is
    /// absent.
    pub async fn webhook_delivery_targets(
        &self,
        ids: &[WebhookEndpointId],
    ) -> Result<HashMap<WebhookEndpointId, (WebhookEndpoint, SigningSecrets)>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list: Vec<String> = ids.iter().map(ToString::to_string).collect();
        let list = serde_json::to_string(&list).expect("ids serialize");
        let sql = match &self.backend {
            Backend::Sqlite { .. } => SQLITE,
            Backend::Postgres(_) => POSTGRES,
        };
        let rows: Vec<(WebhookEndpoint, SealedSecrets)> = on_read!(&self.backend, pool => {
            sqlx::query(sql)
                .bind(list)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| Ok((WebhookEndpoint::from_row(row)?, SealedSecrets::from_row(row)?)))
                .collect::<Result<_, StoreError>>()?
        });
        let now = self.clock.now();
        rows.into_iter()
            .map(|(endpoint, sealed)| {
                let secrets = self.open_signing_secrets(endpoint.id, &sealed, now)?;
                Ok((endpoint.id, (endpoint, secrets)))
            })
            .collect()
    }

    /// Opens an endpoint's sealed secrets: the current one, and the previous one while
    /// its overlap lasts at `now`.
    pub(super) fn open_signing_secrets(
        &self,
        id: WebhookEndpointId,
        sealed: &SealedSecrets,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<SigningSecrets, StoreError> {
        let at = secret_at(sealed.workspace_id, id);
        let open = |envelope: &str| -> Result<WebhookSecret, StoreError> {
            let bytes = self.open_sealed(envelope, &at)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| StoreError::Corrupt(format!("{at}: not UTF-8")))?;
            WebhookSecret::parse(&text).map_err(|e| StoreError::Corrupt(format!("{at}: {e}")))
        };
        let previous = match (&sealed.previous, sealed.previous_until) {
            (Some(envelope), Some(until)) if until > now => Some(open(envelope)?),
            _ => None,
        };
        Ok(SigningSecrets {
            current: open(&sealed.secret)?,
            previous,
        })
    }
}
