//! Applying one turn's outcome in one transaction: the opt-out and the sends it
//! cancels, the contact's new attribute values, the replies with their send jobs, the
//! conversation's new state, the decisions, and the end of the task.
//!
//! A turn of the agent writes only while the conversation is still the agent's (active
//! and AI-controlled): an advisor who took it over during the turn wins, and the turn's
//! replies are never written. The opt-out handling writes whoever controls it.
//!
//! What a turn writes besides its replies ([`TurnWrites`] and its parts) is a domain
//! type of `leadline_core::agent::writes`, built by the agent's pure pass rules;
//! re-exported here for the store's callers.

use chrono::{DateTime, Utc};
pub use leadline_core::agent::writes::{
    ConversationChange, NewDecision, OptOutChange, TaskNext, TurnWrites,
};
use leadline_core::custom_attribute::AttributeValues;
use leadline_core::event::EventType;

use super::decisions::insert_decision;
use super::tasks::{DEFER_TASK, TaskRef, finish_task};
use crate::backend::{Backend, on_write};
use crate::contacts::{contact_columns, read_contact};
use crate::conversations::{
    Conversation, NewOutbound, Participant, conversation_columns, outbound_message, record_activity,
};
use crate::custom_attributes::read_definition;
use crate::events::{record_events, resources};
use crate::messages::{INSERT_MESSAGE, Message, bind_message};
use crate::opt_outs::{delete_opt_out, insert_opt_out};
use crate::outbox::queue_send_job;
use crate::rows::{FromStoreRow, to_micros};
use crate::{Store, StoreError};

/// Everything one turn changes.
#[derive(Debug, Clone)]
pub struct AgentOutcome {
    pub task: TaskRef,
    /// The conversation as the turn read it.
    pub conversation: Conversation,
    /// Sent in this order.
    pub replies: Vec<NewOutbound>,
    pub writes: TurnWrites,
}

/// Whether the outcome was written.
#[derive(Debug, Clone)]
pub enum Applied {
    /// Written; the queued replies, in order.
    Written(Vec<Message>),
    /// An advisor took the conversation over (or it closed) during the turn; nothing
    /// was written and the task is done.
    NotTheAgents,
}

/// The conversation's update, with an extra condition appended to its `WHERE`.
macro_rules! update_conversation {
    ($guard:literal) => {
        concat!(
            "UPDATE conversations SET status = COALESCE($1, status), \
             controller = COALESCE($2, controller), assigned_user_id = COALESCE($3, assigned_user_id), \
             participants = COALESCE($4, participants), agent_state = COALESCE($5, agent_state), \
             agent_turns = agent_turns + $6, agent_replied_at = COALESCE($7, agent_replied_at), \
             handled_through = COALESCE($8, handled_through), \
             additional_sent = CASE WHEN $9 THEN TRUE ELSE additional_sent END, \
             sticky_number_id = COALESCE($10, sticky_number_id), updated_at = $11, \
             agent_read_through = COALESCE($13, agent_read_through), \
             team_id = COALESCE($14, team_id) WHERE id = $12",
            $guard
        )
    };
}

const UPDATE_CONVERSATION: &str = update_conversation!("");
const READ_CONVERSATION: &str = concat!(
    "SELECT ",
    conversation_columns!(),
    " FROM conversations WHERE id = $1"
);
const READ_CONTACT: &str = concat!(
    "SELECT ",
    contact_columns!(),
    " FROM contacts WHERE id = $1"
);
const READ_DEFINITIONS: &str = "SELECT id, key, label, kind, options, required FROM custom_attributes \
    WHERE workspace_id = $1 ORDER BY id";
const UPDATE_AGENTS_CONVERSATION: &str =
    update_conversation!(" AND controller = 'AI' AND status = 'ACTIVE'");

/// Withdraws the queued sends to a contact on a channel type: their jobs go, and the
/// messages are marked canceled.
const CANCEL_JOBS: &str = "DELETE FROM jobs WHERE message_id IN (SELECT m.id FROM messages AS m \
    JOIN channels AS c ON c.id = m.channel_id \
    WHERE m.contact_id = $1 AND m.status = 'queued' AND c.message_provider_type = $2)";
const CANCEL_MESSAGES: &str = "UPDATE messages SET status = 'canceled', \
    error_message = 'withdrawn: the contact opted out', updated_at = $3 \
    WHERE contact_id = $1 AND status = 'queued' \
    AND channel_id IN (SELECT id FROM channels WHERE message_provider_type = $2)";

/// Merges the turn's attribute values into the contact and returns it as it is after.
const MERGE_ATTRIBUTES_SQLITE: &str = concat!(
    "UPDATE contacts SET custom_attributes = json_patch(custom_attributes, $1), \
     updated_at = $2 WHERE id = $3 RETURNING ",
    contact_columns!()
);
const MERGE_ATTRIBUTES_POSTGRES: &str = concat!(
    "UPDATE contacts SET custom_attributes = (custom_attributes::jsonb || $1::jsonb)::text, \
     updated_at = $2 WHERE id = $3 RETURNING ",
    contact_columns!()
);

impl Store {
    /// Writes a turn's outcome in one transaction (see the module doc).
    pub async fn apply_agent_outcome(&self, outcome: AgentOutcome) -> Result<Applied, StoreError> {
        let now = self.clock.now();
        let conversation = &outcome.conversation;
        let queued: Vec<(Message, DateTime<Utc>)> = outcome
            .replies
            .into_iter()
            .map(|reply| outbound_message(conversation, reply, now))
            .collect();
        let participants = outcome.writes.change.advisor.map(|advisor| {
            let mut participants = conversation.participants.clone();
            let id = advisor.to_string();
            if !participants.internals.iter().any(|p| p.identifier == id) {
                participants.internals.push(Participant::user(advisor, now));
            }
            serde_json::to_string(&participants).expect("participants serialize")
        });
        let attributes = (!outcome.writes.attributes.is_empty()).then(|| {
            let values: AttributeValues = outcome.writes.attributes.iter().cloned().collect();
            serde_json::to_string(&values).expect("attribute values serialize")
        });
        let merge_sql = match &self.backend {
            Backend::Sqlite { .. } => MERGE_ATTRIBUTES_SQLITE,
            Backend::Postgres(_) => MERGE_ATTRIBUTES_POSTGRES,
        };
        let update_sql = if outcome.writes.requires_agent_control {
            UPDATE_AGENTS_CONVERSATION
        } else {
            UPDATE_CONVERSATION
        };
        let sticky = queued.iter().rev().find_map(|(m, _)| m.from_number_id);
        let replied_at = (!queued.is_empty() && outcome.writes.change.turns > 0).then_some(now);
        let change = &outcome.writes.change;
        let written = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(update_sql)
                .bind(change.status.map(|s| s.as_str()))
                .bind(change.controller.map(|c| c.as_str()))
                .bind(change.advisor.map(|u| u.to_string()))
                .bind(participants.as_deref())
                .bind(change.flow_state.as_deref())
                .bind(i64::from(change.turns))
                .bind(replied_at.map(to_micros))
                .bind(outcome.writes.handled_through.map(|m| m.to_string()))
                .bind(change.additional_sent)
                .bind(sticky.map(|n| n.to_string()))
                .bind(to_micros(now))
                .bind(conversation.id.to_string())
                .bind(outcome.writes.read_through.map(|m| m.to_string()))
                .bind(change.team.map(|t| t.to_string()))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if updated == 0 {
                // Not the agent's any more: nothing of the turn is written.
                finish_task!(&mut tx, outcome.task);
                tx.commit().await?;
                false
            } else {
                if let Some(opt_out) = &outcome.writes.opt_out {
                    insert_opt_out!(&mut tx, conversation.workspace_id, conversation.contact_id,
                        opt_out.channel_type, "message", Some(opt_out.evidence.as_str()),
                        Some(opt_out.message_id), now);
                    sqlx::query(CANCEL_JOBS)
                        .bind(conversation.contact_id.to_string())
                        .bind(opt_out.channel_type.as_str())
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(CANCEL_MESSAGES)
                        .bind(conversation.contact_id.to_string())
                        .bind(opt_out.channel_type.as_str())
                        .bind(to_micros(now))
                        .execute(&mut *tx)
                        .await?;
                }
                if let Some(channel_type) = outcome.writes.opt_in {
                    delete_opt_out!(&mut tx, conversation.contact_id, channel_type, now);
                }
                let mut events = Vec::new();
                if let Some(values) = &attributes {
                    let before = sqlx::query(READ_CONTACT)
                        .bind(conversation.contact_id.to_string())
                        .fetch_one(&mut *tx)
                        .await?;
                    let after = read_contact(&sqlx::query(merge_sql)
                        .bind(values)
                        .bind(to_micros(now))
                        .bind(conversation.contact_id.to_string())
                        .fetch_one(&mut *tx)
                        .await?)?;
                    if read_contact(&before)?.fields != after.fields {
                        let mut definitions = Vec::new();
                        for row in sqlx::query(READ_DEFINITIONS)
                            .bind(conversation.workspace_id.to_string())
                            .fetch_all(&mut *tx)
                            .await?
                        {
                            definitions.push(read_definition(&row)?);
                        }
                        events.push(resources::contact(EventType::ContactUpdated, &after, &definitions, now));
                    }
                }
                for (message, run_at) in &queued {
                    bind_message!(sqlx::query(INSERT_MESSAGE), message).execute(&mut *tx).await?;
                    queue_send_job!(&mut *tx, message, *run_at, now);
                }
                if !queued.is_empty() {
                    record_activity!(&mut *tx, [(conversation.id, now)]);
                }
                for decision in &outcome.writes.decisions {
                    let message_id = decision.reply.and_then(|i| queued.get(i)).map(|(m, _)| m.id);
                    let written = insert_decision!(&mut *tx, conversation.workspace_id, conversation.id, decision.kind,
                        &decision.reason, decision.detail.as_ref(), message_id, now);
                    events.push(resources::decision(conversation, &written, now));
                }
                let after = Conversation::from_row(
                    &sqlx::query(READ_CONVERSATION).bind(conversation.id.to_string()).fetch_one(&mut *tx).await?,
                )?;
                events.extend(resources::conversation_changes(conversation, &after, now));
                record_events!(tx, &events, now);
                match &outcome.writes.next {
                    TaskNext::Done => finish_task!(&mut tx, outcome.task),
                    TaskNext::Defer { until, waiting_for } => {
                        sqlx::query(DEFER_TASK)
                        .bind(to_micros(*until))
                        .bind(waiting_for)
                        .bind(conversation.id.to_string())
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                true
            }
        });
        Ok(if written {
            Applied::Written(queued.into_iter().map(|(m, _)| m).collect())
        } else {
            Applied::NotTheAgents
        })
    }
}
