//! What a finished call does to the lead waiting on it: its status in NLPearl's
//! taxonomy and, when attempts remain, its next attempt. Used alike by the provider
//! webhooks and the sandbox's simulated calls.

use leadline_core::campaign::{AttemptOutcome, LeadDecision, after_attempt};
use leadline_core::message::CallStatus;
use leadline_store::conversations::Conversation;
use leadline_store::leads::LeadUpdate;
use leadline_store::{Store, StoreError};

/// What a finished call means for its lead.
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

/// Applies a finished call to the lead waiting on it in `conversation`: its status and,
/// when attempts remain, the next attempt after the campaign's retry interval.
pub async fn record_call_outcome(
    store: &Store,
    conversation: &Conversation,
    status: CallStatus,
) -> Result<(), StoreError> {
    let Some(outcome) = call_outcome(status) else {
        return Ok(());
    };
    let Some(lead) = store.lead_waiting_on(conversation.id).await? else {
        return Ok(());
    };
    let Some(campaign) = store.campaign(lead.workspace_id, lead.campaign_id).await? else {
        return Ok(());
    };
    let now = store.clock().now();
    let (next_status, next_attempt) = after_attempt(
        outcome,
        lead.attempts,
        campaign.fields.max_attempts,
        campaign.fields.retry_interval,
        now,
    );
    tracing::info!(lead = %lead.id, call = %status, status = %next_status, "call outcome applied to the lead");
    store
        .update_lead(
            &lead,
            LeadUpdate {
                status: next_status,
                attempted_at: None,
                next_attempt_at: next_attempt,
                decision: LeadDecision::Allowed,
                reason: format!("call ended: {status}"),
                conversation_id: None,
            },
        )
        .await
}
