//! The writes that start or extend a conversation. Every outbound message is inserted
//! in the same transaction as its send job, so a message the API accepted is always
//! either sent or still in the outbox, whatever happens to the process.

use chrono::{DateTime, Utc};
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::event::EventType;
use leadline_core::message::{Direction, MessageStatus, MessageType};
use leadline_core::{
    ChannelId, ContactId, ConversationId, MessageId, PhoneNumberId, UserId, WorkspaceId,
};

use super::{
    AgentMemory, Conversation, NewOutbound, OpenConversation, OpenOutcome, OpeningWritten,
    Participant, Participants, PlannedConversation, PlannedOpening, conversation_columns,
};
use crate::backend::on_write;
use crate::events::{record_events, resources};
use crate::messages::{CallDetails, INSERT_MESSAGE, Message, bind_message};
use crate::outbox::queue_send_job;
use crate::rows::{FromStoreRow, to_micros};
use crate::{Store, StoreError};

/// A conversation to open, before it has an id.
#[derive(Debug, Clone)]
pub struct NewConversation {
    pub workspace_id: WorkspaceId,
    pub contact_id: ContactId,
    pub channel_id: ChannelId,
    pub name: String,
    pub controller: Controller,
    pub assigned_user_id: Option<UserId>,
    pub agent_context: Option<String>,
    pub additional_messages: Vec<String>,
    pub campaign_id: Option<String>,
    pub consent_captured_at: Option<DateTime<Utc>>,
}

impl Conversation {
    /// A new active conversation with the contact (and its advisor, when it has one)
    /// as participants, sticking to `sticky_number_id` (the pool number its first
    /// message goes out from).
    pub fn new_active(
        open: NewConversation,
        sticky_number_id: Option<PhoneNumberId>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut participants = Participants {
            externals: vec![Participant::contact(open.contact_id, now)],
            internals: Vec::new(),
        };
        if let Some(user) = open.assigned_user_id {
            participants.internals.push(Participant::user(user, now));
        }
        Conversation {
            id: ConversationId::new(),
            workspace_id: open.workspace_id,
            contact_id: open.contact_id,
            channel_id: open.channel_id,
            status: ConversationStatus::Active,
            controller: open.controller,
            name: open.name,
            assigned_user_id: open.assigned_user_id,
            participants,
            agent_context: open.agent_context,
            additional_messages: open.additional_messages,
            campaign_id: open.campaign_id,
            consent_captured_at: open.consent_captured_at,
            created_at: now,
            updated_at: now,
            sticky_number_id,
            override_number_id: None,
            agent: AgentMemory::default(),
            team_id: None,
        }
    }
}

impl Store {
    /// Opens a conversation and queues its first message, unless the contact already
    /// has an active conversation on the channel. Two concurrent calls for the same
    /// contact and channel open exactly one: the unique index on active conversations
    /// turns the loser's insert into [`OpenOutcome::AlreadyActive`].
    pub async fn open_conversation(
        &self,
        open: OpenConversation,
    ) -> Result<OpenOutcome, StoreError> {
        if let Some(conversation) = self
            .active_conversation(
                open.conversation.workspace_id,
                open.conversation.contact_id,
                open.conversation.channel_id,
            )
            .await?
        {
            return Ok(OpenOutcome::AlreadyActive { conversation });
        }
        let now = self.clock.now();
        let sticky = open
            .opening
            .as_ref()
            .and_then(|o| o.sender.as_ref())
            .map(|s| s.phone_number_id);
        let conversation = Conversation::new_active(open.conversation, sticky, now);
        let message = open
            .opening
            .map(|opening| outbound_message(&conversation, opening, now));
        self.insert_conversation(conversation, message).await
    }

    /// Writes what the outbound use case planned: a new conversation with its first
    /// message (unless the contact got an active one meanwhile:
    /// [`OpenOutcome::AlreadyActive`], nothing written), or the message queued in the
    /// existing conversation it names.
    pub async fn write_opening(&self, plan: PlannedOpening) -> Result<OpeningWritten, StoreError> {
        match plan.conversation {
            PlannedConversation::Open(conversation) => Ok(
                match self
                    .insert_conversation(conversation, Some((plan.message, plan.run_at)))
                    .await?
                {
                    OpenOutcome::Opened {
                        conversation,
                        message,
                    } => OpeningWritten::Opened {
                        conversation,
                        message: message.expect("the opening was written"),
                    },
                    OpenOutcome::AlreadyActive { conversation } => {
                        OpeningWritten::AlreadyActive { conversation }
                    }
                },
            ),
            PlannedConversation::Existing(conversation) => {
                self.queue_planned(&conversation, &plan.message, plan.run_at)
                    .await?;
                Ok(OpeningWritten::Queued {
                    conversation,
                    message: Box::new(plan.message),
                })
            }
        }
    }

    /// Inserts a new conversation and its first message; two concurrent inserts for
    /// the same contact and channel open exactly one (the unique index on active
    /// conversations turns the loser's into [`OpenOutcome::AlreadyActive`]).
    async fn insert_conversation(
        &self,
        conversation: Conversation,
        message: Option<(Message, DateTime<Utc>)>,
    ) -> Result<OpenOutcome, StoreError> {
        let now = conversation.created_at;
        let inserted = on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(
                "INSERT INTO conversations (id, workspace_id, contact_id, channel_id, status, controller, name, \
                 assigned_user_id, participants, agent_context, additional_messages, campaign_id, consent_captured_at, \
                 created_at, updated_at, sticky_number_id, override_number_id, last_activity_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $14)",
            )
            .bind(conversation.id.to_string())
            .bind(conversation.workspace_id.to_string())
            .bind(conversation.contact_id.to_string())
            .bind(conversation.channel_id.to_string())
            .bind(conversation.status.as_str())
            .bind(conversation.controller.as_str())
            .bind(&conversation.name)
            .bind(conversation.assigned_user_id.map(|u| u.to_string()))
            .bind(serde_json::to_string(&conversation.participants).expect("participants serialize"))
            .bind(conversation.agent_context.as_deref())
            .bind(serde_json::to_string(&conversation.additional_messages).expect("strings serialize"))
            .bind(conversation.campaign_id.as_deref())
            .bind(conversation.consent_captured_at.map(to_micros))
            .bind(to_micros(conversation.created_at))
            .bind(to_micros(conversation.updated_at))
            .bind(conversation.sticky_number_id.map(|n| n.to_string()))
            .bind(conversation.override_number_id.map(|n| n.to_string()))
            .execute(&mut *tx)
            .await;
            match inserted.map_err(StoreError::from) {
                Err(error) if error.is_duplicate_of("conversations") || error.is_duplicate_of("contact_id") => false,
                Err(error) => return Err(error),
                Ok(_) => {
                    if let Some((message, run_at)) = &message {
                        bind_message!(sqlx::query(INSERT_MESSAGE), message).execute(&mut *tx).await?;
                        queue_send_job!(&mut *tx, message, *run_at, now);
                    }
                    let opened = [resources::conversation(EventType::ConversationOpened, &conversation, now)];
                    record_events!(tx, &opened, now);
                    tx.commit().await?;
                    true
                }
            }
        });
        if inserted {
            return Ok(OpenOutcome::Opened {
                conversation,
                message: message.map(|(message, _)| Box::new(message)),
            });
        }
        let conversation = self
            .active_conversation(
                conversation.workspace_id,
                conversation.contact_id,
                conversation.channel_id,
            )
            .await?
            .ok_or_else(|| {
                StoreError::WriteFailed(
                    "the active conversation that blocked this one was closed meanwhile; retry"
                        .into(),
                )
            })?;
        Ok(OpenOutcome::AlreadyActive { conversation })
    }

    /// Queues a message in an existing conversation. A human advisor's message takes
    /// the conversation over from the agent.
    pub async fn queue_message(
        &self,
        conversation: &Conversation,
        outbound: NewOutbound,
    ) -> Result<Message, StoreError> {
        let (message, run_at) = outbound_message(conversation, outbound, self.clock.now());
        self.queue_planned(conversation, &message, run_at).await?;
        Ok(message)
    }

    /// Inserts `message` into `conversation` with its send job due at `run_at`.
    async fn queue_planned(
        &self,
        conversation: &Conversation,
        message: &Message,
        run_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        let takes_over = message.author_user_id.is_some();
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            bind_message!(sqlx::query(INSERT_MESSAGE), message).execute(&mut *tx).await?;
            queue_send_job!(&mut *tx, message, run_at, now);
            // An advisor's message takes the conversation over: the guard on the
            // controller makes only the message that moved it tell of the hand-off.
            let taken_over = if takes_over {
                sqlx::query(concat!(
                    "UPDATE conversations SET controller = 'HUMAN', sticky_number_id = COALESCE($1, sticky_number_id), \
                     updated_at = $2, last_activity_at = $2 WHERE id = $3 AND controller <> 'HUMAN' RETURNING ",
                    conversation_columns!()
                ))
                .bind(message.from_number_id.map(|n| n.to_string()))
                .bind(to_micros(now))
                .bind(conversation.id.to_string())
                .fetch_optional(&mut *tx)
                .await?
            } else {
                None
            };
            if let Some(row) = taken_over {
                let after = Conversation::from_row(&row)?;
                let before = Conversation { controller: Controller::Ai, ..after.clone() };
                let events = resources::conversation_changes(&before, &after, now);
                record_events!(tx, &events, now);
            } else {
                let controller = if takes_over { Controller::Human } else { conversation.controller };
                // A message from a pool number makes the conversation stick to that number.
                sqlx::query(
                    "UPDATE conversations SET controller = $1, sticky_number_id = COALESCE($2, sticky_number_id), \
                     updated_at = $3, last_activity_at = $3 WHERE id = $4",
                )
                .bind(controller.as_str())
                .bind(message.from_number_id.map(|n| n.to_string()))
                .bind(to_micros(now))
                .bind(conversation.id.to_string())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Queues many messages, each in its own conversation, in one transaction (campaign
    /// enqueues and load tests). The conversations keep their controller.
    pub async fn queue_messages(
        &self,
        batch: Vec<(Conversation, NewOutbound)>,
    ) -> Result<Vec<Message>, StoreError> {
        let now = self.clock.now();
        let queued: Vec<(Message, DateTime<Utc>)> = batch
            .into_iter()
            .map(|(conversation, outbound)| outbound_message(&conversation, outbound, now))
            .collect();
        on_write!(&self.backend, pool => {
            let mut tx = pool.begin().await?;
            for (message, run_at) in &queued {
                bind_message!(sqlx::query(INSERT_MESSAGE), message).execute(&mut *tx).await?;
                queue_send_job!(&mut *tx, message, *run_at, now);
                if let Some(number) = message.from_number_id {
                    sqlx::query("UPDATE conversations SET sticky_number_id = $1 WHERE id = $2")
                        .bind(number.to_string())
                        .bind(message.conversation_id.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
            }
            record_activity!(&mut *tx, queued.iter().map(|(m, _)| (m.conversation_id, m.created_at)));
            tx.commit().await?;
        });
        Ok(queued.into_iter().map(|(message, _)| message).collect())
    }
}

/// The message to queue for `outbound`, and when its send job is due: the reserved
/// slot of its pool number, else now.
pub fn outbound_message(
    conversation: &Conversation,
    outbound: NewOutbound,
    now: DateTime<Utc>,
) -> (Message, DateTime<Utc>) {
    let sender = outbound.sender;
    let run_at = sender.as_ref().map_or(now, |s| s.not_before);
    // A call keeps its caller id in `call_from` too, where calls logged from outside
    // keep theirs.
    let call = sender
        .as_ref()
        .filter(|_| outbound.message_type == MessageType::Call)
        .map(|s| CallDetails {
            to: None,
            from: Some(s.number.as_str().to_owned()),
            status: None,
            duration_seconds: None,
        });
    let message = Message {
        id: MessageId::new(),
        workspace_id: conversation.workspace_id,
        conversation_id: conversation.id,
        contact_id: conversation.contact_id,
        channel_id: conversation.channel_id,
        direction: Direction::Outbound,
        message_type: outbound.message_type,
        status: MessageStatus::Queued,
        body: Some(outbound.body),
        template: outbound.template,
        author_user_id: outbound.author_user_id,
        provider_message_id: None,
        error_code: None,
        error_message: None,
        call,
        attachments: Vec::new(),
        alt_id: None,
        sent_at: None,
        delivered_at: None,
        created_at: now,
        updated_at: now,
        from_number_id: sender.as_ref().map(|s| s.phone_number_id),
        from_number: sender.map(|s| s.number),
    };
    (message, run_at)
}

/// Moves the conversations' `last_activity_at` (the inbox's order) to the time of a
/// message just inserted in the transaction `$executor`: one statement for all of
/// `$activity` (`(ConversationId, DateTime<Utc>)` pairs; a conversation named twice
/// takes its latest), never backwards. A macro because each backend's transaction has
/// its own type.
macro_rules! record_activity {
    ($executor:expr, $activity:expr) => {{
        let mut latest: std::collections::HashMap<leadline_core::ConversationId, i64> =
            std::collections::HashMap::new();
        for (conversation_id, at) in $activity {
            let at = $crate::rows::to_micros(at);
            let entry = latest.entry(conversation_id).or_insert(at);
            *entry = (*entry).max(at);
        }
        let rows: Vec<(leadline_core::ConversationId, i64)> = latest.into_iter().collect();
        for chunk in rows.chunks(1_000) {
            let mut query = sqlx::QueryBuilder::new(
                "UPDATE conversations SET last_activity_at = v.column2 FROM (",
            );
            query.push_values(chunk, |mut row, (id, at)| {
                row.push_bind(id.to_string()).push_bind(*at);
            });
            query.push(
                ") AS v WHERE conversations.id = v.column1 \
                 AND conversations.last_activity_at < v.column2",
            );
            query.build().execute($executor).await?;
        }
    }};
}
pub(crate) use record_activity;
