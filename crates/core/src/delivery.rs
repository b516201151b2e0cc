//! How the dispatcher treats one channel: how many sends it may have in flight, how
//! fast it may send, what happens to a send whose outcome is unknown, and when it stops
//! calling a provider that keeps failing. Pure rules; the dispatcher feeds them the
//! clock and the outcomes.

mod circuit;
mod rate;

pub use circuit::{CircuitBreaker, CircuitPolicy, CircuitState, Tripped};
pub use rate::RateBucket;

use serde::{Deserialize, Serialize};

use crate::channel::ProviderKind;
use crate::validation::FieldErrors;

crate::wire_enum! {
    /// What becomes of a send that may or may not have reached the provider (its worker
    /// died mid-call, or the call timed out after the request was written), on a
    /// provider that takes no idempotency key.
    pub enum UncertainSends {
        /// Hold the message as `uncertain` for a person to resend or settle: never a
        /// second text to a lead. The default.
        Hold = "hold",
        /// Send it again: a lead may get the text twice.
        Resend = "resend",
    }
}

/// The delivery settings of a channel (`delivery` in the channel's API).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliverySettings {
    /// Provider calls in flight at once for this channel, per server process (1–1000).
    /// Absent: the provider's default — 50 for Twilio and WhatsApp Cloud (whose APIs
    /// refuse more than about 100 concurrent requests per account, so two nodes stay
    /// under it), 256 for Kannel, `http` and the sandbox.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::integral::option_u32"
    )]
    #[schema(minimum = 1, maximum = 1000)]
    pub max_concurrent_sends: Option<u32>,
    /// Sends started per second for this channel, per server process (0.1–10000);
    /// absent for no limit. Set it to the provider's limit (a Twilio long code: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0.1, maximum = 10000)]
    pub sends_per_second: Option<f64>,
    /// What becomes of a send whose outcome is unknown on a provider that takes no
    /// idempotency key (Twilio, WhatsApp Cloud, Kannel). `sandbox` and `http` channels
    /// always send again: the provider drops the repeat by its idempotency key.
    #[serde(default = "default_uncertain")]
    pub uncertain_sends: UncertainSends,
}

fn default_uncertain() -> UncertainSends {
    UncertainSends::Hold
}

impl Default for DeliverySettings {
    fn default() -> Self {
        Self {
            max_concurrent_sends: None,
            sends_per_second: None,
            uncertain_sends: UncertainSends::Hold,
        }
    }
}

impl DeliverySettings {
    /// The concurrency of a lane whose channel is not known yet: the smallest
    /// provider default.
    pub const DEFAULT_CONCURRENCY: u32 = 50;
    pub const MAX_CONCURRENCY: u32 = 1000;

    /// Calls in flight at once on a channel of `provider`.
    pub fn concurrency(&self, provider: ProviderKind) -> u32 {
        self.max_concurrent_sends
            .unwrap_or_else(|| default_concurrency(provider))
    }

    /// The settings with the provider's defaults filled in, as the API shows them.
    pub fn effective(&self, provider: ProviderKind) -> Self {
        Self {
            max_concurrent_sends: Some(self.concurrency(provider)),
            ..*self
        }
    }

    /// Checks the ranges, naming fields under `prefix` (e.g. `delivery`; empty for the
    /// settings as a whole body).
    pub fn validate(&self, prefix: &str, errors: &mut FieldErrors) {
        let field = |name: &str| {
            if prefix.is_empty() {
                name.to_owned()
            } else {
                format!("{prefix}.{name}")
            }
        };
        if let Some(concurrency) = self.max_concurrent_sends
            && !(1..=Self::MAX_CONCURRENCY).contains(&concurrency)
        {
            errors.push(
                field("maxConcurrentSends"),
                format!(
                    "must be between 1 and {}, or absent for the provider's default; it is {concurrency}",
                    Self::MAX_CONCURRENCY
                ),
            );
        }
        if let Some(rate) = self.sends_per_second
            && !(rate.is_finite() && (0.1..=10_000.0).contains(&rate))
        {
            errors.push(
                field("sendsPerSecond"),
                format!("must be between 0.1 and 10000, or absent for no limit; it is {rate}"),
            );
        }
    }

    /// Whether a send of `provider` whose outcome is unknown is sent again.
    pub fn resends_uncertain(&self, provider: ProviderKind) -> bool {
        honours_idempotency_key(provider) || self.uncertain_sends == UncertainSends::Resend
    }
}

/// Calls in flight at once on a channel of `provider` unless its settings say otherwise.
pub fn default_concurrency(provider: ProviderKind) -> u32 {
    match provider {
        ProviderKind::Twilio | ProviderKind::WhatsappCloud => 50,
        ProviderKind::Kannel | ProviderKind::Http | ProviderKind::Sandbox => 256,
    }
}

/// Whether the provider drops a repeated send carrying the same idempotency key (the
/// message id), so sending again after an unknown outcome cannot double a text.
pub fn honours_idempotency_key(provider: ProviderKind) -> bool {
    matches!(provider, ProviderKind::Sandbox | ProviderKind::Http)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_json_names() {
        let settings: DeliverySettings = serde_json::from_str("{}").unwrap();
        assert_eq!(settings, DeliverySettings::default());
        let json = serde_json::to_value(
            DeliverySettings {
                sends_per_second: Some(1.0),
                ..DeliverySettings::default()
            }
            .effective(ProviderKind::Twilio),
        )
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!({"maxConcurrentSends": 50, "sendsPerSecond": 1.0, "uncertainSends": "hold"})
        );
        assert_eq!(settings.concurrency(ProviderKind::Http), 256);
        assert!(serde_json::from_str::<DeliverySettings>(r#"{"speed": 1}"#).is_err());
    }

    #[test]
    fn ranges_are_checked_by_field() {
        let mut errors = FieldErrors::new();
        DeliverySettings {
            max_concurrent_sends: Some(0),
            sends_per_second: Some(f64::NAN),
            uncertain_sends: UncertainSends::Hold,
        }
        .validate("delivery", &mut errors);
        let fields: Vec<&str> = errors.as_slice().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["delivery.maxConcurrentSends", "delivery.sendsPerSecond"]
        );
    }

    #[test]
    fn only_keyless_providers_hold_uncertain_sends() {
        let hold = DeliverySettings::default();
        assert!(hold.resends_uncertain(ProviderKind::Http));
        assert!(hold.resends_uncertain(ProviderKind::Sandbox));
        assert!(!hold.resends_uncertain(ProviderKind::Twilio));
        assert!(!hold.resends_uncertain(ProviderKind::Kannel));
        assert!(!hold.resends_uncertain(ProviderKind::WhatsappCloud));
        let resend = DeliverySettings {
            uncertain_sends: UncertainSends::Resend,
            ..hold
        };
        assert!(resend.resends_uncertain(ProviderKind::Twilio));
    }
}
