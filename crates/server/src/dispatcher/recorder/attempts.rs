//! The attempt log of webhook deliveries, as the recorder keeps it: a batch's attempts
//! are written in the transaction of its outcomes (`Store::finish_deliveries`), whatever
//! became of their jobs' leases, since the calls were made. Here: saying which
//! endpoints the attempts disabled and why (where the store decided it), and logging
//! the attempt of a job whose outcome could not be recorded at all on its own.

use leadline_core::WebhookEndpointId;
use leadline_store::Store;
use leadline_store::webhook_endpoints::NewWebhookAttempt;

/// Says why each endpoint in `disabled` was disabled by `attempts`.
pub fn report_disabled(attempts: &[NewWebhookAttempt], disabled: &[WebhookEndpointId]) {
    for endpoint in disabled {
        let gone = attempts
            .iter()
            .any(|attempt| attempt.endpoint_id == *endpoint && attempt.gone);
        let reason = if gone {
            "it answered 410 Gone"
        } else {
            "every delivery failed for 5 days"
        };
        metrics::counter!("leadline_webhook_endpoints_disabled_total").increment(1);
        tracing::warn!(%endpoint, reason,
            "webhook endpoint {endpoint} disabled: {reason}; its waiting deliveries are dropped");
    }
}

/// Logs the attempt of a job that was quarantined, on its own.
pub async fn record_alone(store: &Store, attempt: &NewWebhookAttempt) {
    match store
        .record_webhook_attempts(std::slice::from_ref(attempt))
        .await
    {
        Ok(disabled) => report_disabled(std::slice::from_ref(attempt), &disabled),
        Err(error) => {
            metrics::counter!("leadline_webhook_attempts_unrecorded_total").increment(1);
            tracing::error!(%error, endpoint = %attempt.endpoint_id, event = %attempt.event_id,
                "a webhook attempt could not be recorded; it is missing from the endpoint's attempt log");
        }
    }
}
