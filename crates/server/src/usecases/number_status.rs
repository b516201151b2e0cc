//! A number's warm-up and health: where it is on the ramp, what it may still send
//! today, and the recent outcomes its health is judged from. The API's
//! `/api/v1/phone-numbers/{id}/warmup` (and Leadping's path) and the console's numbers
//! page both show [`number_status`].

use chrono::{Days, NaiveDate};
use leadline_core::numbers::{HealthState, NumberMetrics, NumberPoolSettings, assess, warmup};
use leadline_store::phone_numbers::PhoneNumber;
use leadline_store::{Store, StoreError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::extract::timestamp;
use crate::numbers::pools::next_midnight;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WarmupResponse {
    pub phone_number_id: String,
    pub number: String,
    pub display_number: String,
    pub label: Option<String>,
    pub state: HealthState,
    pub health_label: String,
    pub warning: Option<String>,
    /// Whether an SMS could go out from the number now.
    pub messages_possible: bool,
    /// Whether a call could be placed from the number now.
    pub calls_possible: bool,
    pub sms_warmup: SmsWarmup,
    pub outbound_capacity: OutboundCapacity,
    pub metrics: Metrics,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SmsWarmup {
    /// The ramp step in force, from 1; `stages + 1` once the ramp is over.
    pub stage: u32,
    pub stages: u32,
    /// Day of the warm-up, from 1; 0 before the first send.
    pub day: u32,
    pub started_on: Option<NaiveDate>,
    pub complete: bool,
    /// 0.0 to 1.0 through the ramp.
    pub progress: f64,
    pub today_cap: u32,
    pub today_used: u32,
    /// Tomorrow's cap.
    pub next_cap: u32,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OutboundCapacity {
    pub sms_cap: u32,
    pub sms_used: u32,
    pub sms_remaining: u32,
    pub call_cap: u32,
    pub calls_used: u32,
    pub calls_remaining: u32,
    /// When today's counters reset (midnight in the workspace's zone).
    pub resets_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub window_days: u32,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub filtered: u64,
    pub carrier_blocks: u64,
    pub opt_outs: u64,
    pub replies: u64,
    pub delivery_rate: Option<f64>,
    pub filtered_rate: Option<f64>,
    pub opt_out_rate: Option<f64>,
    pub reply_rate: Option<f64>,
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

/// `number`'s warm-up, capacity today and health under the workspace's `settings`.
pub async fn number_status(
    store: &Store,
    number: &PhoneNumber,
    settings: &NumberPoolSettings,
) -> Result<WarmupResponse, StoreError> {
    let zone = settings.zone();
    let now = store.clock().now();
    let today = now.with_timezone(&zone).date_naive();
    let window = settings.health.window_days.max(1);
    let since = now
        .date_naive()
        .checked_sub_days(Days::new(u64::from(window - 1)))
        .unwrap_or(NaiveDate::MIN);
    let (sms_used, calls_used) = store.phone_number_usage(number.id, today).await?;
    let metrics = store.phone_number_metrics(number.id, since).await?;
    let ramp = warmup(number.warmup_started_on, today, settings);
    // A number that has not sent yet starts its ramp on its first send, not tomorrow.
    let next_cap = match ramp.started_on {
        Some(started) => {
            warmup(Some(started), today.succ_opt().unwrap_or(today), settings).daily_cap
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
