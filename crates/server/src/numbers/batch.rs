//! Sending numbers for a whole campaign batch at once. The pool's live state (each
//! number's next free slot and today's usage) is read in one statement, the batch's
//! sends are assigned to numbers in order exactly as [`SenderAssigner::assign`] would
//! assign them one by one — the same selection, the same slot under each number's rate,
//! the same daily cap, the same exclusion of a number found busy or full — and the
//! reservations come back as one [`BatchReservations`], which the store writes with the
//! batch only if no number moved meanwhile.

use std::collections::HashMap;

use chrono::{DateTime, Days, TimeDelta, Utc};
use leadline_core::numbers::{Capability, SelectionRequest, select};
use leadline_core::{CampaignId, E164, PhoneNumberId, WorkspaceId};
use leadline_store::StoreError;
use leadline_store::bulk_reads::NumberState;
use leadline_store::campaign_batch::{BatchReservations, NumberBooking};
use leadline_store::channels::Channel;
use leadline_store::conversations::{Conversation, OutboundSender};

use super::assign::{Exclusions, Hints, MAX_TRIES, capability_of};
use super::pools::PoolSnapshot;
use super::{Assigned, SenderAssigner};

/// One send of a batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchSend<'a> {
    pub recipient: &'a E164,
    /// The contact's active conversation on the channel (its override and sticky
    /// number).
    pub conversation: Option<&'a Conversation>,
    /// The number assigned to the contact.
    pub assigned_number: Option<PhoneNumberId>,
}

/// Where each send of a batch goes out from, and the reservations to write with it.
#[derive(Debug)]
pub struct BatchAssignment {
    /// One per send, in the batch's order.
    pub assigned: Vec<Assigned>,
    /// `None` when no send uses a pool number.
    pub reservations: Option<BatchReservations>,
}

/// A number's state as the batch's sends use it up.
struct Booked {
    seen: NumberState,
    now: NumberState,
    sends: u32,
}

impl SenderAssigner {
    /// Assigns a number to each of `sends` (see the module's documentation). Nothing is
    /// written: the reservations travel with the batch.
    pub async fn assign_batch(
        &self,
        workspace_id: WorkspaceId,
        channel: &Channel,
        campaign_id: CampaignId,
        sends: &[BatchSend<'_>],
    ) -> Result<BatchAssignment, StoreError> {
        let channel_senders = || BatchAssignment {
            assigned: sends.iter().map(|_| Assigned::ChannelSender).collect(),
            reservations: None,
        };
        let Some(capability) = capability_of(channel.carries) else {
            return Ok(channel_senders());
        };
        if sends.is_empty() || !self.serves(workspace_id, channel).await? {
            return Ok(channel_senders());
        }
        let snapshot = self.pools.snapshot(workspace_id).await?;
        let now = self.store.clock().now();
        let since = now
            .checked_sub_days(Days::new(u64::from(snapshot.settings.sticky_window_days)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let unstuck: Vec<&E164> = sends
            .iter()
            .filter(|s| s.conversation.and_then(|c| c.sticky_number_id).is_none())
            .map(|s| s.recipient)
            .collect();
        let last_reached = self
            .store
            .recipient_numbers_among(workspace_id, &unstuck, since)
            .await?;
        let states = self
            .store
            .number_states(workspace_id, snapshot.today)
            .await?;

        let mut plan = BatchPlan {
            snapshot: &snapshot,
            capability,
            channel,
            campaign_id,
            now,
            states,
            booked: HashMap::new(),
            exclusions: Exclusions::default(),
            recipients: Vec::new(),
        };
        let assigned = sends
            .iter()
            .map(|send| {
                let hints = Hints {
                    manual_override: send.conversation.and_then(|c| c.override_number_id),
                    sticky: send
                        .conversation
                        .and_then(|c| c.sticky_number_id)
                        .or_else(|| last_reached.get(send.recipient.as_str()).copied()),
                    lead_assigned: send.assigned_number,
                };
                plan.assign(send.recipient, hints)
            })
            .collect();
        let numbers: Vec<NumberBooking> = plan
            .booked
            .into_iter()
            .map(|(id, booked)| NumberBooking {
                phone_number_id: id,
                capability,
                seen_next_slot_at: booked.seen.next_slot_at,
                next_slot_at: booked.now.next_slot_at,
                sends: booked.sends,
            })
            .collect();
        let reservations = (!numbers.is_empty()).then(|| BatchReservations {
            usage_day: snapshot.today,
            now,
            numbers,
            recipients: plan.recipients,
        });
        Ok(BatchAssignment {
            assigned,
            reservations,
        })
    }
}

/// The batch's assignment in progress.
struct BatchPlan<'a> {
    snapshot: &'a PoolSnapshot,
    capability: Capability,
    channel: &'a Channel,
    campaign_id: CampaignId,
    now: DateTime<Utc>,
    states: HashMap<PhoneNumberId, NumberState>,
    booked: HashMap<PhoneNumberId, Booked>,
    exclusions: Exclusions,
    recipients: Vec<(E164, PhoneNumberId)>,
}

impl BatchPlan<'_> {
    /// The number one send goes out from, its slot and cap taken in the plan.
    fn assign(&mut self, recipient: &E164, hints: Hints) -> Assigned {
        let mut request = SelectionRequest {
            channel_id: Some(self.channel.id),
            recipient: Some(recipient.clone()),
            campaign_id: Some(self.campaign_id),
            exclude: self.exclusions.numbers().to_vec(),
            max_listed: 1,
            ..hints.request(self.capability)
        };
        let settings = &self.snapshot.settings;
        // Every reservation must move `next_slot_at` forward: that is what the batch's
        // write compares (settings allow at most 1,000 sends a second, 1 ms apart).
        let interval = settings.send_interval().max(TimeDelta::microseconds(1));
        let max_wait = (interval * 2).max(TimeDelta::seconds(1));
        for _ in 0..MAX_TRIES {
            let selection = select(&self.snapshot.pool, &request);
            if selection.candidates.is_empty() && selection.selected.is_none() {
                return Assigned::ChannelSender;
            }
            let Some(chosen) = selection.selected.as_ref().filter(|s| s.can_send) else {
                let reason = selection
                    .selected
                    .as_ref()
                    .and_then(|s| s.warning.clone())
                    .or(selection.setup_message.clone())
                    .unwrap_or_else(|| "no number can send now".into());
                return self
                    .exclusions
                    .unavailable(self.snapshot, &selection, reason, self.now);
            };
            let number = &self.snapshot.pool.numbers()[chosen.index];
            let Some(seen) = self.states.get(&number.id).copied() else {
                // Deleted since the snapshot was taken.
                self.exclusions.full(number.id);
                request.exclude.push(number.id);
                continue;
            };
            let booked = self.booked.entry(number.id).or_insert(Booked {
                seen,
                now: seen,
                sends: 0,
            });
            let slot_at = booked.now.next_slot_at.max(self.now);
            let (cap, used) = match self.capability {
                Capability::Sms => (number.sms_cap, booked.now.sms_used),
                Capability::Call => (number.call_cap, booked.now.calls_used),
            };
            let outcome = if slot_at > self.now + max_wait {
                self.exclusions.busy(number.id, slot_at);
                "busy"
            } else if cap == 0 || used >= cap {
                self.exclusions.full(number.id);
                "full"
            } else {
                "reserved"
            };
            metrics::counter!("leadline_number_reservations_total", "outcome" => outcome)
                .increment(1);
            if outcome != "reserved" {
                if booked.sends == 0 {
                    self.booked.remove(&number.id);
                }
                request.exclude.push(number.id);
                continue;
            }
            booked.now.next_slot_at = slot_at + interval;
            match self.capability {
                Capability::Sms => booked.now.sms_used += 1,
                Capability::Call => booked.now.calls_used += 1,
            }
            booked.sends += 1;
            self.recipients.push((recipient.clone(), number.id));
            return Assigned::Number {
                sender: OutboundSender {
                    phone_number_id: number.id,
                    number: number.number.clone(),
                    not_before: slot_at,
                },
                reason: chosen.reason,
            };
        }
        Assigned::Unavailable {
            retry_at: self
                .exclusions
                .earliest_slot()
                .unwrap_or_else(|| self.now + TimeDelta::seconds(1)),
            reason: "every number tried was full or busy; trying again shortly".into(),
        }
    }
}
