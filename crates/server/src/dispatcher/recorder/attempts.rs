//! The attempt log of webhook deliveries, written with each batch of outcomes: the
//! batch's attempts in one transaction, before the outcomes (an attempt happened
//! whatever becomes of its job's lease). While the database does not answer, they
//! wait for it; a batch that fails otherwise is written attempt by attempt, and an
//! attempt that still cannot be written is left out of the log, never holding up its
//! job's outcome. Endpoints the attempts disabled (410 Gone, or every delivery failing
//! for 5 days) are logged here, where the store decided it.

use std::time::Duration;

use leadline_core::WebhookEndpointId;
use leadline_store::webhook_endpoints::NewWebhookAttempt;
use leadline_store::{Store, StoreError};

/// Writes `attempts` and reports the endpoints they disabled.
pub async fn record(store: &Store, attempts: &[NewWebhookAttempt]) {
    if attempts.is_empty() {
        return;
    }
    match write_waiting(store, attempts).await {
        Ok(disabled) => report_disabled(attempts, &disabled),
        Err(error) if attempts.len() > 1 => {
            tracing::warn!(%error, attempts = attempts.len(), "recording a batch of webhook attempts failed; recording them one by one");
            for attempt in attempts {
                let one = std::slice::from_ref(attempt);
                match write_waiting(store, one).await {
                    Ok(disabled) => report_disabled(one, &disabled),
                    Err(error) => dropped(attempt, &error),
                }
            }
        }
        Err(error) => dropped(&attempts[0], &error),
    }
}

/// Writes `attempts`, waiting for the database while it does not answer.
async fn write_waiting(
    store: &Store,
    attempts: &[NewWebhookAttempt],
) -> Result<Vec<WebhookEndpointId>, StoreError> {
    let mut wait = Duration::from_secs(1);
    loop {
        let error = match store.record_webhook_attempts(attempts).await {
            Ok(disabled) => return Ok(disabled),
            Err(error) => error,
        };
        if !error.is_unavailable() && store.ping().await.is_ok() {
            return Err(error);
        }
        tracing::warn!(%error, ?wait, "the database does not answer; webhook attempts wait to be recorded");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

fn dropped(attempt: &NewWebhookAttempt, error: &StoreError) {
    metrics::counter!("leadline_webhook_attempts_unrecorded_total").increment(1);
    tracing::error!(%error, endpoint = %attempt.endpoint_id, event = %attempt.event_id,
        "a webhook attempt could not be recorded; it is missing from the endpoint's attempt log");
}

/// Says why each endpoint in `disabled` was disabled.
fn report_disabled(attempts: &[NewWebhookAttempt], disabled: &[WebhookEndpointId]) {
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
        tracing::warn!(%endpoint, reason, "webhook endpoint {endpoint} disabled: {reason}; its waiting deliveries are dropped");
    }
}
