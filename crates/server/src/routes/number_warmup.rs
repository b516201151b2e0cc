//! A number's warm-up and health: where it is on the ramp, what it may still send
//! today, and the recent outcomes its health is judged from. Served at
//! `/api/v1/phone-numbers/{id}/warmup` and at Leadping's `/phone-numbers/{id}/warmup`.

use axum::extract::{Path, State};
use chrono::{Days, NaiveDate};
use leadline_core::PhoneNumberId;
use leadline_core::numbers::{HealthState, NumberMetrics, assess, warmup};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::Authenticated;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::timestamp;
use crate::numbers::pools::next_midnight;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(warmup_status))
        .routes(routes!(leadping_warmup_status))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WarmupResponse {
    phone_number_id: String,
    number: String,
    display_number: String,
    label: Option<String>,
    state: HealthState,
    health_label: String,
    warning: Option<String>,
    /// Whether an SMS could go out from the number now.
    messages_possible: bool,
    /// Whether a call could be placed from the number now.
    calls_possible: bool,
    sms_warmup: SmsWarmup,
    outbound_capacity: OutboundCapacity,
    metrics: Metrics,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsWarmup {
    /// The ramp step in force, from 1; `stages + 1` once the ramp is over.
    stage: u32,
    stages: u32,
    /// Day of the warm-up, from 1; 0 before the first send.
    day: u32,
    started_on: Option<NaiveDate>,
    complete: bool,
    /// 0.0 to 1.0 through the ramp.
    progress: f64,
    today_cap: u32,
    today_used: u32,
    /// Tomorrow's cap.
    next_cap: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundCapacity {
    sms_cap: u32,
    sms_used: u32,
    sms_remaining: u32,
    call_cap: u32,
    calls_used: u32,
    calls_remaining: u32,
    /// When today's counters reset (midnight in the workspace's zone).
    resets_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    window_days: u32,
    sent: u64,
    delivered: u64,
    failed: u64,
    filtered: u64,
    carrier_blocks: u64,
    opt_outs: u64,
    replies: u64,
    delivery_rate: Option<f64>,
    filtered_rate: Option<f64>,
    opt_out_rate: Option<f64>,
    reply_rate: Option<f64>,
}

impl Metrics {
    fn of(window_days: u32, m: &NumberMetrics) -> Self {
        let rate = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        Self {
            window_days,
            sent: m.sent,
            delivered: m.delivered,
            failed: m.failed,
            filtered: m.filtered,
            carrier_blocks: m.carrier_blocks,
            opt_outs: m.opt_outs,
            replies: m.replies,
            delivery_rate: rate(m.delivered, m.delivered + m.failed),
            filtered_rate: rate(m.filtered, m.sent),
            opt_out_rate: rate(m.opt_outs, m.sent),
            reply_rate: rate(m.replies, m.sent),
        }
    }
}

/// A number's warm-up stage, today's cap and usage, and its health.
#[utoipa::path(get, path = "/api/v1/phone-numbers/{id}/warmup", tag = "phone numbers",
    params(("id" = String, Path, description = "The phone number's id")),
    responses((status = 200, body = WarmupResponse), (status = 404, body = Problem)))]
async fn warmup_status(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WarmupResponse>> {
    status(&state, workspace, &id).await.map(axum::Json)
}

/// The same, at Leadping's path.
#[utoipa::path(get, path = "/phone-numbers/{phoneNumberId}/warmup", tag = "phone numbers",
    params(("phoneNumberId" = String, Path, description = "The phone number's id")),
    responses((status = 200, body = WarmupResponse), (status = 404, body = Problem)))]
async fn leadping_warmup_status(
    State(state): State<AppState>,
    Authenticated(workspace): Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<WarmupResponse>> {
    status(&state, workspace, &id).await.map(axum::Json)
}

async fn status(
    state: &AppState,
    workspace: leadline_core::WorkspaceId,
    id: &str,
) -> ApiResult<WarmupResponse> {
    let not_found = || ApiError::NotFound {
        detail: format!("no phone number '{id}' in the workspace"),
        field: Some("id".to_owned()),
    };
    let id: PhoneNumberId = id.trim().parse().map_err(|_| not_found())?;
    let store = &state.store;
    let number = store
        .phone_number(workspace, id)
        .await?
        .ok_or_else(not_found)?;
    let settings = store.number_pool_settings(workspace).await?;
    let zone = settings.zone();
    let now = store.clock().now();
    let today = now.with_timezone(&zone).date_naive();
    let window = settings.health.window_days.max(1);
    let since = now
        .date_naive()
        .checked_sub_days(Days::new(u64::from(window - 1)))
        .unwrap_or(NaiveDate::MIN);
    let (sms_used, calls_used) = store.phone_number_usage(id, today).await?;
    let metrics = store.phone_number_metrics(id, since).await?;
    let ramp = warmup(number.warmup_started_on, today, &settings);
    // A number that has not sent yet starts its ramp on its first send, not tomorrow.
    let next_cap = match ramp.started_on {
        Some(started) => {
            warmup(Some(started), today.succ_opt().unwrap_or(today), &settings).daily_cap
        }
        None => ramp.daily_cap,
    };
    let health = assess(&metrics, &ramp, &number.hold, &settings.health);
    let holdable = !matches!(health.state, HealthState::Paused | HealthState::Blocked);
    let sms_remaining = ramp.daily_cap.saturating_sub(sms_used);
    let calls_remaining = settings.daily_call_cap.saturating_sub(calls_used);
    Ok(WarmupResponse {
        phone_number_id: number.id.to_string(),
        number: number.number.as_str().to_owned(),
        display_number: number.display_number.clone(),
        label: number.label.clone(),
        state: health.state,
        health_label: health.label.clone(),
        warning: health.warning.clone(),
        messages_possible: holdable && number.capabilities.sms && sms_remaining > 0,
        calls_possible: holdable && number.capabilities.call && calls_remaining > 0,
        sms_warmup: SmsWarmup {
            stage: ramp.stage + 1,
            stages: ramp.stages,
            day: ramp.day,
            started_on: ramp.started_on,
            complete: ramp.complete(),
            progress: ramp.progress(),
            today_cap: ramp.daily_cap,
            today_used: sms_used,
            next_cap,
        },
        outbound_capacity: OutboundCapacity {
            sms_cap: ramp.daily_cap,
            sms_used,
            sms_remaining,
            call_cap: settings.daily_call_cap,
            calls_used,
            calls_remaining,
            resets_at: timestamp(next_midnight(today, zone)),
        },
        metrics: Metrics::of(window, &metrics),
    })
}
