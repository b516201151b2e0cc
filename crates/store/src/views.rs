//! Stored rows turned into the API's representations (`leadline_core::views`): what
//! handlers answer and what events carry as their `data`, built in one place so the
//! two never differ.

mod messaging;

pub use messaging::contact_view;

use leadline_core::numbers::Hold;
use leadline_core::views::{
    CampaignView, GateDecisionView, LeadView, NumberCapabilitiesView, OptOutView, PhoneNumberView,
    timestamp,
};

use crate::campaigns::Campaign;
use crate::leads::Lead;
use crate::opt_outs::OptOut;
use crate::phone_numbers::PhoneNumber;

impl From<&Lead> for LeadView {
    fn from(lead: &Lead) -> Self {
        LeadView {
            id: lead.id.to_string(),
            campaign_id: lead.campaign_id.to_string(),
            contact_id: lead.contact_id.to_string(),
            phone_number: lead.phone_number.as_str().to_owned(),
            external_id: lead.external_id.clone(),
            time_zone: lead.time_zone.clone(),
            call_data: lead.call_data.clone(),
            status: lead.status,
            status_code: lead.status.code(),
            attempts: lead.attempts,
            next_attempt_at: lead.next_attempt_at.map(timestamp),
            last_decision: lead.last_decision.map(|decision| GateDecisionView {
                decision,
                reason: lead.last_decision_reason.clone(),
                at: lead.last_decision_at.map(timestamp),
            }),
            conversation_id: lead.conversation_id.map(|c| c.to_string()),
            created_at: timestamp(lead.created_at),
            updated_at: timestamp(lead.updated_at),
        }
    }
}

impl From<&Campaign> for CampaignView {
    fn from(campaign: &Campaign) -> Self {
        let fields = &campaign.fields;
        CampaignView {
            id: campaign.id.to_string(),
            workspace_id: campaign.workspace_id.to_string(),
            name: fields.name.clone(),
            channel_id: fields.channel_id.to_string(),
            default_time_zone: fields.default_time_zone.clone(),
            default_country: fields.default_country.clone(),
            calling_hours: fields.calling_hours.clone(),
            max_attempts: fields.max_attempts,
            retry_interval: fields.retry_interval,
            opening_template: fields.opening_template.clone(),
            opening_template_params: fields.opening.template_params.clone(),
            opening_script: fields.opening.script.clone(),
            required_variables: fields.opening.required_variables(),
            concurrency: fields.concurrency,
            status: campaign.status,
            created_at: timestamp(campaign.created_at),
            updated_at: timestamp(campaign.updated_at),
        }
    }
}

impl From<&OptOut> for OptOutView {
    fn from(opt_out: &OptOut) -> Self {
        OptOutView {
            contact_id: opt_out.contact_id.to_string(),
            message_provider_type: opt_out.channel_type,
            source: opt_out.source.clone(),
            evidence: opt_out.evidence.clone(),
            message_id: opt_out.message_id.map(|m| m.to_string()),
            opted_out_at: timestamp(opt_out.opted_out_at),
        }
    }
}

impl From<&PhoneNumber> for PhoneNumberView {
    fn from(number: &PhoneNumber) -> Self {
        let (paused, blocked, hold_reason, hold_automatic) = match &number.hold {
            Hold::None => (false, false, None, false),
            Hold::Paused { reason, automatic } => (true, false, Some(reason.clone()), *automatic),
            Hold::Blocked { reason } => (false, true, Some(reason.clone()), false),
        };
        PhoneNumberView {
            id: number.id.to_string(),
            workspace_id: number.workspace_id.to_string(),
            number: number.number.to_string(),
            display_number: number.display_number.clone(),
            capabilities: NumberCapabilitiesView {
                sms: number.capabilities.sms,
                call: number.capabilities.call,
            },
            channel_id: number.channel_id.map(|c| c.to_string()),
            label: number.label.clone(),
            team_id: number.team_id.map(|t| t.to_string()),
            campaign_ids: number.campaign_ids.iter().map(|c| c.to_string()).collect(),
            source_ids: number.source_ids.iter().map(|s| s.to_string()).collect(),
            preferred: number.preferred,
            is_default: number.is_default,
            paused,
            blocked,
            hold_reason,
            hold_automatic,
            held_at: number.held_at.map(timestamp),
            warmup_started_on: number.warmup_started_on.map(|d| d.to_string()),
            last_used_at: number.last_used_at.map(timestamp),
            created_at: timestamp(number.created_at),
            updated_at: timestamp(number.updated_at),
        }
    }
}

/// `From<Row>` beside `From<&Row>`, for callers that hand over what they read.
macro_rules! from_owned {
    ($($row:ty => $view:ty),* $(,)?) => {
        $(impl From<$row> for $view {
            fn from(row: $row) -> Self {
                <$view>::from(&row)
            }
        })*
    };
}

from_owned! {
    Lead => LeadView,
    Campaign => CampaignView,
    OptOut => OptOutView,
    PhoneNumber => PhoneNumberView,
    crate::messages::Message => leadline_core::views::MessageView,
    crate::agent::Decision => leadline_core::views::DecisionView,
    crate::conversations::Conversation => leadline_core::views::ConversationView,
}
