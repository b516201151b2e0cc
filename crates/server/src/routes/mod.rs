//! The HTTP surface: every router, the OpenAPI document generated from the handlers'
//! annotations, and the shared layers (body limit, metrics, tracing, panics, fallbacks).

pub mod agent_scripts;
pub mod agent_settings;
pub mod api_keys;
pub mod bridge_contacts;
pub mod campaigns;
pub mod channel_webhook_secret;
pub mod channels;
pub mod contacts;
pub mod conversation_control;
pub mod conversations;
pub mod custom_attributes;
pub mod dnc;
pub mod events;
pub mod leadconnector;
pub mod leads;
pub mod leadscout;
pub mod message_resolution;
pub mod number_settings;
pub mod number_warmup;
pub mod openapi;
pub mod ops;
pub mod opt_outs;
pub mod outgoing_numbers;
pub mod phone_numbers;
pub mod rate_limit_settings;
pub mod sandbox;
pub mod sources;
pub mod teams;
pub mod templates;
pub mod users;
pub mod webhook_endpoints;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_scalar::{Scalar, Servable};

use crate::error::ApiError;
use crate::extract::BODY_LIMIT;
use crate::state::AppState;
use crate::telemetry;

/// The routers and the OpenAPI document describing exactly them.
pub fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(ops::router())
        .merge(users::router())
        .merge(custom_attributes::router())
        .merge(contacts::router())
        .merge(bridge_contacts::router())
        .merge(channels::router())
        .merge(channel_webhook_secret::router())
        .merge(templates::router())
        .merge(conversations::router())
        .merge(conversation_control::router())
        .merge(message_resolution::router())
        .merge(leadscout::router())
        .merge(leadconnector::router())
        .merge(sandbox::router())
        .merge(webhooks::router())
        .merge(campaigns::router())
        .merge(leads::router())
        .merge(dnc::router())
        .merge(opt_outs::router())
        .merge(phone_numbers::router())
        .merge(teams::router())
        .merge(sources::router())
        .merge(number_settings::router())
        .merge(outgoing_numbers::router())
        .merge(number_warmup::router())
        .merge(agent_settings::router())
        .merge(agent_scripts::router())
        .merge(api_keys::router())
        .merge(rate_limit_settings::router())
        .merge(webhook_endpoints::router())
        .merge(events::router())
        .split_for_parts()
}

/// The whole application, ready to serve.
pub fn app(state: AppState) -> Router {
    let (api, mut openapi) = api();
    openapi::complete_document(&mut openapi);
    let document = Arc::new(openapi.clone());
    api.route(
        "/openapi.json",
        get(move || async move { axum::Json(document.as_ref().clone()) }),
    )
    .merge(Scalar::with_url("/docs", openapi))
    .merge(crate::console::router())
    .fallback(|| async {
        ApiError::not_found("no such route; the routes are listed at /openapi.json and /docs")
    })
    .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::idempotency::honour_idempotency_key,
    ))
    // Outside the Idempotency-Key layer: keys are checked and limited before anything
    // is claimed or stored for a request.
    .layer(axum::middleware::from_fn_with_state(
        state.clone(),
        crate::rate_limit::guard,
    ))
    .layer(DefaultBodyLimit::max(BODY_LIMIT))
    .layer(axum::middleware::from_fn(telemetry::record_request))
    .layer(TraceLayer::new_for_http())
    .layer(CatchPanicLayer::custom(|_panic| panic_response()))
    .with_state(state)
}

fn panic_response() -> Response {
    let mut response = ApiError::Internal("a handler panicked".to_owned()).into_response();
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}
