//! Who takes a hand-off: the user pre-assigned when the conversation was opened, else
//! the contact's owner, else the next advisor in turn of the team (the flow script's,
//! else the agent settings', else the team of the number the conversation sends from).

use leadline_core::{TeamId, UserId};
use leadline_store::contacts::ContactRecord;
use leadline_store::conversations::Conversation;
use leadline_store::{Store, StoreError};
use serde_json::{Value, json};

/// The advisor chosen and how, for the decision log.
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub advisor: Option<UserId>,
    /// `pre-assigned`, `owner`, `round-robin` or `none`.
    pub rule: &'static str,
    pub explanation: String,
}

impl Chosen {
    pub fn detail(&self) -> Value {
        json!({"advisorId": self.advisor.map(|u| u.to_string()), "rule": self.rule})
    }
}

pub async fn choose_advisor(
    store: &Store,
    conversation: &Conversation,
    contact: &ContactRecord,
    teams: &[TeamId],
) -> Result<Chosen, StoreError> {
    let owner = contact.fields.owner_id;
    if let Some(user) = conversation.assigned_user_id {
        let (rule, who) = if Some(user) == owner {
            ("owner", "the contact's owner")
        } else {
            ("pre-assigned", "the user pre-assigned to the conversation")
        };
        return Ok(Chosen {
            advisor: Some(user),
            rule,
            explanation: format!("to {who} ({user})"),
        });
    }
    if let Some(user) = owner {
        return Ok(Chosen {
            advisor: Some(user),
            rule: "owner",
            explanation: format!("to the contact's owner ({user})"),
        });
    }
    let mut candidates = teams.to_vec();
    if let Some(number) = conversation.sticky_number_id
        && let Some(team) = store.phone_number_team(number).await?
    {
        candidates.push(team);
    }
    for team in candidates {
        if let Some(user) = store
            .next_team_advisor(conversation.workspace_id, team)
            .await?
        {
            return Ok(Chosen {
                advisor: Some(user),
                rule: "round-robin",
                explanation: format!("to {user}, next in turn in team {team}"),
            });
        }
    }
    Ok(Chosen {
        advisor: None,
        rule: "none",
        explanation:
            "to no one yet: the conversation has no pre-assigned user, the contact no owner, \
                      and no team with advisors is set (handoffTeamId in the agent settings)"
                .into(),
    })
}
