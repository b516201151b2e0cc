//! Which number a send goes out from: tiers tried in order, the first number that can
//! send wins. A [`NumberPool`] is built once from the stored numbers (with indexes by
//! id, area code, state, country, campaign, source and team) so that one selection
//! over ten thousand numbers touches only the few it lists.

use chrono::{DateTime, Utc};

use super::Capabilities;
use super::health::Health;
use crate::ids::{CampaignId, ChannelId, PhoneNumberId, SourceId, TeamId};
use crate::phone::E164;

use super::Capability;

wire_enum! {
    /// Why a number qualifies, in tier order: the first tier with a number that can
    /// send wins.
    pub enum SelectionReason {
        ManualOverride = "ManualOverride",
        StickyConversation = "StickyConversation",
        LeadAssigned = "LeadAssigned",
        CampaignOrSource = "CampaignOrSource",
        Preferred = "Preferred",
        LocalArea = "LocalArea",
        HealthyPool = "HealthyPool",
        FallbackDefault = "FallbackDefault",
    }
}

/// One number as selection sees it: what it is, what it serves, and where it stands
/// today.
#[derive(Debug, Clone)]
pub struct PoolNumber {
    pub id: PhoneNumberId,
    pub number: E164,
    pub display_number: String,
    pub label: Option<String>,
    pub capabilities: Capabilities,
    /// The channel the number sends through; `None`: any channel of a matching type.
    pub channel_id: Option<ChannelId>,
    pub team_id: Option<TeamId>,
    pub campaign_ids: Vec<CampaignId>,
    pub source_ids: Vec<SourceId>,
    pub preferred: bool,
    pub is_default: bool,
    pub health: Health,
    /// Today's SMS cap and usage.
    pub sms_cap: u32,
    pub sms_used: u32,
    /// Today's call cap and usage.
    pub call_cap: u32,
    pub call_used: u32,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl PoolNumber {
    /// Sends of `capability` left today.
    pub fn remaining(&self, capability: Capability) -> u32 {
        match capability {
            Capability::Sms => self.sms_cap.saturating_sub(self.sms_used),
            Capability::Call => self.call_cap.saturating_sub(self.call_used),
        }
    }
}

/// The numbers of one workspace, indexed for selection.
#[derive(Debug, Clone, Default)]
pub struct NumberPool {
    numbers: Vec<PoolNumber>,
}

impl NumberPool {
    pub fn new(numbers: Vec<PoolNumber>) -> Self {
        Self { numbers }
    }

    pub fn numbers(&self) -> &[PoolNumber] {
        &self.numbers
    }

    pub fn get(&self, id: PhoneNumberId) -> Option<&PoolNumber> {
        self.numbers.iter().find(|number| number.id == id)
    }

    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }
}

/// What is known about the send a number is chosen for. The caller resolves the
/// hints: `sticky` is the conversation's last number, else the number that reached
/// this recipient within the workspace's sticky window; `lead_assigned` is the number
/// assigned to the lead's contact.
#[derive(Debug, Clone, Default)]
pub struct SelectionRequest {
    pub capability: Capability,
    /// Only numbers of this channel (or bound to no channel) are candidates.
    pub channel_id: Option<ChannelId>,
    pub recipient: Option<E164>,
    pub manual_override: Option<PhoneNumberId>,
    pub sticky: Option<PhoneNumberId>,
    pub lead_assigned: Option<PhoneNumberId>,
    pub campaign_id: Option<CampaignId>,
    pub source_id: Option<SourceId>,
    pub team_id: Option<TeamId>,
    /// Numbers to treat as unable to send (found full while reserving).
    pub exclude: Vec<PhoneNumberId>,
    /// How many candidates to list at most (the selected one is always listed).
    pub max_listed: usize,
}

/// One listed candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index of the number in [`NumberPool::numbers`].
    pub index: usize,
    pub reason: SelectionReason,
    /// A human label of the reason: "Same area code (415)", …
    pub reason_label: String,
    pub can_send: bool,
    /// Why the number cannot send, or what is wrong with it.
    pub warning: Option<String>,
}

/// The answer: the chosen number (if any) and every listed candidate, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// The chosen candidate. With a manual override that cannot send, the override is
    /// reported here with `can_send: false` rather than replaced.
    pub selected: Option<Candidate>,
    pub candidates: Vec<Candidate>,
    pub manually_overridden: bool,
    /// Set when no number can send at all: how to fix it.
    pub setup_message: Option<String>,
}

impl Selection {
    pub fn can_send(&self) -> bool {
        self.selected.as_ref().is_some_and(|selected| selected.can_send)
    }
}

/// Chooses the number for one send.
pub fn select(pool: &NumberPool, request: &SelectionRequest) -> Selection {
    let _ = (pool, request);
    todo!("implemented with the selection engine")
}
