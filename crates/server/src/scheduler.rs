//! The campaign scheduler: on every tick, the due leads of each active campaign go
//! through the send gate, in each lead's own time zone. A lead the gate allows gets its
//! attempt: for SMS and WhatsApp the opening template opens an AI-controlled
//! conversation (as the LeadScout endpoint does); for voice a call is queued. A lead
//! the gate defers waits until the next opening; one it refuses ends. Every decision
//! is stored with its reason on the lead.
//!
//! SMS and voice attempts go out from a number of the workspace's pool, chosen and
//! reserved per lead (see [`crate::numbers`]); when no number can send (all at today's
//! cap, busy at their rate, or paused) the lead is deferred to when one can, with the
//! reason, and is not counted as attempted.
//!
//! Due leads are found per campaign by an index range scan (`leads_due`), so a tick
//! costs the number of due leads, not the number of leads. Pausing a campaign takes it
//! out of the next tick; its leads keep their place and resume when it is activated.

mod worker;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use leadline_core::calling_hours::{CallingHours, CallingWindowInput};
use leadline_core::campaign::{LeadStatus, Opening};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::Controller;
use leadline_core::gate::{self, GateDecision, GateInput};
use leadline_core::message::MessageType;
use leadline_core::script::Script;
use leadline_store::campaigns::Campaign;
use leadline_store::channels::Channel;
use leadline_store::conversations::{Conversation, NewOutbound, OpenConversation, OpenOutcome};
use leadline_store::leads::{Lead, LeadUpdate};
use leadline_store::messages::MessageTemplate;
use leadline_store::templates::Template;
use leadline_store::{Store, StoreError};
use tokio::sync::Notify;

use crate::numbers::assign::Exclusions;
use crate::numbers::{Assigned, NumberPools, SenderAssigner, SenderRequest};

pub use worker::run;

/// How long a claimed lead stays with this scheduler before another may take it.
const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(2);

/// One campaign's share of a tick: loaded once, used for each of its due leads.
struct CampaignTick<'a> {
    campaign: &'a Campaign,
    now: DateTime<Utc>,
    hours: CallingHours,
    zone: Option<chrono_tz::Tz>,
    channel: Option<Channel>,
    /// The opening template (its first language version), for SMS and WhatsApp.
    template: Option<Template>,
    opening: Opening,
}

pub struct Scheduler {
    pub store: Store,
    pub outbox_wake: Arc<Notify>,
    /// Chooses and reserves the number each attempt goes out from.
    pub senders: SenderAssigner,
}

impl Scheduler {
    /// A scheduler over `store`, choosing numbers from `pools`.
    pub fn new(store: Store, pools: NumberPools, outbox_wake: Arc<Notify>) -> Self {
        Self {
            senders: SenderAssigner {
                store: store.clone(),
                pools,
            },
            store,
            outbox_wake,
        }
    }

    /// One pass over every active campaign's due leads; returns how many it decided.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let mut decided = 0;
        for campaign in self.store.active_campaigns().await? {
            decided += self.work_campaign(&campaign).await?;
        }
        Ok(decided)
    }

    async fn work_campaign(&self, campaign: &Campaign) -> Result<usize, StoreError> {
        let now = self.store.clock().now();
        let leads = self
            .store
            .claim_due_leads(campaign.id, now, campaign.fields.concurrency, CLAIM_LEASE)
            .await?;
        if leads.is_empty() {
            return Ok(0);
        }
        let tick = self.prepare(campaign, now).await?;
        let count = leads.len();
        // Numbers found full or busy for one lead are skipped for the rest of the tick.
        let mut exclusions = Exclusions::default();
        for lead in leads {
            self.decide(&tick, lead, &mut exclusions).await?;
        }
        self.outbox_wake.notify_one();
        Ok(count)
    }

    /// What every lead of the campaign's tick shares, loaded once.
    async fn prepare<'a>(
        &self,
        campaign: &'a Campaign,
        now: DateTime<Utc>,
    ) -> Result<CampaignTick<'a>, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!("campaign {} calling hours: {what}", campaign.id))
        };
        let windows: Vec<CallingWindowInput> =
            serde_json::from_value(campaign.fields.calling_hours.clone())
                .map_err(|e| corrupt(e.to_string()))?;
        let hours = CallingHours::parse("callingHours", &windows)
            .map_err(|errors| corrupt(format!("{errors:?}")))?;
        let channel = self
            .store
            .channel(campaign.workspace_id, campaign.fields.channel_id)
            .await?;
        let template = match &campaign.fields.opening_template {
            Some(name) => self
                .store
                .templates_named(campaign.workspace_id, name)
                .await?
                .into_iter()
                .next(),
            None => None,
        };
        Ok(CampaignTick {
            campaign,
            now,
            hours,
            zone: campaign.fields.default_time_zone.parse().ok(),
            channel,
            template,
            opening: Opening::from_stored(&campaign.fields.opening),
        })
    }

    async fn decide(
        &self,
        tick: &CampaignTick<'_>,
        lead: Lead,
        exclusions: &mut Exclusions,
    ) -> Result<(), StoreError> {
        let opted_out = match &tick.channel {
            Some(channel) => self
                .store
                .opt_out(lead.contact_id, channel.carries)
                .await?
                .is_some(),
            None => false,
        };
        let do_not_contact = self
            .store
            .do_not_contact(tick.campaign.workspace_id, &lead.phone_number)
            .await?
            .is_some();
        let input = GateInput {
            now: tick.now,
            phone: &lead.phone_number,
            lead_zone: lead.time_zone.as_deref().and_then(|z| z.parse().ok()),
            campaign_zone: tick.zone,
            workspace_zone: None,
            calling_hours: &tick.hours,
            opted_out,
            do_not_contact,
            recent_attempts: &lead.attempt_times,
        };
        match gate::decide(&input) {
            GateDecision::Refused { reason } => {
                tracing::info!(lead = %lead.id, %reason, "gate refused the lead");
                let update = LeadUpdate {
                    status: LeadStatus::Refused,
                    attempted_at: None,
                    next_attempt_at: None,
                    decision: "refused",
                    reason: reason.to_string(),
                    conversation_id: None,
                };
                self.store.update_lead(&lead, update).await
            }
            GateDecision::Deferred { until, reason } => {
                tracing::debug!(lead = %lead.id, %until, %reason, "gate deferred the lead");
                let update = LeadUpdate {
                    status: lead.status,
                    attempted_at: None,
                    next_attempt_at: Some(until),
                    decision: "deferred",
                    reason: reason.to_string(),
                    conversation_id: None,
                };
                self.store.update_lead(&lead, update).await
            }
            GateDecision::Allowed => self.attempt(tick, lead, exclusions).await,
        }
    }

    /// Makes the attempt the gate allowed.
    async fn attempt(
        &self,
        tick: &CampaignTick<'_>,
        lead: Lead,
        exclusions: &mut Exclusions,
    ) -> Result<(), StoreError> {
        let (campaign, now) = (tick.campaign, tick.now);
        let Some(channel) = &tick.channel else {
            return self
                .end(
                    &lead,
                    LeadStatus::Error,
                    "the campaign's channel no longer exists",
                )
                .await;
        };
        let render = |text: &str| {
            Script::parse("opening", text)
                .map(|s| s.render(&lead.call_data))
                .unwrap_or_default()
        };
        let (mut outbound, status) = match channel.carries {
            MessageProviderType::Voice => (
                NewOutbound {
                    message_type: MessageType::Call,
                    body: tick
                        .opening
                        .script
                        .as_deref()
                        .map(render)
                        .unwrap_or_default(),
                    template: None,
                    author_user_id: None,
                    sender: None,
                },
                LeadStatus::InCallQueue,
            ),
            carries => {
                let Some(template) = &tick.template else {
                    let name = campaign
                        .fields
                        .opening_template
                        .as_deref()
                        .unwrap_or_default();
                    return self
                        .end(
                            &lead,
                            LeadStatus::Error,
                            &format!("the opening template '{name}' no longer exists"),
                        )
                        .await;
                };
                let params: Vec<String> = tick
                    .opening
                    .template_params
                    .iter()
                    .map(|p| render(p))
                    .collect();
                let Ok(body) = template.body.render(&params) else {
                    return self
                        .end(
                            &lead,
                            LeadStatus::Error,
                            "the opening template's placeholders no longer match its parameters",
                        )
                        .await;
                };
                let message_type = if carries == MessageProviderType::Whatsapp {
                    MessageType::Whatsapp
                } else {
                    MessageType::Sms
                };
                (
                    NewOutbound {
                        message_type,
                        body,
                        template: Some(MessageTemplate {
                            name: template.name.clone(),
                            language: template.language.clone(),
                            params,
                        }),
                        author_user_id: None,
                        sender: None,
                    },
                    LeadStatus::Complete,
                )
            }
        };

        // The active conversation's sticky number and override count, when a pool serves
        // the channel at all.
        let active = if self.senders.serves(campaign.workspace_id, channel).await? {
            self.store
                .active_conversation(campaign.workspace_id, lead.contact_id, channel.id)
                .await?
        } else {
            None
        };
        let request = SenderRequest {
            workspace_id: campaign.workspace_id,
            channel,
            conversation: active.as_ref(),
            contact_id: lead.contact_id,
            recipient: &lead.phone_number,
            campaign_id: Some(campaign.id),
        };
        match self.senders.assign(&request, exclusions).await? {
            Assigned::ChannelSender => {}
            Assigned::Number { sender, reason } => {
                tracing::debug!(lead = %lead.id, from = %sender.number, %reason, "sending number chosen");
                outbound.sender = Some(sender);
            }
            Assigned::Unavailable { retry_at, reason } => {
                tracing::info!(lead = %lead.id, until = %retry_at, %reason, "no number can send the attempt now; lead deferred");
                let update = LeadUpdate {
                    status: lead.status,
                    attempted_at: None,
                    next_attempt_at: Some(retry_at),
                    decision: "deferred",
                    reason: format!("no sending number: {reason}"),
                    conversation_id: None,
                };
                return self.store.update_lead(&lead, update).await;
            }
        }
        let contact = self
            .store
            .contact(campaign.workspace_id, lead.contact_id)
            .await?;
        let opened = self
            .store
            .open_conversation(OpenConversation {
                workspace_id: campaign.workspace_id,
                contact_id: lead.contact_id,
                channel_id: channel.id,
                name: campaign.fields.name.clone(),
                controller: Controller::Ai,
                assigned_user_id: contact.and_then(|c| c.fields.owner_id),
                agent_context: None,
                additional_messages: Vec::new(),
                campaign_id: Some(campaign.id.to_string()),
                consent_captured_at: None,
                opening: Some(outbound.clone()),
            })
            .await?;
        let conversation: Conversation = match opened {
            OpenOutcome::Opened { conversation, .. } => conversation,
            OpenOutcome::AlreadyActive { conversation } => {
                // A retry (or a lead already in conversation): the attempt goes into the
                // active conversation.
                self.store.queue_message(&conversation, outbound).await?;
                conversation
            }
        };
        tracing::info!(lead = %lead.id, campaign = %campaign.id, conversation = %conversation.id, "lead attempted");
        let update = LeadUpdate {
            status,
            attempted_at: Some(now),
            next_attempt_at: None,
            decision: "allowed",
            reason: "inside every calling window".into(),
            conversation_id: Some(conversation.id),
        };
        self.store.update_lead(&lead, update).await
    }

    async fn end(&self, lead: &Lead, status: LeadStatus, reason: &str) -> Result<(), StoreError> {
        tracing::warn!(lead = %lead.id, %reason, "lead ended");
        let update = LeadUpdate {
            status,
            attempted_at: None,
            next_attempt_at: None,
            decision: "allowed",
            reason: reason.to_owned(),
            conversation_id: None,
        };
        self.store.update_lead(lead, update).await
    }
}
