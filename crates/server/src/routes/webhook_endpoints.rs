//! `/api/v1/webhook-endpoints`: where a workspace's events are delivered. An endpoint
//! has a URL (allowed by the outbound guard, checked when saved and again at every
//! connection), the event types it receives (all by default), whether it is enabled,
//! and an optional rate limit. Its signing secret (`whsec_…`) is shown once, when the
//! endpoint is created or its secret rotated; answers otherwise never hold it. After a
//! rotation the previous secret keeps signing beside the new one for 24 hours, so a
//! receiver can move to the new secret without refusing a delivery.
//!
//! `…/{id}/attempts` lists the endpoint's delivery attempts, newest first.

mod attempts;
mod fields;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use leadline_core::event::signature::WebhookSecret;
use leadline_core::views::WebhookEndpointView;
use leadline_core::{WebhookEndpointId, WorkspaceId};
use leadline_store::webhook_endpoints::WebhookEndpoint;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiQuery, path_id};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;
pub use fields::{CreateWebhookEndpointRequest, UpdateWebhookEndpointRequest};

pub use crate::usecases::settings::webhook_endpoints::PREVIOUS_SECRET_OVERLAP;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_endpoint, list_endpoints))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(attempts::list_attempts))
}

/// An endpoint with its signing secret: the answer of a creation or a rotation, the
/// only answers that show the secret.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    endpoint: WebhookEndpointView,
    /// The signing secret, `whsec_` + base64 (Standard Webhooks). Store it now: it is
    /// not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
}

impl WebhookEndpointWithSecret {
    fn new(endpoint: &WebhookEndpoint, secret: &WebhookSecret) -> Self {
        Self {
            endpoint: WebhookEndpointView::from(endpoint),
            secret: secret.expose().expose().to_owned(),
        }
    }
}

/// The endpoint `id` of the workspace, or 404 naming `id`.
async fn load(state: &AppState, workspace: WorkspaceId, id: &str) -> ApiResult<WebhookEndpoint> {
    let endpoint_id: WebhookEndpointId = path_id("id", id, "webhook endpoint")?;
    state
        .store
        .webhook_endpoint(workspace, endpoint_id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound {
        detail: format!("no webhook endpoint '{id}' in this workspace"),
        field: Some("id".to_owned()),
    }
}

/// Create a webhook endpoint. The answer shows its signing secret, this once.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints", tag = "webhook endpoints",
    request_body = CreateWebhookEndpointRequest,
    responses((status = 201, body = WebhookEndpointWithSecret), (status = 422, body = Problem)))]
async fn create_endpoint(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(body): ApiJson<CreateWebhookEndpointRequest>,
) -> ApiResult<(StatusCode, axum::Json<WebhookEndpointWithSecret>)> {
    let new = body.checked(state.providers.outbound()).await?;
    let (endpoint, secret) = state.store.create_webhook_endpoint(workspace, &new).await?;
    tracing::info!(%workspace, endpoint = %endpoint.id, "webhook endpoint created");
    Ok((
        StatusCode::CREATED,
        axum::Json(WebhookEndpointWithSecret::new(&endpoint, &secret)),
    ))
}

/// List the workspace's webhook endpoints, oldest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/webhook-endpoints", tag = "webhook endpoints",
    params(PageParams),
    responses((status = 200, body = Page<WebhookEndpointView>)))]
async fn list_endpoints(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<WebhookEndpointView>>> {
    let limit = page.limit()?;
    let after: Option<WebhookEndpointId> = page.cursor()?;
    let endpoints = state
        .store
        .list_webhook_endpoints(workspace, after, limit)
        .await?;
    Ok(axum::Json(Page::new(
        endpoints.iter().map(WebhookEndpointView::from).collect(),
        limit,
        |e| e.id.clone(),
    )))
}

/// Fetch a webhook endpoint (never its secret).
#[utoipa::path(get, path = "/api/v1/webhook-endpoints/{id}", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses((status = 200, body = WebhookEndpointView), (status = 404, body = Problem)))]
async fn get_endpoint(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookEndpointView>> {
    let endpoint = load(&state, workspace, &id).await?;
    Ok(axum::Json(WebhookEndpointView::from(&endpoint)))
}

/// Change a webhook endpoint's URL, description, event types, whether it is enabled,
/// or its rate limit.
#[utoipa::path(patch, path = "/api/v1/webhook-endpoints/{id}", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The endpoint's id")),
    request_body = UpdateWebhookEndpointRequest,
    responses((status = 200, body = WebhookEndpointView), (status = 404, body = Problem),
              (status = 422, body = Problem)))]
async fn update_endpoint(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateWebhookEndpointRequest>,
) -> ApiResult<axum::Json<WebhookEndpointView>> {
    let endpoint_id: WebhookEndpointId = path_id("id", &id, "webhook endpoint")?;
    let patch = body.checked(state.providers.outbound()).await?;
    let endpoint = state
        .store
        .update_webhook_endpoint(workspace, endpoint_id, &patch)
        .await?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(%workspace, endpoint = %endpoint.id, enabled = endpoint.enabled, "webhook endpoint changed");
    Ok(axum::Json(WebhookEndpointView::from(&endpoint)))
}

/// Delete a webhook endpoint, its delivery attempts and the deliveries still queued
/// for it.
#[utoipa::path(delete, path = "/api/v1/webhook-endpoints/{id}", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem)))]
async fn delete_endpoint(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let endpoint_id: WebhookEndpointId = path_id("id", &id, "webhook endpoint")?;
    if !state
        .store
        .delete_webhook_endpoint(workspace, endpoint_id)
        .await?
    {
        return Err(not_found(&id));
    }
    tracing::info!(%workspace, endpoint = %endpoint_id, "webhook endpoint deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// Give the endpoint a new signing secret, shown in this answer only. The previous
/// secret keeps signing beside it until `previousSecretExpiresAt` (24 hours), so each
/// delivery meanwhile carries two `v1,` signatures.
#[utoipa::path(post, path = "/api/v1/webhook-endpoints/{id}/rotate-secret", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The endpoint's id")),
    responses((status = 200, body = WebhookEndpointWithSecret), (status = 404, body = Problem)))]
async fn rotate_secret(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WebhookEndpointWithSecret>> {
    let endpoint_id: WebhookEndpointId = path_id("id", &id, "webhook endpoint")?;
    let (endpoint, secret) = state
        .store
        .rotate_webhook_secret(workspace, endpoint_id, PREVIOUS_SECRET_OVERLAP)
        .await?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(%workspace, endpoint = %endpoint.id, "webhook endpoint secret rotated");
    Ok(axum::Json(WebhookEndpointWithSecret::new(
        &endpoint, &secret,
    )))
}
