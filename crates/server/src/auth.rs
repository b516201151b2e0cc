//! Authentication. Console logins check passwords ([`password`]); the rest of this
//! module is API keys: every request under `/api/v1`, `/bridge` and the other vendor paths
//! carries a key in `x-api-key` or `Authorization: Bearer`. Keys are looked up by their
//! SHA-256 and remembered by each node ([`keys`]): verified keys for a minute, refused
//! ones too, and a revocation reaches every node before the revoking request answers.
//!
//! A key in force authenticates its workspace unless it is expired (401) or it is
//! `read_only` and the method is not GET or HEAD (403). The request guard
//! ([`crate::rate_limit::guard`]) checks the key once, before rate limiting, and leaves
//! the [`KeyCheck`] in the request for the [`Authenticated`] extractor; without the
//! guard the extractor checks the key itself.

pub mod keys;
pub mod password;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use leadline_core::{ApiKey, ApiKeyHash, WorkspaceId};
use leadline_store::api_keys::KeyGrant;

pub use keys::{KEY_CACHE_TTL, KeyCache, KeyCheck, key_cache};

use crate::error::ApiError;
use crate::state::AppState;

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

/// The workspace of the key the request presents: 401 when there is none or it is not
/// in force, 403 when its scope does not allow the method. Shared by the
/// [`Authenticated`] extractor and middleware that must know the workspace before the
/// handler runs (the Idempotency-Key layer).
pub(crate) async fn workspace_of_key(
    parts: &Parts,
    state: &AppState,
) -> Result<WorkspaceId, ApiError> {
    authorize(parts, state)
        .await
        .map(|grant| grant.workspace_id)
}

async fn authorize(parts: &Parts, state: &AppState) -> Result<std::sync::Arc<KeyGrant>, ApiError> {
    let check = match parts.extensions.get::<KeyCheck>() {
        Some(check) => check.clone(),
        None => check_key(parts, state).await?,
    };
    match check {
        KeyCheck::Granted(grant) if grant.scope.permits(parts.method.as_str()) => Ok(grant),
        KeyCheck::Granted(_) => Err(read_only_refusal(parts.method.as_str())),
        KeyCheck::Absent | KeyCheck::Refused => Err(ApiError::Unauthorized),
    }
}

/// The check of the request's key from the node's memory or the store, recording the
/// key's use when it is in force.
pub(crate) async fn check_key(parts: &Parts, state: &AppState) -> Result<KeyCheck, ApiError> {
    let Some(hash) = presented_hash(parts) else {
        return Ok(KeyCheck::Absent);
    };
    let now = state.store.clock().now();
    let check = match state.keys.cached(&hash, now) {
        Some(check) => check,
        None => state.keys.load(&state.store, &hash, now).await?,
    };
    if let KeyCheck::Granted(grant) = &check {
        state.keys.note_use(&state.store, grant, now).await;
    }
    Ok(check)
}

/// The 403 of a read-only key that tried to change something.
pub fn read_only_refusal(method: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "this API key is read_only: it may only GET and HEAD, not {method}; use a key with scope full"
    ))
}

/// The hash of the key the request presents, if it presents one.
pub(crate) fn presented_hash(parts: &Parts) -> Option<ApiKeyHash> {
    presented_key(parts).map(|secret| ApiKey::from_client(secret).hash())
}

fn presented_key(parts: &Parts) -> Option<&str> {
    if let Some(value) = parts.headers.get("x-api-key") {
        return value.to_str().ok().filter(|v| !v.trim().is_empty());
    }
    let authorization = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = authorization.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then_some(token)
}
