//! Handing a conversation to a human advisor, whoever asks: the agent (its turn asked
//! for it, a guardrail or WhatsApp's closed window forced it) or a person through the
//! API. Either way the conversation becomes HANDED_OFF and HUMAN-controlled, the
//! advisor (if any) is assigned and added to its participants, and a HAND_OFF decision
//! says why and to whom.
//!
//! Who takes it when the agent hands off: the user pre-assigned when the conversation
//! was opened, else the contact's owner, else the next advisor in turn of a team (the
//! flow script's, else the agent settings', else the team of the number the
//! conversation sends from). A person handing off names the advisor, or keeps the one
//! assigned.
//!
//! The agent's hand-off is written with the rest of its pass, in the pass's one
//! transaction; a person's is written here, with its decision, in one transaction of
//! its own. A person gives a conversation back to the agent with [`release`].

use leadline_core::agent::DecisionKind;
use leadline_core::agent::writes::{NewDecision, TurnWrites};
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::user::UserRef;
use leadline_core::{TeamId, UserId};
use leadline_store::agent::ControlChange;
use leadline_store::conversations::Conversation;
use leadline_store::{Store, StoreError};
use serde_json::{Value, json};

/// Why a hand-off cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum HandOffError {
    /// Opted out or closed: nobody speaks in it any more.
    #[error("the conversation is {0}; there is nothing to take over")]
    NotOpen(ConversationStatus),
    /// The advisor named is neither a user id nor an email.
    #[error("must be a user id or email")]
    InvalidAdvisor,
    /// The advisor named is not a user of the workspace.
    #[error("no user '{0}' in this workspace; create it with POST /api/v1/users")]
    UnknownAdvisor(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The advisor chosen and how, for the decision log.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// Who is shown as taking it (the one assigned, when a person names no one).
    pub advisor: Option<UserId>,
    /// `pre-assigned`, `owner`, `round-robin`, `none` or `manual`.
    pub rule: &'static str,
    /// The team whose queue the conversation goes to: the round-robin's, or (nobody
    /// chosen) the team of the number it sends from; `None` keeps the one it has.
    pub team: Option<TeamId>,
    /// "to …", as the decision's reason ends.
    pub explanation: String,
}

impl Chosen {
    fn detail(&self) -> Value {
        json!({"advisorId": self.advisor.map(|u| u.to_string()), "rule": self.rule})
    }
}

/// What a hand-off writes on the conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct HandOff {
    /// Becomes the assigned user and an internal participant; `None` keeps them.
    pub advisor: Option<UserId>,
    /// The team whose queue it goes to; `None` keeps it.
    pub team: Option<TeamId>,
    pub decision: NewDecision,
}

impl HandOff {
    fn new(reason: &str, chosen: &Chosen, advisor: Option<UserId>) -> Self {
        Self {
            advisor,
            team: chosen.team,
            decision: NewDecision::new(
                DecisionKind::HandOff,
                format!("{reason}; handed off {}", chosen.explanation),
            )
            .with_detail(chosen.detail()),
        }
    }

    /// Adds the hand-off to a pass's writes (the last of its decisions).
    pub fn write_into(self, writes: &mut TurnWrites) {
        writes.change.status = Some(ConversationStatus::HandedOff);
        writes.change.controller = Some(Controller::Human);
        writes.change.advisor = self.advisor;
        writes.change.team = self.team;
        writes.decisions.push(self.decision);
    }
}

/// The agent's hand-off of `conversation` for `reason`: the advisor chosen by the
/// rules of the module doc over `teams` (in order of preference), the contact's owner
/// being `owner`. Advancing a team's round-robin is the only write.
pub async fn by_agent(
    store: &Store,
    conversation: &Conversation,
    owner: Option<UserId>,
    reason: &str,
    teams: &[TeamId],
) -> Result<HandOff, StoreError> {
    let chosen = choose_advisor(store, conversation, owner, teams).await?;
    Ok(HandOff::new(reason, &chosen, chosen.advisor))
}

/// A person takes `conversation` over for `reason`, for `advisor` (the id or email of
/// a user of the workspace) or for the user already assigned; written at once.
pub async fn by_person(
    store: &Store,
    conversation: &Conversation,
    advisor: Option<&str>,
    reason: &str,
) -> Result<(), HandOffError> {
    let named = match advisor {
        Some(raw) => {
            let reference = UserRef::from_id_or_email(raw).ok_or(HandOffError::InvalidAdvisor)?;
            let user = store.user(conversation.workspace_id, &reference).await?;
            Some(
                user.ok_or_else(|| HandOffError::UnknownAdvisor(raw.to_owned()))?
                    .id,
            )
        }
        None => None,
    };
    if matches!(
        conversation.status,
        ConversationStatus::OptedOut | ConversationStatus::Closed
    ) {
        return Err(HandOffError::NotOpen(conversation.status));
    }
    let shown = named.or(conversation.assigned_user_id);
    let chosen = Chosen {
        advisor: shown,
        rule: "manual",
        team: None,
        explanation: format!(
            "to {}",
            shown
                .map(|u| u.to_string())
                .unwrap_or_else(|| "no one in particular".into())
        ),
    };
    let hand_off = HandOff::new(reason, &chosen, named);
    store
        .change_control(
            conversation,
            ControlChange {
                status: ConversationStatus::HandedOff,
                controller: Controller::Human,
                advisor: hand_off.advisor,
                team: hand_off.team,
                handled_through: None,
                decision: hand_off.decision,
            },
        )
        .await?;
    tracing::info!(conversation = %conversation.id, advisor = %chosen.explanation, "conversation taken over by an advisor");
    Ok(())
}

/// Why a conversation cannot be given back to the agent.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    #[error("the conversation is {0}; it cannot be given back to the agent")]
    NotOpen(ConversationStatus),
    #[error("the contact has another active conversation on this channel; close it first")]
    AnotherActive,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A person gives `conversation` back to the agent: ACTIVE and AI-controlled again,
/// the agent answering from the lead's next message on (what came before was the
/// advisor's). Already the agent's: nothing is written and `false` is returned.
pub async fn release(store: &Store, conversation: &Conversation) -> Result<bool, ReleaseError> {
    if matches!(
        conversation.status,
        ConversationStatus::OptedOut | ConversationStatus::Closed
    ) {
        return Err(ReleaseError::NotOpen(conversation.status));
    }
    if conversation.status == ConversationStatus::Active
        && conversation.controller == Controller::Ai
    {
        return Ok(false);
    }
    let latest = store.latest_message_id(conversation).await?;
    let changed = store
        .change_control(
            conversation,
            ControlChange {
                status: ConversationStatus::Active,
                controller: Controller::Ai,
                advisor: None,
                team: None,
                handled_through: latest,
                decision: NewDecision::new(
                    DecisionKind::Released,
                    "an advisor gave the conversation back to the agent",
                ),
            },
        )
        .await;
    match changed {
        Ok(()) => {
            tracing::info!(conversation = %conversation.id, "conversation given back to the agent");
            Ok(true)
        }
        Err(error)
            if error.is_duplicate_of("conversations") || error.is_duplicate_of("contact_id") =>
        {
            Err(ReleaseError::AnotherActive)
        }
        Err(error) => Err(error.into()),
    }
}

/// Who takes the agent's hand-off (see the module doc).
pub async fn choose_advisor(
    store: &Store,
    conversation: &Conversation,
    owner: Option<UserId>,
    teams: &[TeamId],
) -> Result<Chosen, StoreError> {
    if let Some(user) = conversation.assigned_user_id {
        let (rule, who) = if Some(user) == owner {
            ("owner", "the contact's owner")
        } else {
            ("pre-assigned", "the user pre-assigned to the conversation")
        };
        return Ok(Chosen {
            advisor: Some(user),
            rule,
            team: None,
            explanation: format!("to {who} ({user})"),
        });
    }
    if let Some(user) = owner {
        return Ok(Chosen {
            advisor: Some(user),
            rule: "owner",
            team: None,
            explanation: format!("to the contact's owner ({user})"),
        });
    }
    let mut candidates = teams.to_vec();
    let number_team = match conversation.sticky_number_id {
        Some(number) => store.phone_number_team(number).await?,
        None => None,
    };
    candidates.extend(number_team);
    for team in candidates {
        if let Some(user) = store
            .next_team_advisor(conversation.workspace_id, team)
            .await?
        {
            return Ok(Chosen {
                advisor: Some(user),
                rule: "round-robin",
                team: Some(team),
                explanation: format!("to {user}, next in turn in team {team}"),
            });
        }
    }
    Ok(Chosen {
        advisor: None,
        rule: "none",
        team: number_team.or_else(|| teams.first().copied()),
        explanation:
            "to no one yet: the conversation has no pre-assigned user, the contact no owner, \
             and no team with advisors is set (handoffTeamId in the agent settings)"
                .into(),
    })
}
