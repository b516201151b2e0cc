//! Webhook endpoints: the list, creating one (its signing secret is shown once, on the
//! answer), and one endpoint's page: enable or disable it, rotate its secret (the new
//! one shown once; the previous keeps signing for 24 hours), and its recent delivery
//! attempts.
//!
//! - `GET /console/settings/webhooks`, `POST` (create)
//! - `GET /console/settings/webhooks/{id}`
//! - `POST …/webhooks/{id}/enabled`, `POST …/webhooks/{id}/rotate-secret`

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{Html, Response};
use axum::routing::{get, post};
use leadline_core::event::signature::WebhookSecret;
use leadline_core::event::{EventFilter, EventType};
use leadline_core::{FieldError, WebhookEndpointId};
use leadline_store::webhook_endpoints::{WebhookEndpoint, WebhookEndpointPatch};
use minijinja::context;
use minijinja::value::{Serde, Value};
use serde::Serialize;

use super::form::{self, NoticeQuery};
use super::path;
use crate::console::csrf::CsrfForm;
use crate::console::pages::{self, Section};
use crate::console::{ConsoleError, ConsoleUser};
use crate::extract::timestamp;
use crate::state::AppState;
use crate::usecases::settings::webhook_endpoints::{PREVIOUS_SECRET_OVERLAP, checked_new};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&path("/webhooks"), get(list).post(create))
        .route(&path("/webhooks/{id}"), get(show))
        .route(&path("/webhooks/{id}/enabled"), post(set_enabled))
        .route(&path("/webhooks/{id}/rotate-secret"), post(rotate_secret))
}

type Fields = BTreeMap<String, String>;

fn value<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map_or("", String::as_str)
}

fn view(endpoint: &WebhookEndpoint) -> Value {
    let types = match &endpoint.event_types {
        EventFilter::All => "every event".to_owned(),
        EventFilter::Only(types) => types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    };
    context! {
        id => endpoint.id.to_string(),
        url => &endpoint.url,
        description => &endpoint.description,
        event_types => types,
        enabled => endpoint.enabled,
        rate_limit => endpoint.rate_limit,
        disabled_reason => &endpoint.disabled_reason,
        failing_since => endpoint.failing_since.map(timestamp),
        previous_secret_until => endpoint.previous_secret_until.map(timestamp),
    }
}

async fn list_page(
    state: &AppState,
    user: &ConsoleUser,
    values: &Fields,
    errors: Vec<FieldError>,
    notice: Option<&str>,
) -> Result<Html<String>, ConsoleError> {
    let workspace = user.workspace();
    let all = form::all_pages(
        1_000,
        |e: &WebhookEndpoint| e.id,
        |after, limit| state.store.list_webhook_endpoints(workspace, after, limit),
    )
    .await?;
    pages::render(
        user,
        Section::Settings,
        "settings/webhooks.html",
        context! {
            endpoints => all.iter().map(view).collect::<Vec<_>>(),
            event_types => EventType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>(),
            values => Serde(values),
            errors => Serde(errors),
            notice,
        },
    )
}

async fn list(
    State(state): State<AppState>,
    user: ConsoleUser,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    list_page(&state, &user, &Fields::new(), Vec::new(), query.text()).await
}

/// The page showing a signing secret, this once.
fn secret_page(
    user: &ConsoleUser,
    endpoint: &WebhookEndpoint,
    secret: &WebhookSecret,
    rotated: bool,
) -> Result<Response, ConsoleError> {
    let page = pages::render(
        user,
        Section::Settings,
        "settings/webhook_secret.html",
        context! {
            endpoint => view(endpoint),
            secret => secret.expose().expose(),
            rotated,
        },
    )?;
    Ok(form::no_store(page))
}

async fn create(
    State(state): State<AppState>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let chosen: Vec<String> = EventType::ALL
        .iter()
        .map(|t| t.as_str())
        .filter(|t| fields.contains_key(&format!("event.{t}")))
        .map(str::to_owned)
        .collect();
    let event_types = (!chosen.is_empty()).then_some(chosen.as_slice());
    let (rate_limit, rate_fault) = match value(&fields, "rateLimit").trim() {
        "" => (None, None),
        raw => match raw.parse::<u32>() {
            Ok(limit) => (Some(limit), None),
            Err(_) => (
                None,
                Some(FieldError::new(
                    "rateLimit",
                    "must be a whole number of deliveries per second from 1 to 10000, or empty for no limit",
                )),
            ),
        },
    };
    let checked = checked_new(
        state.providers.outbound(),
        value(&fields, "url").trim(),
        Some(value(&fields, "description")),
        event_types,
        Some(true),
        rate_limit,
    )
    .await;
    let new = match (checked, rate_fault) {
        (Ok(new), None) => new,
        (checked, rate_fault) => {
            let mut errors = checked.err().map(|e| e.into_vec()).unwrap_or_default();
            errors.extend(rate_fault);
            let page = list_page(&state, &user, &fields, errors, None).await?;
            return Ok(form::refused(page));
        }
    };
    let workspace = user.workspace();
    let (endpoint, secret) = state.store.create_webhook_endpoint(workspace, &new).await?;
    tracing::info!(%workspace, endpoint = %endpoint.id, "webhook endpoint created");
    secret_page(&user, &endpoint, &secret, false)
}

async fn load(
    state: &AppState,
    user: &ConsoleUser,
    id: &str,
) -> Result<WebhookEndpoint, ConsoleError> {
    let endpoint_id: WebhookEndpointId = form::path_id(id, "webhook endpoint")?;
    state
        .store
        .webhook_endpoint(user.workspace(), endpoint_id)
        .await?
        .ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ConsoleError {
    ConsoleError::NotFound(format!("no webhook endpoint '{id}' in this workspace"))
}

#[derive(Serialize)]
struct AttemptRow {
    event_id: String,
    status: String,
    response_code: Option<u16>,
    duration_ms: u64,
    response_excerpt: Option<String>,
    attempted_at: String,
}

async fn show(
    State(state): State<AppState>,
    user: ConsoleUser,
    Path(id): Path<String>,
    Query(query): Query<NoticeQuery>,
) -> Result<Html<String>, ConsoleError> {
    user.require_admin()?;
    let endpoint = load(&state, &user, &id).await?;
    let attempts: Vec<AttemptRow> = state
        .store
        .list_webhook_attempts(user.workspace(), endpoint.id, None, 50)
        .await?
        .into_iter()
        .map(|a| AttemptRow {
            event_id: a.event_id.to_string(),
            status: a.status.as_str().to_owned(),
            response_code: a.response_code,
            duration_ms: a.duration_ms,
            response_excerpt: a.response_excerpt,
            attempted_at: timestamp(a.attempted_at),
        })
        .collect();
    pages::render(
        &user,
        Section::Settings,
        "settings/webhook.html",
        context! { endpoint => view(&endpoint), attempts => Serde(attempts), notice => query.text() },
    )
}

async fn set_enabled(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, fields): CsrfForm<Fields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let enabled = match value(&fields, "enabled") {
        "true" => true,
        "false" => false,
        _ => {
            return Err(ConsoleError::BadRequest(
                "enabled: must be true or false".into(),
            ));
        }
    };
    let endpoint = load(&state, &user, &id).await?;
    let patch = WebhookEndpointPatch {
        enabled: Some(enabled),
        ..WebhookEndpointPatch::default()
    };
    let workspace = user.workspace();
    let endpoint = state
        .store
        .update_webhook_endpoint(workspace, endpoint.id, &patch)
        .await?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(%workspace, endpoint = %endpoint.id, enabled, "webhook endpoint changed");
    let notice = if enabled {
        "endpoint-enabled"
    } else {
        "endpoint-disabled"
    };
    Ok(form::done(
        &path(&format!("/webhooks/{}", endpoint.id)),
        notice,
    ))
}

#[derive(Debug, serde::Deserialize)]
struct NoFields {}

async fn rotate_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(user, NoFields {}): CsrfForm<NoFields>,
) -> Result<Response, ConsoleError> {
    user.require_admin()?;
    let endpoint = load(&state, &user, &id).await?;
    let workspace = user.workspace();
    let (endpoint, secret) = state
        .store
        .rotate_webhook_secret(workspace, endpoint.id, PREVIOUS_SECRET_OVERLAP)
        .await?
        .ok_or_else(|| not_found(&id))?;
    tracing::info!(%workspace, endpoint = %endpoint.id, "webhook endpoint secret rotated");
    secret_page(&user, &endpoint, &secret, true)
}
