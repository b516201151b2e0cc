//! `/api/v1/settings/number-pool`: the workspace's rules for its number pool (warm-up
//! ramp, caps, send rate, sticky window, health thresholds). Every field has a default,
//! so a PUT of `{}` restores them all; unknown fields are refused by name, so a typo
//! never silently leaves a cap at its default.
//!
//! Also home of [`StrictJson`], the body extractor of the number pool's routes.

use axum::extract::State;
use leadline_core::numbers::NumberPoolSettings;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_number_settings, put_number_settings))
}

/// The workspace's pool settings (the defaults until they are set).
#[utoipa::path(get, path = "/api/v1/settings/number-pool", tag = "phone numbers",
    responses((status = 200, body = NumberPoolSettings)))]
async fn get_number_settings(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
) -> ApiResult<axum::Json<NumberPoolSettings>> {
    Ok(axum::Json(
        state.store.number_pool_settings(workspace).await?,
    ))
}

/// Replace the workspace's pool settings; absent fields take their defaults.
#[utoipa::path(put, path = "/api/v1/settings/number-pool", tag = "phone numbers",
    request_body = NumberPoolSettings,
    responses((status = 200, body = NumberPoolSettings), (status = 422, body = Problem)))]
async fn put_number_settings(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    ApiJson(mut settings): ApiJson<NumberPoolSettings>,
) -> ApiResult<axum::Json<NumberPoolSettings>> {
    settings.validate()?;
    // Stored by its IANA name, as campaigns keep theirs.
    settings.time_zone = settings.zone().name().to_owned();
    if !state
        .store
        .set_number_pool_settings(workspace, &settings)
        .await?
    {
        return Err(ApiError::not_found("the workspace was deleted"));
    }
    tracing::info!(%workspace, "number pool settings replaced");
    state.numbers.invalidate(workspace);
    Ok(axum::Json(settings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::parse_json;

    fn fields_of(body: &str) -> Vec<String> {
        match parse_json::<NumberPoolSettings>(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn unknown_fields_are_named_by_their_own_path() {
        assert_eq!(fields_of(r#"{"steadyCap": 5}"#), ["steadyCap"]);
        assert_eq!(
            fields_of(r#"{"health": {"minSampel": 5}}"#),
            ["health.minSampel"]
        );
        assert_eq!(fields_of(r#"{"steadyDailyCap": "x"}"#), ["steadyDailyCap"]);
    }
}
