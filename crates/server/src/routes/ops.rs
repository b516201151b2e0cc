//! Operating endpoints: liveness, readiness, Prometheus metrics. They need no API key,
//! so orchestrators and scrapers can call them. Readiness names the part that is down
//! (`{"status":"unavailable","checks":{"database":"unreachable"}}`) but never how it is
//! reached: no connection string, host or driver message.

use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::with_retry_after;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// Liveness: the process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations", security(()), responses((status = 200, body = Health)))]
async fn healthz() -> axum::Json<Health> {
    axum::Json(Health { status: "ok" })
}

/// What `/readyz` reports: ready only when every part it checks is.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "unavailable", "checks": {"database": "unreachable"}}))]
pub struct Readiness {
    /// `ready`, or `unavailable` when a check fails.
    status: &'static str,
    checks: ReadinessChecks,
}

/// One entry per part the server needs; each `ok` or what is wrong with it.
#[derive(Serialize, ToSchema)]
pub struct ReadinessChecks {
    /// `ok`; `unreachable` when no connection can be made or kept (down, restarting,
    /// unreachable over the network, or slower than the check's limit); `failing` when
    /// it answers with an error.
    database: &'static str,
}

/// How long the database may take to answer the readiness check.
const DATABASE_CHECK_LIMIT: Duration = Duration::from_secs(3);

/// Readiness: 200 when the database answers; 503 with `Retry-After` naming the part
/// that is down otherwise. Connection strings and driver messages are never shown.
#[utoipa::path(get, path = "/readyz", tag = "operations", security(()),
    responses(
        (status = 200, description = "Ready to serve", body = Readiness,
            example = json!({"status": "ready", "checks": {"database": "ok"}})),
        (status = 503, description = "A part the server needs is down; the body names it", body = Readiness,
            headers(("Retry-After" = u64, description = "Seconds to wait before asking again")),
            example = json!({"status": "unavailable", "checks": {"database": "unreachable"}}))))]
async fn readyz(State(state): State<AppState>) -> Response {
    let database = match tokio::time::timeout(DATABASE_CHECK_LIMIT, state.store.ping()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(error)) if error.is_unavailable() => {
            tracing::debug!(%error, "readiness: the database is unreachable");
            "unreachable"
        }
        Err(_) => {
            tracing::debug!("readiness: the database did not answer in time");
            "unreachable"
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: the database answered with an error");
            "failing"
        }
    };
    let ready = database == "ok";
    let body = Readiness {
        status: if ready { "ready" } else { "unavailable" },
        checks: ReadinessChecks { database },
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    with_retry_after((status, axum::Json(body)).into_response())
}

/// Prometheus metrics in the text exposition format.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses((status = 200, content_type = "text/plain")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
