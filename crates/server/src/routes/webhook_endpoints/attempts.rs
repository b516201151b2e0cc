//! `GET /api/v1/webhook-endpoints/{id}/attempts`: what each delivery attempt to an
//! endpoint got, newest first: how it ended, the answer's status code, how long it
//! took, and the first bytes of the answer (or why there was none).

use axum::extract::{Path, State};
use leadline_core::event::AttemptStatus;
use leadline_store::webhook_endpoints::WebhookAttempt;
use serde::Serialize;
use utoipa::ToSchema;

use super::load;
use crate::auth::Authenticated;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiQuery, timestamp};
use crate::pagination::{Page, PageParams};
use crate::state::AppState;

/// One delivery attempt of one event to the endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAttemptResponse {
    id: String,
    /// The event delivered (its `webhook-id`).
    event_id: String,
    /// `succeeded` when the endpoint answered 2xx; `failed` for any other answer, a
    /// timeout or no connection.
    status: AttemptStatus,
    /// The status code of the answer; `null` when there was none.
    response_code: Option<u16>,
    duration_ms: u64,
    /// The first bytes of the answer, or why there was none.
    response_excerpt: Option<String>,
    attempted_at: String,
}

impl From<WebhookAttempt> for WebhookAttemptResponse {
    fn from(attempt: WebhookAttempt) -> Self {
        Self {
            id: attempt.id,
            event_id: attempt.event_id.to_string(),
            status: attempt.status,
            response_code: attempt.response_code,
            duration_ms: attempt.duration_ms,
            response_excerpt: attempt.response_excerpt,
            attempted_at: timestamp(attempt.attempted_at),
        }
    }
}

/// List the endpoint's delivery attempts, newest first.
#[utoipa::path(get, path = "/api/v1/webhook-endpoints/{id}/attempts", tag = "webhook endpoints",
    params(("id" = String, Path, description = "The endpoint's id"), PageParams),
    responses((status = 200, body = Page<WebhookAttemptResponse>), (status = 404, body = Problem)))]
pub(super) async fn list_attempts(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
    ApiQuery(page): ApiQuery<PageParams>,
) -> ApiResult<axum::Json<Page<WebhookAttemptResponse>>> {
    let limit = page.limit()?;
    let before: Option<uuid::Uuid> = page.cursor()?;
    let endpoint = load(&state, workspace, &id).await?;
    let before = before.map(|id| id.to_string());
    let attempts = state
        .store
        .list_webhook_attempts(workspace, endpoint.id, before.as_deref(), limit)
        .await?;
    Ok(axum::Json(Page::new(
        attempts
            .into_iter()
            .map(WebhookAttemptResponse::from)
            .collect(),
        limit,
        |a| a.id.clone(),
    )))
}
