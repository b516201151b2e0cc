//! `/api/v1/api-keys`: the workspace's API keys. A key is shown once, in the answer that
//! creates it; lists show its display prefix (`ll_` and 8 characters), never the key or
//! its hash. A key may be `read_only` (GET and HEAD only) and may expire. Revoking a
//! key (any of the workspace's, the calling one included) takes effect on every node
//! before the DELETE answers: the next request with it is a 401 wherever it lands.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use leadline_core::{ApiKeyId, ApiKeyScope, FieldErrors};
use leadline_store::api_keys::{ApiKeyRecord, NewApiKey};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiQuery, parse_json, path_id, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
use crate::usecases::settings::api_keys;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A label to tell keys apart (1 to 100 characters).
    #[serde(default)]
    #[schema(schema_with = leadline_core::schema::optional_single_line::<100>)]
    name: Option<String>,
    /// When the key stops working (RFC 3339, in the future); never when absent.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    expires_at: Option<String>,
    /// `full` (default) or `read_only` (GET and HEAD only).
    #[serde(default)]
    scope: Option<ApiKeyScope>,
}

/// A key as lists show it: never the key itself.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyResponse {
    id: String,
    workspace_id: String,
    name: Option<String>,
    /// The key's first characters, e.g. `ll_Ab3dE9xQ`; null for keys created before
    /// prefixes were kept.
    prefix: Option<String>,
    scope: ApiKeyScope,
    created_at: String,
    /// When the key was last used, to the minute.
    last_used_at: Option<String>,
    expires_at: Option<String>,
}

impl From<ApiKeyRecord> for ApiKeyResponse {
    fn from(key: ApiKeyRecord) -> Self {
        Self {
            id: key.id.to_string(),
            workspace_id: key.workspace_id.to_string(),
            name: key.name,
            prefix: key.prefix,
            scope: key.scope,
            created_at: timestamp(key.created_at),
            last_used_at: key.last_used_at.map(timestamp),
            expires_at: key.expires_at.map(timestamp),
        }
    }
}

/// A new key: the only answer that ever shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKeyResponse {
    #[serde(flatten)]
    key: ApiKeyResponse,
    /// The key. Store it now: it is not shown again.
    api_key: String,
}

fn checked(body: CreateApiKeyRequest, now: DateTime<Utc>) -> Result<NewApiKey, FieldErrors> {
    api_keys::checked(body.name, body.expires_at, body.scope, now)
}

/// Create an API key for the workspace; the answer shows the key once.
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api keys",
    request_body(content = Option<CreateApiKeyRequest>, description = "Optional: no body, or `{}`, makes a full-scope key without name or expiry"),
    responses((status = 201, body = CreatedApiKeyResponse), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn create_api_key(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    body: Bytes,
) -> ApiResult<(StatusCode, axum::Json<CreatedApiKeyResponse>)> {
    let request: CreateApiKeyRequest = if body.iter().all(u8::is_ascii_whitespace) {
        CreateApiKeyRequest::default()
    } else {
        parse_json(&body)?
    };
    let new = checked(request, state.store.clock().now())?;
    let (record, key) = state
        .store
        .issue_api_key(workspace, new)
        .await?
        .ok_or_else(|| ApiError::not_found("the workspace was deleted"))?;
    tracing::info!(%workspace, key_id = %record.id, scope = %record.scope, "API key created");
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKeyResponse {
            key: record.into(),
            api_key: key.expose().to_owned(),
        }),
    ))
}

/// List the workspace's keys that are not revoked, oldest first (expired ones too).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api keys", params(PageParams),
    responses((status = 200, body = Page<ApiKeyResponse>), (status = 401, body = Problem),
              (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn list_api_keys(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<ApiKeyResponse>>> {
    let limit = page.limit()?;
    let after: Option<ApiKeyId> = page.cursor()?;
    let keys = state.store.api_keys(workspace, after, limit).await?;
    Ok(axum::Json(Page::new(
        keys.into_iter().map(ApiKeyResponse::from).collect(),
        limit,
        |k| k.id.clone(),
    )))
}

/// Revoke a key of the workspace (the calling key may revoke itself). Answers once no
/// node accepts the key any more.
#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api keys",
    params(("id" = String, Path, description = "The key's id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 429, body = Problem)))]
async fn revoke_api_key(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let key_id: ApiKeyId = path_id("id", &id, "API key")?;
    api_keys::revoke(&state, workspace, key_id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            detail: format!("no API key '{key_id}' in force in this workspace"),
            field: Some("id".to_owned()),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<String> {
        let now = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let parsed: Result<CreateApiKeyRequest, ApiError> = parse_json(body.as_bytes());
        let errors = match parsed {
            Ok(request) => match checked(request, now) {
                Ok(_) => return Vec::new(),
                Err(errors) => errors.into_vec(),
            },
            Err(ApiError::Validation(errors)) => errors,
            Err(other) => panic!("{other:?}"),
        };
        errors.into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn every_field_is_checked_and_named() {
        assert!(fields("{}").is_empty());
        assert!(
            fields(r#"{"name": "CRM", "scope": "read_only", "expiresAt": "2026-02-01T00:00:00Z"}"#)
                .is_empty()
        );
        assert_eq!(
            fields(r#"{"name": " ", "expiresAt": "2025-12-31T23:59:59Z"}"#),
            ["name", "expiresAt"]
        );
        assert_eq!(fields(r#"{"expiresAt": "tomorrow"}"#), ["expiresAt"]);
        assert_eq!(fields(r#"{"scope": "admin"}"#), ["scope"]);
        assert_eq!(fields(r#"{"scopes": "full"}"#), ["scopes"]);
    }
}
