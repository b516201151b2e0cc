//! A workspace's rules for its number pool: the warm-up ramp, steady caps, the send
//! rate, how long a recipient sticks to a number, and the health thresholds. Every
//! field has a default, so a workspace that never set anything gets the documented
//! behaviour, and a partial update names the field it rejects.

use chrono::TimeDelta;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::time_zone::parse_zone;
use crate::validation::FieldErrors;

/// The default warm-up ramp: daily SMS caps of a new number's first seven days.
pub const DEFAULT_RAMP: [u32; 7] = [100, 250, 500, 750, 1500, 2250, 3000];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NumberPoolSettings {
    /// The zone whose midnight resets the daily counters (IANA or Windows name;
    /// default `UTC`).
    #[schema(schema_with = crate::schema::time_zone)]
    pub time_zone: String,
    /// Daily SMS caps of a new number's first days, one per day: at most 60, each at
    /// least 1, never decreasing, the last at most `steadyDailyCap` (422 otherwise).
    #[schema(schema_with = ramp_schema)]
    #[serde(deserialize_with = "crate::integral::vec_u32")]
    pub warmup_ramp: Vec<u32>,
    /// The daily SMS cap once the ramp is over.
    #[schema(format = Int64, minimum = 1, maximum = 4_294_967_295_u64)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub steady_daily_cap: u32,
    /// The daily cap of calls placed from one number.
    #[schema(format = Int64, minimum = 1, maximum = 4_294_967_295_u64)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub daily_call_cap: u32,
    /// Sends per second from one number (SMS and calls alike), 0.01 to 1000.
    #[schema(minimum = 0.01, maximum = 1000)]
    pub sends_per_second: f64,
    /// How long a recipient keeps the number that last reached them (at most 3650).
    #[schema(maximum = 3650)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub sticky_window_days: u32,
    pub health: HealthThresholds,
}

/// What `warmupRamp` may hold, as far as a schema can say.
fn ramp_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(u32::MAX)),
        )
        .max_items(Some(60))
        .build()
}

impl Default for NumberPoolSettings {
    fn default() -> Self {
        Self {
            time_zone: "UTC".into(),
            warmup_ramp: DEFAULT_RAMP.to_vec(),
            steady_daily_cap: 3000,
            daily_call_cap: 250,
            sends_per_second: 1.0,
            sticky_window_days: 30,
            health: HealthThresholds::default(),
        }
    }
}

/// When a number's own recent outcomes make it need attention, pause it, or block it.
/// Rates are fractions (0.02 is 2 %), over the last `windowDays` days, and are judged
/// only once `minSample` messages have been sent in that window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct HealthThresholds {
    /// 1 to 90.
    #[schema(minimum = 1, maximum = 90)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub window_days: u32,
    #[schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub min_sample: u32,
    /// Delivered / (delivered + failed) below this: Needs Attention.
    #[schema(minimum = 0, maximum = 1)]
    pub min_delivery_rate: f64,
    /// … and below this: paused automatically (at most `minDeliveryRate`).
    #[schema(minimum = 0, maximum = 1)]
    pub pause_below_delivery_rate: f64,
    /// Carrier-filtered (Twilio 30007, Telnyx 40002) / sent above this: Needs Attention.
    #[schema(minimum = 0, maximum = 1)]
    pub max_filtered_rate: f64,
    /// … and above this: paused automatically (at least `maxFilteredRate`).
    #[schema(minimum = 0, maximum = 1)]
    pub pause_above_filtered_rate: f64,
    /// Opt-outs / sent above this: Needs Attention.
    #[schema(minimum = 0, maximum = 1)]
    pub max_opt_out_rate: f64,
    /// … and above this: paused automatically (at least `maxOptOutRate`).
    #[schema(minimum = 0, maximum = 1)]
    pub pause_above_opt_out_rate: f64,
    /// Replies / sent below this: Needs Attention (0 turns the check off).
    #[schema(minimum = 0, maximum = 1)]
    pub min_reply_rate: f64,
    /// Permanent carrier blocks (Telnyx 40003) in the window that block the number.
    #[schema(format = Int64, minimum = 1, maximum = 4_294_967_295_u64)]
    #[serde(deserialize_with = "crate::integral::u32")]
    pub block_after_carrier_blocks: u32,
}

impl Default for HealthThresholds {
    fn default() -> Self {
        Self {
            window_days: 7,
            min_sample: 20,
            min_delivery_rate: 0.90,
            pause_below_delivery_rate: 0.75,
            max_filtered_rate: 0.02,
            pause_above_filtered_rate: 0.05,
            max_opt_out_rate: 0.02,
            pause_above_opt_out_rate: 0.05,
            min_reply_rate: 0.0,
            block_after_carrier_blocks: 3,
        }
    }
}

impl NumberPoolSettings {
    /// The zone of the daily counters; call after [`validate`](Self::validate).
    pub fn zone(&self) -> Tz {
        parse_zone("timeZone", &self.time_zone).unwrap_or(Tz::UTC)
    }

    /// The time between two sends from one number.
    pub fn send_interval(&self) -> TimeDelta {
        TimeDelta::microseconds((1_000_000.0 / self.sends_per_second).round() as i64)
    }

    /// Every invalid field, named by its JSON path.
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Err(error) = parse_zone("timeZone", &self.time_zone) {
            errors.push(error.field, error.message);
        }
        if self.warmup_ramp.len() > 60 {
            errors.push("warmupRamp", "a ramp has at most 60 daily steps");
        }
        for (day, cap) in self.warmup_ramp.iter().enumerate() {
            if *cap == 0 {
                errors.push(
                    format!("warmupRamp[{day}]"),
                    "a daily cap must be at least 1",
                );
            }
        }
        if self.warmup_ramp.windows(2).any(|pair| pair[1] < pair[0]) {
            errors.push(
                "warmupRamp",
                "the ramp's caps must not decrease from one day to the next",
            );
        }
        if self.steady_daily_cap == 0 {
            errors.push("steadyDailyCap", "must be at least 1");
        }
        if self
            .warmup_ramp
            .last()
            .is_some_and(|last| *last > self.steady_daily_cap)
        {
            errors.push("steadyDailyCap", "must be at least the ramp's last cap");
        }
        if self.daily_call_cap == 0 {
            errors.push("dailyCallCap", "must be at least 1");
        }
        if !(self.sends_per_second.is_finite() && (0.01..=1000.0).contains(&self.sends_per_second))
        {
            errors.push("sendsPerSecond", "must be between 0.01 and 1000");
        }
        if self.sticky_window_days > 3650 {
            errors.push("stickyWindowDays", "must be at most 3650 (ten years)");
        }
        self.health.validate(&mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

impl HealthThresholds {
    fn validate(&self, errors: &mut FieldErrors) {
        if !(1..=90).contains(&self.window_days) {
            errors.push("health.windowDays", "must be between 1 and 90");
        }
        let rates = [
            ("health.minDeliveryRate", self.min_delivery_rate),
            (
                "health.pauseBelowDeliveryRate",
                self.pause_below_delivery_rate,
            ),
            ("health.maxFilteredRate", self.max_filtered_rate),
            (
                "health.pauseAboveFilteredRate",
                self.pause_above_filtered_rate,
            ),
            ("health.maxOptOutRate", self.max_opt_out_rate),
            ("health.pauseAboveOptOutRate", self.pause_above_opt_out_rate),
            ("health.minReplyRate", self.min_reply_rate),
        ];
        for (field, rate) in rates {
            if !(rate.is_finite() && (0.0..=1.0).contains(&rate)) {
                errors.push(field, "must be a fraction between 0 and 1 (0.02 is 2 %)");
            }
        }
        if self.pause_below_delivery_rate > self.min_delivery_rate {
            errors.push(
                "health.pauseBelowDeliveryRate",
                "must not be above minDeliveryRate: pausing is the severe step",
            );
        }
        if self.pause_above_filtered_rate < self.max_filtered_rate {
            errors.push(
                "health.pauseAboveFilteredRate",
                "must not be below maxFilteredRate: pausing is the severe step",
            );
        }
        if self.pause_above_opt_out_rate < self.max_opt_out_rate {
            errors.push(
                "health.pauseAboveOptOutRate",
                "must not be below maxOptOutRate: pausing is the severe step",
            );
        }
        if self.block_after_carrier_blocks == 0 {
            errors.push("health.blockAfterCarrierBlocks", "must be at least 1");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_partial_json_keeps_the_rest() {
        assert!(NumberPoolSettings::default().validate().is_ok());
        let settings: NumberPoolSettings =
            serde_json::from_str(r#"{"steadyDailyCap": 5000, "health": {"minSample": 50}}"#)
                .unwrap();
        assert_eq!(settings.steady_daily_cap, 5000);
        assert_eq!(settings.health.min_sample, 50);
        assert_eq!(settings.warmup_ramp, DEFAULT_RAMP.to_vec());
        assert_eq!(settings.health.window_days, 7);
    }

    #[test]
    fn every_invalid_field_is_named() {
        let settings = NumberPoolSettings {
            time_zone: "Mars/Olympus".into(),
            warmup_ramp: vec![100, 0, 50],
            steady_daily_cap: 10,
            sends_per_second: 0.0,
            ..NumberPoolSettings::default()
        };
        let errors = settings.validate().unwrap_err();
        let fields: Vec<&str> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "timeZone",
                "warmupRamp[1]",
                "warmupRamp",
                "steadyDailyCap",
                "sendsPerSecond"
            ]
        );
    }

    #[test]
    fn send_interval_follows_the_rate() {
        let settings = NumberPoolSettings {
            sends_per_second: 4.0,
            ..NumberPoolSettings::default()
        };
        assert_eq!(settings.send_interval(), TimeDelta::milliseconds(250));
    }
}
