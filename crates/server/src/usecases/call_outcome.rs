//! Recording how a call ended: what a finished call means for the campaign lead
//! waiting on its conversation (its status in NLPearl's taxonomy and, when attempts
//! remain, its next attempt). The provider webhooks and the dispatcher's sandbox calls
//! both come here, so a call ends the same way whoever reports it.
//!
//! [`lead_update_after_call`] is the decision, on loaded data; [`record_call_outcome`]
//! stores the call's status, loads the lead and its campaign, decides and stores the
//! lead's update.

use chrono::{DateTime, Utc};
use leadline_core::ChannelId;
use leadline_core::campaign::{AttemptOutcome, LeadDecision, RetryInterval, after_attempt};
use leadline_core::message::CallStatus;
use leadline_store::leads::LeadUpdate;
use leadline_store::messages::{Message, MessageKey};
use leadline_store::{Store, StoreError};

/// Why a call outcome could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum CallOutcomeError {
    #[error("reading or writing the lead failed: {0}")]
    Store(#[from] StoreError),
}

/// What a finished call means for its lead; `None` while the call is still pending.
pub fn call_outcome(status: CallStatus) -> Option<AttemptOutcome> {
    match status {
        CallStatus::Completed | CallStatus::Answered => Some(AttemptOutcome::Reached),
        CallStatus::Voicemail => Some(AttemptOutcome::VoiceMail),
        CallStatus::Busy | CallStatus::NoAnswer | CallStatus::Canceled => {
            Some(AttemptOutcome::NotReached)
        }
        CallStatus::Failed => Some(AttemptOutcome::Unreachable),
        CallStatus::Pending => None,
    }
}

/// The update a call that ended with `status` at `now` makes to a lead that has had
/// `attempts` attempts, in a campaign allowing `max_attempts` every `retry_interval`:
/// its status and, when attempts remain, its next attempt. `None` while the call is
/// pending.
pub fn lead_update_after_call(
    status: CallStatus,
    attempts: u32,
    max_attempts: u32,
    retry_interval: RetryInterval,
    now: DateTime<Utc>,
) -> Option<LeadUpdate> {
    let outcome = call_outcome(status)?;
    let (next_status, next_attempt) =
        after_attempt(outcome, attempts, max_attempts, retry_interval, now);
    Some(LeadUpdate {
        status: next_status,
        attempted_at: None,
        next_attempt_at: next_attempt,
        decision: LeadDecision::Allowed,
        reason: format!("call ended: {status}"),
        conversation_id: None,
    })
}

/// A provider's (or the sandbox's) report on a call.
#[derive(Debug, Clone)]
pub struct CallReport {
    pub channel_id: ChannelId,
    /// The call's message, by our id or the provider's.
    pub call: MessageKey,
    pub status: CallStatus,
    pub duration_seconds: Option<i64>,
}

/// What a call report changed.
#[derive(Debug, Clone)]
pub struct CallRecorded {
    /// The call's message, with the reported status.
    pub message: Message,
    /// The update of the campaign lead waiting on the call, when there is one and the
    /// call has ended.
    pub lead_update: Option<LeadUpdate>,
}

/// Records `report`: the call's status on its message, then, once the call has ended,
/// the update of the lead waiting on its conversation (loaded with its campaign and
/// decided by [`lead_update_after_call`]). `None` when no call matches the report.
pub async fn record_call_outcome(
    store: &Store,
    report: CallReport,
) -> Result<Option<CallRecorded>, CallOutcomeError> {
    let Some(message) = store
        .apply_call_status(
            report.channel_id,
            &report.call,
            report.status,
            report.duration_seconds,
        )
        .await?
    else {
        return Ok(None);
    };
    let lead_update = update_waiting_lead(store, &message, report.status).await?;
    Ok(Some(CallRecorded {
        message,
        lead_update,
    }))
}

async fn update_waiting_lead(
    store: &Store,
    message: &Message,
    status: CallStatus,
) -> Result<Option<LeadUpdate>, CallOutcomeError> {
    if call_outcome(status).is_none() {
        return Ok(None);
    }
    let Some(conversation) = store
        .conversation(message.workspace_id, message.conversation_id)
        .await?
    else {
        return Ok(None);
    };
    let Some(lead) = store.lead_waiting_on(conversation.id).await? else {
        return Ok(None);
    };
    let Some(campaign) = store.campaign(lead.workspace_id, lead.campaign_id).await? else {
        return Ok(None);
    };
    let Some(update) = lead_update_after_call(
        status,
        lead.attempts,
        campaign.fields.max_attempts,
        campaign.fields.retry_interval,
        store.clock().now(),
    ) else {
        return Ok(None);
    };
    tracing::info!(lead = %lead.id, call = %status, status = %update.status, "call outcome applied to the lead");
    store.update_lead(&lead, update.clone()).await?;
    Ok(Some(update))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use leadline_core::campaign::LeadStatus;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 15, 0, 0).unwrap()
    }

    #[test]
    fn a_pending_call_changes_nothing() {
        assert!(call_outcome(CallStatus::Pending).is_none());
        assert!(
            lead_update_after_call(CallStatus::Pending, 1, 3, RetryInterval::Every3h, now())
                .is_none()
        );
    }

    #[test]
    fn a_reached_lead_succeeds_and_is_not_called_again() {
        let update =
            lead_update_after_call(CallStatus::Completed, 1, 3, RetryInterval::Every3h, now())
                .unwrap();
        assert_eq!(update.status, LeadStatus::Success);
        assert_eq!(update.next_attempt_at, None);
        assert_eq!(update.reason, "call ended: completed");
    }

    #[test]
    fn an_unanswered_call_retries_while_attempts_remain() {
        let retry =
            lead_update_after_call(CallStatus::NoAnswer, 1, 3, RetryInterval::Every3h, now())
                .unwrap();
        assert_eq!(retry.status, LeadStatus::NeedRetry);
        assert_eq!(
            retry.next_attempt_at,
            Some(RetryInterval::Every3h.after(now()))
        );
        let last =
            lead_update_after_call(CallStatus::Busy, 3, 3, RetryInterval::Every3h, now()).unwrap();
        assert_eq!(last.status, LeadStatus::NotSuccessfull);
        assert_eq!(last.next_attempt_at, None);
    }
}
