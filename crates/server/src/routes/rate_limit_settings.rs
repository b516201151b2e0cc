//! `/api/v1/settings/rate-limits`: how fast each API key of the workspace may send
//! requests (a token bucket: `requestsPerSecond` sustained, `burst` at once; defaults
//! 100 and 200). Every field has a default, so a PUT of `{}` restores them; unknown
//! fields are refused by name. A change reaches every node within a poll of the key
//! generation (100 ms) and this node at once; a key's bucket starts full under new
//! settings.

use axum::extract::State;
use leadline_core::rate_limit::RateLimitSettings;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_rate_limits, put_rate_limits))
}

/// The workspace's per-key rate limits (the defaults until they are set).
#[utoipa::path(get, path = "/api/v1/settings/rate-limits", tag = "api keys",
    responses((status = 200, body = RateLimitSettings), (status = 401, body = Problem),
              (status = 429, body = Problem)))]
async fn get_rate_limits(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
) -> ApiResult<axum::Json<RateLimitSettings>> {
    Ok(axum::Json(
        state.store.rate_limit_settings(workspace).await?,
    ))
}

/// Replace the workspace's per-key rate limits; absent fields take their defaults.
#[utoipa::path(put, path = "/api/v1/settings/rate-limits", tag = "api keys",
    request_body = RateLimitSettings,
    responses((status = 200, body = RateLimitSettings), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 422, body = Problem), (status = 429, body = Problem)))]
async fn put_rate_limits(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(settings): ApiJson<RateLimitSettings>,
) -> ApiResult<axum::Json<RateLimitSettings>> {
    settings.validate()?;
    if !state
        .store
        .set_rate_limit_settings(workspace, &settings)
        .await?
    {
        return Err(ApiError::not_found("the workspace was deleted"));
    }
    tracing::info!(%workspace, requests_per_second = settings.requests_per_second,
        burst = settings.burst, "rate limits replaced");
    // This node applies them from the next request; the others within their next poll.
    if let Err(error) = state.keys.poll(&state.store).await {
        tracing::debug!(%error, "could not read the key generation after a change of limits");
    }
    Ok(axum::Json(settings))
}
