//! Advisors take a conversation over from the agent and give it back, and the
//! round-robin over a team's advisors that picks who takes a hand-off.

use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::{MessageId, TeamId, UserId, WorkspaceId};

use super::decisions::insert_decision;
use super::outcome::NewDecision;
use crate::backend::on_write;
use crate::conversations::{Conversation, Participant, conversation_columns};
use crate::events::{record_events, resources};
use crate::rows::{FromStoreRow, StoreRow, to_micros};
use crate::{Store, StoreError};

/// Who controls a conversation after a hand-off or a release.
#[derive(Debug, Clone)]
pub struct ControlChange {
    pub status: ConversationStatus,
    pub controller: Controller,
    /// Becomes the assigned user and an internal participant.
    pub advisor: Option<UserId>,
    /// The team whose queue the conversation goes to; `None` keeps it.
    pub team: Option<TeamId>,
    /// The agent starts reading after this message (on a release, the advisor has
    /// answered everything before it).
    pub handled_through: Option<MessageId>,
    pub decision: NewDecision,
}

impl Store {
    /// Changes who controls the conversation and logs why, in one transaction.
    pub async fn change_control(
        &self,
        conversation: &Conversation,
        change: ControlChange,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let mut participants = conversation.participants.clone();
        if let Some(advisor) = change.advisor {
            let id = advisor.to_string();
            if !participants.internals.iter().any(|p| p.identifier == id) {
                participants.internals.push(Participant::user(advisor, now));
            }
        }
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "UPDATE conversations SET status = $1, controller = $2, assigned_user_id = COALESCE($3, assigned_user_id), \
                 participants = $4, handled_through = COALESCE($5, handled_through), \
                 agent_read_through = COALESCE($5, agent_read_through), updated_at = $6, \
                 team_id = COALESCE($8, team_id) WHERE id = $7",
            )
            .bind(change.status.as_str())
            .bind(change.controller.as_str())
            .bind(change.advisor.map(|u| u.to_string()))
            .bind(serde_json::to_string(&participants).expect("participants serialize"))
            .bind(change.handled_through.map(|m| m.to_string()))
            .bind(to_micros(now))
            .bind(conversation.id.to_string())
            .bind(change.team.map(|t| t.to_string()))
            .execute(&mut *tx)
            .await?;
            let decision = insert_decision!(&mut *tx, conversation.workspace_id, conversation.id, change.decision.kind,
                &change.decision.reason, change.decision.detail.as_ref(), None, now);
            let after = Conversation::from_row(
                &sqlx::query(concat!("SELECT ", conversation_columns!(), " FROM conversations WHERE id = $1"))
                    .bind(conversation.id.to_string())
                    .fetch_one(&mut *tx)
                    .await?,
            )?;
            let mut events = vec![resources::decision(conversation, &decision, now)];
            events.extend(resources::conversation_changes(conversation, &after, now));
            record_events!(tx, &events, now);
            tx.commit().await?;
        });
        Ok(())
    }

    /// The newest message of a conversation, if any.
    pub async fn latest_message_id(
        &self,
        conversation: &Conversation,
    ) -> Result<Option<MessageId>, StoreError> {
        crate::backend::on_read!(&self.backend, pool => {
            sqlx::query("SELECT id FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT 1")
                .bind(conversation.id.to_string())
                .fetch_optional(pool)
                .await?
                .map(|row| row.id("id"))
                .transpose()
        })
    }

    /// The team's next advisor in turn (its members in their order, one hand-off each),
    /// `None` when the team is unknown or has no members.
    pub async fn next_team_advisor(
        &self,
        workspace_id: WorkspaceId,
        team_id: TeamId,
    ) -> Result<Option<UserId>, StoreError> {
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let members: Vec<UserId> = sqlx::query(
                "SELECT m.user_id FROM team_members AS m JOIN teams AS t ON t.id = m.team_id \
                 WHERE t.id = $1 AND t.workspace_id = $2 ORDER BY m.position",
            )
            .bind(team_id.to_string())
            .bind(workspace_id.to_string())
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.id("user_id"))
            .collect::<Result<_, StoreError>>()?;
            if members.is_empty() {
                return Ok(None);
            }
            let turn = sqlx::query(
                "UPDATE teams SET handoff_cursor = handoff_cursor + 1 WHERE id = $1 RETURNING handoff_cursor",
            )
            .bind(team_id.to_string())
            .fetch_one(&mut *tx)
            .await?
            .int("handoff_cursor")?;
            tx.commit().await?;
            let index = usize::try_from((turn - 1).rem_euclid(members.len() as i64)).unwrap_or(0);
            Ok(Some(members[index]))
        })
    }

    /// The team of a pool number, if it has one.
    pub async fn phone_number_team(
        &self,
        phone_number_id: leadline_core::PhoneNumberId,
    ) -> Result<Option<TeamId>, StoreError> {
        crate::backend::on_read!(&self.backend, pool => {
            sqlx::query("SELECT team_id FROM phone_numbers WHERE id = $1")
                .bind(phone_number_id.to_string())
                .fetch_optional(pool)
                .await?
                .map(|row| row.optional_id("team_id"))
                .transpose()
                .map(Option::flatten)
        })
    }
}
