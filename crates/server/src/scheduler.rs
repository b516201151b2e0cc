//! The campaign scheduler: each step takes a batch of every active campaign's due leads
//! through the send gate, in each lead's own time zone. A lead the gate allows gets its
//! attempt: for SMS and WhatsApp the opening template opens an AI-controlled
//! conversation (as the LeadScout endpoint does, through the same use case); for voice
//! a call is queued. A lead the gate defers waits until the next opening; one it
//! refuses ends. Every decision is stored with its reason on the lead.
//!
//! A batch costs a handful of statements whatever its size: one claims the due leads
//! (an index range scan of `leads_due`, so a step costs the due leads, not all leads),
//! one reads each of the opt-outs, the do-not-contact list, the active conversations,
//! the contacts' owners and numbers, and the pool's state; the gate, the number
//! assignment and the openings are decided in memory; and one transaction writes the
//! reservations, conversations, messages, send jobs and lead updates (see
//! [`leadline_store::campaign_batch`]).
//!
//! SMS and voice attempts go out from a number of the workspace's pool, chosen and
//! reserved per lead in the batch's order (see [`crate::numbers::batch`]); when no
//! number can send (all at today's cap, busy at their rate, or paused) the lead is
//! deferred to when one can, with the reason, and is not counted as attempted. Pausing
//! a campaign takes it out of the next step; its leads keep their place and resume when
//! it is activated.

mod tick;
mod worker;

use std::sync::Arc;

use leadline_core::campaign::{LeadDecision, LeadStatus};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::Controller;
use leadline_core::gate::{self, GateDecision, GateInput};
use leadline_store::campaign_batch::{
    BatchReservations, BatchWritten, CampaignBatch, PlannedAttempt,
};
use leadline_store::campaigns::Campaign;
use leadline_store::channels::Channel;
use leadline_store::conversations::NewOutbound;
use leadline_store::leads::{Lead, LeadUpdate};
use leadline_store::{Store, StoreError};
use tokio::sync::Notify;

use crate::numbers::batch::BatchSend;
use crate::numbers::{Assigned, NumberPools, SenderAssigner};
use crate::usecases::outbound::{NewConversation, WhenActive, open_outbound_conversation};
use crate::worker_step::Step;
use tick::CampaignTick;

pub use worker::run;

/// How long a claimed lead stays with this scheduler before another may take it.
const CLAIM_LEASE: chrono::Duration = chrono::Duration::minutes(2);
/// The most leads of a messaging campaign one step takes. A voice campaign takes at
/// most its `concurrency` (calls in flight at once).
const MESSAGING_BATCH: u32 = 1000;
/// How often a batch is planned again when pool numbers moved under it before it gives
/// its leads back for a moment.
const REPLANS: usize = 4;

pub struct Scheduler {
    pub store: Store,
    pub outbox_wake: Arc<Notify>,
    /// Chooses and reserves the number each attempt goes out from.
    pub senders: SenderAssigner,
}

/// A lead the gate allowed, with its opening.
struct Allowed {
    lead: Lead,
    outbound: NewOutbound,
    status: LeadStatus,
    /// What the gate says should the contact turn out to have opted out.
    if_opted_out: LeadUpdate,
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

    /// One batch of every active campaign's due leads: `Worked(n)` with the leads
    /// decided, `Idle` when none was due.
    pub async fn run_once(&self) -> Result<Step, StoreError> {
        let mut decided = 0;
        for campaign in self.store.active_campaigns().await? {
            decided += self.work_campaign(&campaign).await?;
        }
        Ok(Step::from_count(decided))
    }

    async fn work_campaign(&self, campaign: &Campaign) -> Result<usize, StoreError> {
        let now = self.store.clock().now();
        let tick = CampaignTick::load(&self.store, campaign, now).await?;
        let limit = match &tick.channel {
            Some(channel) if channel.carries == MessageProviderType::Voice => {
                campaign.fields.concurrency
            }
            _ => MESSAGING_BATCH,
        };
        let leads = self
            .store
            .claim_due_leads(campaign.id, now, limit, CLAIM_LEASE)
            .await?;
        if leads.is_empty() {
            return Ok(0);
        }
        let count = leads.len();
        let mut decisions = Vec::new();
        let allowed = match &tick.channel {
            None => {
                let reason = "the campaign's channel no longer exists";
                tracing::warn!(campaign = %campaign.id, leads = count, %reason, "leads ended");
                decisions.extend(leads.into_iter().map(|lead| {
                    let update = ended(LeadStatus::Error, reason);
                    (lead, update)
                }));
                Vec::new()
            }
            Some(channel) => self.gate(&tick, channel, leads, &mut decisions).await?,
        };
        let attempted = match &tick.channel {
            Some(channel) if !allowed.is_empty() => {
                self.attempt(&tick, channel, allowed, decisions).await?
            }
            _ => {
                self.write(&tick, None, Vec::new(), decisions).await?;
                0
            }
        };
        tracing::info!(campaign = %campaign.id, leads = count, attempted, "campaign batch decided");
        if attempted > 0 {
            self.outbox_wake.notify_one();
        }
        Ok(count)
    }

    /// The gate's verdict on each lead: refused and deferred leads go to `decisions`,
    /// allowed ones come back with their opening (or end when it cannot be made).
    async fn gate(
        &self,
        tick: &CampaignTick<'_>,
        channel: &Channel,
        leads: Vec<Lead>,
        decisions: &mut Vec<(Lead, LeadUpdate)>,
    ) -> Result<Vec<Allowed>, StoreError> {
        let workspace_id = tick.campaign.workspace_id;
        let contacts: Vec<_> = leads.iter().map(|l| l.contact_id).collect();
        let opted_out = self
            .store
            .opted_out_among(&contacts, channel.carries)
            .await?;
        let phones: Vec<_> = leads.iter().map(|l| &l.phone_number).collect();
        let do_not_contact = self
            .store
            .do_not_contact_among(workspace_id, &phones)
            .await?;
        let mut allowed = Vec::new();
        for lead in leads {
            let verdict = |opted_out: bool| {
                gate::decide(&GateInput {
                    now: tick.now,
                    phone: &lead.phone_number,
                    lead_zone: lead.time_zone.as_deref().and_then(|z| z.parse().ok()),
                    campaign_zone: tick.zone,
                    workspace_zone: None,
                    calling_hours: &tick.hours,
                    opted_out,
                    do_not_contact: do_not_contact.contains(lead.phone_number.as_str()),
                    recent_attempts: &lead.attempt_times,
                })
            };
            let update = match verdict(opted_out.contains(&lead.contact_id)) {
                GateDecision::Refused { reason } => {
                    tracing::debug!(lead = %lead.id, %reason, "gate refused the lead");
                    refused(reason.to_string())
                }
                GateDecision::Deferred { until, reason } => {
                    tracing::debug!(lead = %lead.id, %until, %reason, "gate deferred the lead");
                    deferred(&lead, until, reason.to_string())
                }
                GateDecision::Allowed => match tick.opening_for(channel, &lead) {
                    Ok((outbound, status)) => {
                        let if_opted_out = match verdict(true) {
                            GateDecision::Refused { reason } => refused(reason.to_string()),
                            _ => refused("the contact opted out".into()),
                        };
                        allowed.push(Allowed {
                            lead,
                            outbound,
                            status,
                            if_opted_out,
                        });
                        continue;
                    }
                    Err(reason) => {
                        tracing::warn!(lead = %lead.id, %reason, "lead ended");
                        ended(LeadStatus::Error, &reason)
                    }
                },
            };
            decisions.push((lead, update));
        }
        Ok(allowed)
    }

    /// Makes the attempts the gate allowed: numbers, openings, and the batch's write.
    /// Returns how many were made.
    async fn attempt(
        &self,
        tick: &CampaignTick<'_>,
        channel: &Channel,
        allowed: Vec<Allowed>,
        decisions: Vec<(Lead, LeadUpdate)>,
    ) -> Result<usize, StoreError> {
        let campaign = tick.campaign;
        let workspace_id = campaign.workspace_id;
        let contacts: Vec<_> = allowed.iter().map(|a| a.lead.contact_id).collect();
        let active = self
            .store
            .active_conversations_among(workspace_id, channel.id, &contacts)
            .await?;
        let links = self.store.contact_links(workspace_id, &contacts).await?;
        for _ in 0..REPLANS {
            let sends: Vec<BatchSend> = allowed
                .iter()
                .map(|a| BatchSend {
                    recipient: &a.lead.phone_number,
                    conversation: active.get(&a.lead.contact_id),
                    assigned_number: links
                        .get(&a.lead.contact_id)
                        .and_then(|l| l.assigned_number_id),
                })
                .collect();
            let assignment = self
                .senders
                .assign_batch(workspace_id, channel, campaign.id, &sends)
                .await?;
            let mut attempts = Vec::new();
            let mut decided = decisions.clone();
            for (allowed, assigned) in allowed.iter().zip(assignment.assigned) {
                let lead = &allowed.lead;
                let mut outbound = allowed.outbound.clone();
                match assigned {
                    Assigned::ChannelSender => {}
                    Assigned::Number { sender, reason } => {
                        tracing::debug!(lead = %lead.id, from = %sender.number, %reason, "sending number chosen");
                        outbound.sender = Some(sender);
                    }
                    Assigned::Unavailable { retry_at, reason } => {
                        tracing::debug!(lead = %lead.id, until = %retry_at, %reason, "no number can send the attempt now; lead deferred");
                        let update =
                            deferred(lead, retry_at, format!("no sending number: {reason}"));
                        decided.push((lead.clone(), update));
                        continue;
                    }
                }
                let open = NewConversation {
                    workspace_id,
                    contact_id: lead.contact_id,
                    channel_id: channel.id,
                    name: campaign.fields.name.clone(),
                    controller: Controller::Ai,
                    assigned_user_id: links.get(&lead.contact_id).and_then(|l| l.owner_id),
                    agent_context: None,
                    additional_messages: Vec::new(),
                    campaign_id: Some(campaign.id.to_string()),
                    consent_captured_at: None,
                };
                // A retry (or a lead already in conversation) goes into the active one.
                let opening = open_outbound_conversation(
                    open,
                    active.get(&lead.contact_id),
                    WhenActive::SendInIt,
                    outbound,
                    tick.now,
                )
                .expect("an active conversation takes the attempt");
                attempts.push(PlannedAttempt {
                    lead: lead.clone(),
                    opening,
                    update: LeadUpdate {
                        status: allowed.status,
                        attempted_at: Some(tick.now),
                        next_attempt_at: None,
                        decision: LeadDecision::Allowed,
                        reason: "inside every calling window".into(),
                        conversation_id: None,
                    },
                    if_opted_out: allowed.if_opted_out.clone(),
                });
            }
            let reservations = assignment.reservations;
            match self.write(tick, reservations, attempts, decided).await? {
                BatchWritten::Written {
                    attempted,
                    opted_out,
                } => {
                    if opted_out > 0 {
                        tracing::info!(campaign = %campaign.id, leads = opted_out, "contacts opted out while their batch was planned; not attempted");
                    }
                    return Ok(attempted);
                }
                BatchWritten::NumbersMoved => {
                    tracing::debug!(campaign = %campaign.id, "pool numbers were used by another sender meanwhile; planning the batch again");
                }
            }
        }
        // The pool is contended by other senders right now: the leads wait a moment.
        let retry_at = tick.now + chrono::Duration::seconds(1);
        let mut decided = decisions;
        decided.extend(allowed.into_iter().map(|a| {
            let update = deferred(
                &a.lead,
                retry_at,
                "no sending number: the pool's numbers were busy with other senders".into(),
            );
            (a.lead, update)
        }));
        self.write(tick, None, Vec::new(), decided).await?;
        Ok(0)
    }

    async fn write(
        &self,
        tick: &CampaignTick<'_>,
        reservations: Option<BatchReservations>,
        attempts: Vec<PlannedAttempt>,
        decisions: Vec<(Lead, LeadUpdate)>,
    ) -> Result<BatchWritten, StoreError> {
        let channel_type = tick
            .channel
            .as_ref()
            .map_or(MessageProviderType::Sms, |c| c.carries);
        self.store
            .write_campaign_batch(CampaignBatch {
                workspace_id: tick.campaign.workspace_id,
                channel_type,
                reservations,
                attempts,
                decisions,
            })
            .await
    }
}

fn refused(reason: String) -> LeadUpdate {
    LeadUpdate {
        status: LeadStatus::Refused,
        attempted_at: None,
        next_attempt_at: None,
        decision: LeadDecision::Refused,
        reason,
        conversation_id: None,
    }
}

fn deferred(lead: &Lead, until: chrono::DateTime<chrono::Utc>, reason: String) -> LeadUpdate {
    LeadUpdate {
        status: lead.status,
        attempted_at: None,
        next_attempt_at: Some(until),
        decision: LeadDecision::Deferred,
        reason,
        conversation_id: None,
    }
}

fn ended(status: LeadStatus, reason: &str) -> LeadUpdate {
    LeadUpdate {
        status,
        attempted_at: None,
        next_attempt_at: None,
        decision: LeadDecision::Allowed,
        reason: reason.to_owned(),
        conversation_id: None,
    }
}
