//! Authentication: every request under `/api/v1`, `/bridge` and the other vendor paths
//! carries a key in `x-api-key` or `Authorization: Bearer`. Keys are looked up by their
//! SHA-256; hits are cached for a minute so a busy client costs no database read per
//! request. The cache can always be rebuilt from the store, and a node that has never
//! seen a key simply asks the store.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use leadline_core::{ApiKey, ApiKeyHash, WorkspaceId};

use crate::error::ApiError;
use crate::state::AppState;

/// How long a verified key is trusted without asking the store again.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(60);

pub type KeyCache = moka::sync::Cache<ApiKeyHash, WorkspaceId>;

pub fn key_cache() -> KeyCache {
    moka::sync::Cache::builder()
        .max_capacity(100_000)
        .time_to_live(KEY_CACHE_TTL)
        .build()
}

/// The workspace of the request's API key.
#[derive(Debug, Clone, Copy)]
pub struct Authenticated(pub WorkspaceId);

impl Authenticated {
    /// Checks that a workspace named in the path is the key's own: 403 otherwise. A
    /// value that is not a UUID cannot be the key's workspace either.
    pub fn require_workspace(&self, in_path: &str) -> Result<WorkspaceId, ApiError> {
        match in_path.parse::<WorkspaceId>() {
            Ok(id) if id == self.0 => Ok(id),
            _ => Err(ApiError::Forbidden(format!(
                "this API key belongs to workspace {}, not '{in_path}'",
                self.0
            ))),
        }
    }
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        workspace_of_key(parts, state).await.map(Authenticated)
    }
}

/// The workspace of the key the request presents: 401 when there is none or it
/// matches nothing. Shared by the [`Authenticated`] extractor and middleware that must
/// know the workspace before the handler runs (the Idempotency-Key layer).
pub(crate) async fn workspace_of_key(
    parts: &Parts,
    state: &AppState,
) -> Result<WorkspaceId, ApiError> {
    let secret = presented_key(parts).ok_or(ApiError::Unauthorized)?;
    let hash = ApiKey::from_client(secret).hash();
    if let Some(workspace) = state.keys.get(&hash) {
        return Ok(workspace);
    }
    let workspace = state
        .store
        .workspace_for_key(&hash)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    state.keys.insert(hash, workspace);
    Ok(workspace)
}

fn presented_key(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get("x-api-key") {
        return value.to_str().ok().filter(|v| !v.trim().is_empty());
    }
    let authorization = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = authorization.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then_some(token)
}
