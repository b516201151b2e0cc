//! API keys: the fields of a new key (a name, an expiry in the future, a scope) and
//! revoking one so that no node accepts it once the revocation returns. A key itself
//! is shown once, by whoever created it; lists hold its display prefix only.

use std::time::Instant;

use chrono::{DateTime, Utc};
use leadline_core::api_key::{expiry, key_name};
use leadline_core::{ApiKeyId, ApiKeyScope, FieldErrors, WorkspaceId};
use leadline_store::StoreError;
use leadline_store::api_keys::{ApiKeyRecord, NewApiKey};

use crate::state::AppState;

/// Checks a new key's `name`, `expiresAt` (RFC 3339, after `now`) and scope.
pub fn checked(
    name: Option<String>,
    expires_at: Option<String>,
    scope: Option<ApiKeyScope>,
    now: DateTime<Utc>,
) -> Result<NewApiKey, FieldErrors> {
    let mut errors = FieldErrors::new();
    let name = name.and_then(|name| errors.check(key_name("name", &name)));
    let expires_at = expires_at.and_then(|raw| match DateTime::parse_from_rfc3339(raw.trim()) {
        Ok(at) => errors.check(expiry("expiresAt", at.with_timezone(&Utc), now)),
        Err(_) => {
            errors.push(
                "expiresAt",
                "must be an RFC 3339 date-time, e.g. 2027-01-31T17:00:00Z",
            );
            None
        }
    });
    errors.finish(NewApiKey {
        name,
        scope,
        expires_at,
    })
}

/// Revokes a key of the workspace and returns once no node accepts it any more;
/// `None` when no such key is in force.
pub async fn revoke(
    state: &AppState,
    workspace: WorkspaceId,
    key_id: ApiKeyId,
) -> Result<Option<ApiKeyRecord>, StoreError> {
    let Some(revoked) = state.store.revoke_api_key(Some(workspace), key_id).await? else {
        return Ok(None);
    };
    let committed = Instant::now();
    tracing::info!(%workspace, key_id = %revoked.id, "API key revoked");
    state
        .keys
        .wait_until_every_node_knows(&state.store, committed)
        .await;
    Ok(Some(revoked))
}
