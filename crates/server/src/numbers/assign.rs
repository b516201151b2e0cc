//! Choosing the number an outbound message goes out from, and reserving its capacity.
//!
//! The request's hints are resolved from the store (the conversation's override and
//! sticky number, else the number that last reached the recipient within the sticky
//! window; the contact's assigned number), the pure selection in the core crate picks a
//! number from the cached pool, and the store reserves a send on it: a slot under the
//! number's rate and a unit of today's cap, in one transaction. A number found full or
//! busy while reserving is excluded and selection runs again, so a stale snapshot costs
//! a retry, never an extra send.
//!
//! WhatsApp sends from the channel's business number, and an SMS or voice channel that
//! no pool number serves keeps sending from its configured sender: a workspace gets the
//! pool's rules from its first number on, and nothing changes for one that has none.

use chrono::{DateTime, Days, TimeDelta, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::numbers::{Capability, SelectionReason, SelectionRequest, select};
use leadline_core::{CampaignId, ContactId, E164, PhoneNumberId, WorkspaceId};
use leadline_store::channels::Channel;
use leadline_store::conversations::{Conversation, OutboundSender};
use leadline_store::number_usage::{Reservation, ReserveSend};
use leadline_store::{Store, StoreError};

use super::pools::{NumberPools, PoolSnapshot};

/// Selections tried for one send before giving up on the pool for now.
pub(super) const MAX_TRIES: usize = 16;
/// How long a paused or blocked pool is left before the next try.
const HELD_RETRY: TimeDelta = TimeDelta::minutes(15);

/// The send a number is wanted for.
#[derive(Debug, Clone, Copy)]
pub struct SenderRequest<'a> {
    pub workspace_id: WorkspaceId,
    pub channel: &'a Channel,
    /// The conversation the message goes into, when it exists already.
    pub conversation: Option<&'a Conversation>,
    pub contact_id: ContactId,
    pub recipient: &'a E164,
    pub campaign_id: Option<CampaignId>,
}

/// Where a message goes out from.
#[derive(Debug, Clone)]
pub enum Assigned {
    /// The channel's own configured sender (WhatsApp, or no pool number serves it).
    ChannelSender,
    /// A pool number, with its send reserved.
    Number {
        sender: OutboundSender,
        reason: SelectionReason,
    },
    /// No number can send now; try again at `retry_at`.
    Unavailable {
        retry_at: DateTime<Utc>,
        reason: String,
    },
}

/// Numbers found full or busy while assigning a run of sends (one scheduler tick), so
/// the sends after it skip them without asking the store again.
#[derive(Debug, Default)]
pub struct Exclusions {
    numbers: Vec<PhoneNumberId>,
    earliest_slot: Option<DateTime<Utc>>,
    any_full: bool,
}

impl Exclusions {
    pub(super) fn numbers(&self) -> &[PhoneNumberId] {
        &self.numbers
    }

    pub(super) fn earliest_slot(&self) -> Option<DateTime<Utc>> {
        self.earliest_slot
    }

    pub(super) fn full(&mut self, id: PhoneNumberId) {
        self.numbers.push(id);
        self.any_full = true;
    }

    pub(super) fn busy(&mut self, id: PhoneNumberId, next_slot_at: DateTime<Utc>) {
        self.numbers.push(id);
        self.earliest_slot = Some(
            self.earliest_slot
                .map_or(next_slot_at, |slot| slot.min(next_slot_at)),
        );
    }

    /// No number can send `selection`'s message now: when to try again (the earliest
    /// slot seen, else tomorrow when numbers are capped, else after a while), and why.
    pub(super) fn unavailable(
        &self,
        snapshot: &PoolSnapshot,
        selection: &leadline_core::numbers::Selection,
        reason: String,
        now: DateTime<Utc>,
    ) -> Assigned {
        let capped = self.any_full
            || selection
                .candidates
                .iter()
                .any(|c| snapshot.pool.numbers()[c.index].health.state.can_send());
        let retry_at = match self.earliest_slot {
            Some(slot) => slot,
            None if capped => snapshot.next_reset(),
            None => now + HELD_RETRY,
        };
        Assigned::Unavailable { retry_at, reason }
    }
}

/// The hints of a selection, resolved from the store.
#[derive(Debug, Clone, Default)]
pub struct Hints {
    pub manual_override: Option<PhoneNumberId>,
    pub sticky: Option<PhoneNumberId>,
    pub lead_assigned: Option<PhoneNumberId>,
}

impl Hints {
    /// A request for `capability` carrying these hints; the caller adds the rest.
    pub fn request(self, capability: Capability) -> SelectionRequest {
        SelectionRequest {
            capability,
            manual_override: self.manual_override,
            sticky: self.sticky,
            lead_assigned: self.lead_assigned,
            ..SelectionRequest::default()
        }
    }
}

/// Resolves the override, the sticky number and the contact's assigned number.
pub async fn resolve_hints(
    store: &Store,
    snapshot: &PoolSnapshot,
    workspace_id: WorkspaceId,
    conversation: Option<&Conversation>,
    contact_id: Option<ContactId>,
    recipient: Option<&E164>,
) -> Result<Hints, StoreError> {
    let mut hints = Hints {
        manual_override: conversation.and_then(|c| c.override_number_id),
        sticky: conversation.and_then(|c| c.sticky_number_id),
        lead_assigned: None,
    };
    if hints.sticky.is_none()
        && let Some(recipient) = recipient
    {
        let since = store
            .clock()
            .now()
            .checked_sub_days(Days::new(u64::from(snapshot.settings.sticky_window_days)))
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        hints.sticky = store
            .recipient_number(workspace_id, recipient, since)
            .await?;
    }
    if let Some(contact_id) = contact_id {
        hints.lead_assigned = store
            .contact_assigned_number(workspace_id, contact_id)
            .await?;
    }
    Ok(hints)
}

/// The capability a channel's messages need, `None` for channels outside the pool.
pub fn capability_of(carries: MessageProviderType) -> Option<Capability> {
    match carries {
        MessageProviderType::Sms => Some(Capability::Sms),
        MessageProviderType::Voice => Some(Capability::Call),
        MessageProviderType::Whatsapp => None,
    }
}

/// Why a message an API request queues gets no sender. Callers answer it their own
/// way (the HTTP layer with a 409 naming when a number can send).
#[derive(Debug, thiserror::Error)]
pub enum SenderUnavailable {
    #[error("no phone number can send this now ({reason}); one can from {retry_at}")]
    NoNumberCanSend {
        retry_at: DateTime<Utc>,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Assigns sending numbers; cheap to clone.
#[derive(Clone)]
pub struct SenderAssigner {
    pub store: Store,
    pub pools: NumberPools,
}

impl SenderAssigner {
    /// The sender of a message an API request queues: `None` for the channel's own
    /// sender, or why no number can send now and when one can.
    pub async fn assign_for_request(
        &self,
        request: &SenderRequest<'_>,
    ) -> Result<Option<OutboundSender>, SenderUnavailable> {
        match self.assign(request, &mut Exclusions::default()).await? {
            Assigned::ChannelSender => Ok(None),
            Assigned::Number { sender, reason } => {
                tracing::debug!(from = %sender.number, %reason, "sending number chosen");
                Ok(Some(sender))
            }
            Assigned::Unavailable { retry_at, reason } => {
                Err(SenderUnavailable::NoNumberCanSend { retry_at, reason })
            }
        }
    }

    /// Whether any pool number can carry `channel`'s messages (else the channel sends
    /// from its own sender).
    pub async fn serves(
        &self,
        workspace_id: WorkspaceId,
        channel: &Channel,
    ) -> Result<bool, StoreError> {
        let Some(capability) = capability_of(channel.carries) else {
            return Ok(false);
        };
        let snapshot = self.pools.snapshot(workspace_id).await?;
        Ok(snapshot.pool.numbers().iter().any(|number| {
            number.capabilities.has(capability)
                && number.channel_id.is_none_or(|id| id == channel.id)
        }))
    }

    /// The number `request`'s message goes out from, its send reserved.
    pub async fn assign(
        &self,
        request: &SenderRequest<'_>,
        exclusions: &mut Exclusions,
    ) -> Result<Assigned, StoreError> {
        let Some(capability) = capability_of(request.channel.carries) else {
            return Ok(Assigned::ChannelSender);
        };
        let snapshot = self.pools.snapshot(request.workspace_id).await?;
        let hints = resolve_hints(
            &self.store,
            &snapshot,
            request.workspace_id,
            request.conversation,
            Some(request.contact_id),
            Some(request.recipient),
        )
        .await?;
        let mut selection_request = SelectionRequest {
            channel_id: Some(request.channel.id),
            recipient: Some(request.recipient.clone()),
            campaign_id: request.campaign_id,
            exclude: exclusions.numbers.clone(),
            max_listed: 1,
            ..hints.request(capability)
        };
        let settings = &snapshot.settings;
        let interval = settings.send_interval();
        let max_wait = (interval * 2).max(TimeDelta::seconds(1));
        for _ in 0..MAX_TRIES {
            let selection = select(&snapshot.pool, &selection_request);
            if selection.candidates.is_empty() && selection.selected.is_none() {
                return Ok(Assigned::ChannelSender);
            }
            let chosen = selection.selected.as_ref().filter(|s| s.can_send);
            let Some(chosen) = chosen else {
                let reason = selection
                    .selected
                    .as_ref()
                    .and_then(|s| s.warning.clone())
                    .or(selection.setup_message.clone())
                    .unwrap_or_else(|| "no number can send now".into());
                return Ok(exclusions.unavailable(
                    &snapshot,
                    &selection,
                    reason,
                    self.store.clock().now(),
                ));
            };
            let number = &snapshot.pool.numbers()[chosen.index];
            let now = self.store.clock().now();
            let reserve = ReserveSend {
                workspace_id: request.workspace_id,
                phone_number_id: number.id,
                capability,
                usage_day: snapshot.today,
                cap: match capability {
                    Capability::Sms => number.sms_cap,
                    Capability::Call => number.call_cap,
                },
                interval,
                max_wait,
                recipient: Some(request.recipient.clone()),
                now,
            };
            let reservation = self.store.reserve_send(&reserve).await?;
            let outcome = match reservation {
                Reservation::Reserved { .. } => "reserved",
                Reservation::Full { .. } => "full",
                Reservation::Busy { .. } => "busy",
            };
            metrics::counter!("leadline_number_reservations_total", "outcome" => outcome)
                .increment(1);
            match reservation {
                Reservation::Reserved { slot_at } => {
                    tracing::debug!(
                        phone_number = %number.id,
                        from = %number.number,
                        reason = %chosen.reason,
                        %slot_at,
                        "sending number assigned"
                    );
                    return Ok(Assigned::Number {
                        sender: OutboundSender {
                            phone_number_id: number.id,
                            number: number.number.clone(),
                            not_before: slot_at,
                        },
                        reason: chosen.reason,
                    });
                }
                Reservation::Full { used } => {
                    tracing::debug!(phone_number = %number.id, used, "number full for today; choosing another");
                    exclusions.full(number.id);
                    selection_request.exclude.push(number.id);
                }
                Reservation::Busy { next_slot_at } => {
                    exclusions.busy(number.id, next_slot_at);
                    selection_request.exclude.push(number.id);
                }
            }
        }
        Ok(Assigned::Unavailable {
            retry_at: exclusions
                .earliest_slot
                .unwrap_or_else(|| self.store.clock().now() + TimeDelta::seconds(1)),
            reason: "every number tried was full or busy; trying again shortly".into(),
        })
    }
}
