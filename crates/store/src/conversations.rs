//! Conversations and the writes that start or extend them. Every outbound message is
//! inserted in the same transaction as its send job, so a message the API accepted is
//! always either sent or still in the outbox, whatever happens to the process.

use chrono::{DateTime, Utc};
use leadline_core::conversation::{Controller, ConversationStatus, ParticipantRole};
use leadline_core::message::{Direction, MessageStatus, MessageType};
use leadline_core::{
    ChannelId, ContactId, ConversationId, E164, MessageId, PhoneNumberId, UserId, WorkspaceId,
};
use serde::{Deserialize, Serialize};

use crate::backend::on_write;
use crate::messages::{CallDetails, INSERT_MESSAGE, Message, MessageTemplate, bind_message};
use crate::outbox::queue_send_job;
use crate::rows::{Arg, FromStoreRow, StoreRow, fetch_all, fetch_optional, to_micros};
use crate::{Store, StoreError};

/// One participant, in the shape the Bridge API shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub identifier: String,
    pub identifier_type: String,
    pub role: ParticipantRole,
    pub joined_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

impl Participant {
    pub fn contact(contact_id: ContactId, at: DateTime<Utc>) -> Self {
        Self {
            identifier: contact_id.to_string(),
            identifier_type: "ID".into(),
            role: ParticipantRole::External,
            joined_at: at,
            last_seen_at: None,
        }
    }

    pub fn user(user_id: UserId, at: DateTime<Utc>) -> Self {
        Self {
            identifier: user_id.to_string(),
            identifier_type: "ID".into(),
            role: ParticipantRole::Internal,
            joined_at: at,
            last_seen_at: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participants {
    pub externals: Vec<Participant>,
    pub internals: Vec<Participant>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    pub id: ConversationId,
    pub workspace_id: WorkspaceId,
    pub contact_id: ContactId,
    pub channel_id: ChannelId,
    pub status: ConversationStatus,
    pub controller: Controller,
    pub name: String,
    pub assigned_user_id: Option<UserId>,
    pub participants: Participants,
    pub agent_context: Option<String>,
    /// Messages the agent may send once the lead has replied.
    pub additional_messages: Vec<String>,
    pub campaign_id: Option<String>,
    pub consent_captured_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The pool number the conversation's last outbound message went out from; its
    /// next messages stay on it while it can send.
    pub sticky_number_id: Option<PhoneNumberId>,
    /// The number a person chose for this conversation; it wins over every other rule.
    pub override_number_id: Option<PhoneNumberId>,
    /// What the conversation remembers of its agent.
    pub agent: AgentMemory,
}

/// A conversation's memory of its agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentMemory {
    /// The flow script's position (JSON of `FlowState`).
    pub flow_state: Option<String>,
    /// Agent replies sent so far.
    pub turns: u32,
    pub replied_at: Option<DateTime<Utc>>,
    /// The last inbound message the opt-out handling has read.
    pub handled_through: Option<MessageId>,
    /// The last inbound message an agent turn has answered.
    pub read_through: Option<MessageId>,
    /// The LeadScout additional messages went out.
    pub additional_sent: bool,
    /// When the lead last wrote (WhatsApp's 24-hour window runs from it).
    pub last_inbound_at: Option<DateTime<Utc>>,
}

/// An outbound message to queue.
#[derive(Debug, Clone)]
pub struct NewOutbound {
    pub message_type: MessageType,
    pub body: String,
    pub template: Option<MessageTemplate>,
    pub author_user_id: Option<UserId>,
    /// The pool number it goes out from, its send already reserved; `None` sends from
    /// the channel's configured sender, at once.
    pub sender: Option<OutboundSender>,
}

/// A pool number reserved for one outbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundSender {
    pub phone_number_id: PhoneNumberId,
    pub number: E164,
    /// The reserved slot: the send job is not due before it, which keeps the number
    /// under its rate.
    pub not_before: DateTime<Utc>,
}

/// A conversation to open with its first message.
#[derive(Debug, Clone)]
pub struct OpenConversation {
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
    /// The first message, queued with the conversation; `None` when the lead wrote
    /// first.
    pub opening: Option<NewOutbound>,
}

/// Where an outbound message goes.
#[derive(Debug, Clone)]
pub enum PlannedConversation {
    /// A conversation to open with the message.
    Open(Conversation),
    /// The contact's active conversation on the channel.
    Existing(Conversation),
}

/// An outbound message and where it goes, as the use case decided: the rows to write.
#[derive(Debug, Clone)]
pub struct PlannedOpening {
    pub conversation: PlannedConversation,
    pub message: Message,
    /// When the send job is due: now, or the slot reserved on its pool number.
    pub run_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum OpenOutcome {
    /// A new conversation, with its queued opening message.
    Opened {
        conversation: Conversation,
        message: Option<Box<Message>>,
    },
    /// The contact already has an active conversation on this channel; nothing was
    /// written.
    AlreadyActive { conversation: Conversation },
}

/// What [`Store::write_opening`] did.
#[derive(Debug, Clone)]
pub enum OpeningWritten {
    /// The planned conversation was opened with the message.
    Opened {
        conversation: Conversation,
        message: Box<Message>,
    },
    /// The message was queued in the existing conversation the plan named.
    Queued {
        conversation: Conversation,
        message: Box<Message>,
    },
    /// The contact got an active conversation on the channel meanwhile; nothing was
    /// written.
    AlreadyActive { conversation: Conversation },
}

/// Filters of the conversation list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub contact_id: Option<ContactId>,
    pub channel_id: Option<ChannelId>,
    pub status: Option<ConversationStatus>,
}

macro_rules! conversation_columns {
    () => {
        "id, workspace_id, contact_id, channel_id, status, controller, name, assigned_user_id, participants, \
         agent_context, additional_messages, campaign_id, consent_captured_at, created_at, updated_at, \
         sticky_number_id, override_number_id, agent_state, agent_turns, agent_replied_at, handled_through, \
         agent_read_through, additional_sent, last_inbound_at"
    };
}
pub(crate) use conversation_columns;

impl FromStoreRow for Conversation {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        Ok(Conversation {
            id: row.id("id")?,
            workspace_id: row.id("workspace_id")?,
            contact_id: row.id("contact_id")?,
            channel_id: row.id("channel_id")?,
            status: row.parsed("status", ConversationStatus::parse)?,
            controller: row.parsed("controller", Controller::parse)?,
            name: row.text("name")?,
            assigned_user_id: row.optional_id("assigned_user_id")?,
            participants: row.json("participants")?,
            agent_context: row.optional_text("agent_context")?,
            additional_messages: row.json("additional_messages")?,
            campaign_id: row.optional_text("campaign_id")?,
            consent_captured_at: row.optional_time("consent_captured_at")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            sticky_number_id: row.optional_id("sticky_number_id")?,
            override_number_id: row.optional_id("override_number_id")?,
            agent: AgentMemory {
                flow_state: row.optional_text("agent_state")?,
                turns: u32::try_from(row.int("agent_turns")?).unwrap_or(u32::MAX),
                replied_at: row.optional_time("agent_replied_at")?,
                handled_through: row.optional_id("handled_through")?,
                read_through: row.optional_id("agent_read_through")?,
                additional_sent: row.flag("additional_sent")?,
                last_inbound_at: row.optional_time("last_inbound_at")?,
            },
        })
    }
}

const ACTIVE_CONVERSATION: &str = concat!(
    "SELECT ",
    conversation_columns!(),
    " FROM conversations WHERE workspace_id = $1 AND contact_id = $2 AND channel_id = $3 AND status = 'ACTIVE'"
);

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
            .active_conversation(open.workspace_id, open.contact_id, open.channel_id)
            .await?
        {
            return Ok(OpenOutcome::AlreadyActive { conversation });
        }
        let now = self.clock.now();
        let mut participants = Participants {
            externals: vec![Participant::contact(open.contact_id, now)],
            internals: Vec::new(),
        };
        if let Some(user) = open.assigned_user_id {
            participants.internals.push(Participant::user(user, now));
        }
        let conversation = Conversation {
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
            sticky_number_id: open
                .opening
                .as_ref()
                .and_then(|o| o.sender.as_ref())
                .map(|s| s.phone_number_id),
            override_number_id: None,
            agent: AgentMemory::default(),
        };
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
                 created_at, updated_at, sticky_number_id, override_number_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
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
            let controller = if takes_over { Controller::Human } else { conversation.controller };
            // A message from a pool number makes the conversation stick to that number.
            sqlx::query(
                "UPDATE conversations SET controller = $1, sticky_number_id = COALESCE($2, sticky_number_id), \
                 updated_at = $3 WHERE id = $4",
            )
            .bind(controller.as_str())
            .bind(message.from_number_id.map(|n| n.to_string()))
            .bind(to_micros(now))
            .bind(conversation.id.to_string())
            .execute(&mut *tx)
            .await?;
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
            tx.commit().await?;
        });
        Ok(queued.into_iter().map(|(message, _)| message).collect())
    }

    pub async fn conversation(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations WHERE workspace_id = $1 AND id = $2"
        );
        let args = vec![
            workspace_id.to_string().into(),
            conversation_id.to_string().into(),
        ];
        fetch_optional(&self.backend, sql, args).await
    }

    pub async fn active_conversation(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
        channel_id: ChannelId,
    ) -> Result<Option<Conversation>, StoreError> {
        fetch_optional(
            &self.backend,
            ACTIVE_CONVERSATION,
            pair_args(workspace_id, contact_id, channel_id),
        )
        .await
    }

    /// The conversation an inbound message on `channel_id` from `contact_id` belongs
    /// to: the active one, else the latest one.
    pub async fn latest_conversation(
        &self,
        workspace_id: WorkspaceId,
        contact_id: ContactId,
        channel_id: ChannelId,
    ) -> Result<Option<Conversation>, StoreError> {
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations \
             WHERE workspace_id = $1 AND contact_id = $2 AND channel_id = $3 \
             ORDER BY CASE WHEN status = 'ACTIVE' THEN 0 ELSE 1 END, id DESC LIMIT 1"
        );
        fetch_optional(
            &self.backend,
            sql,
            pair_args(workspace_id, contact_id, channel_id),
        )
        .await
    }

    /// One page of the workspace's conversations, oldest first, filtered.
    pub async fn list_conversations(
        &self,
        workspace_id: WorkspaceId,
        filter: &ConversationFilter,
        after: Option<ConversationId>,
        limit: u32,
    ) -> Result<Vec<Conversation>, StoreError> {
        // Absent filters bind as '' and match everything: one statement text, whatever
        // the combination of filters.
        let sql = concat!(
            "SELECT ",
            conversation_columns!(),
            " FROM conversations \
             WHERE workspace_id = $1 AND id > $2 \
               AND ($3 = '' OR contact_id = $3) AND ($4 = '' OR channel_id = $4) AND ($5 = '' OR status = $5) \
             ORDER BY id LIMIT $6"
        );
        let args = vec![
            workspace_id.to_string().into(),
            after.map(|a| a.to_string()).unwrap_or_default().into(),
            filter
                .contact_id
                .map(|c| c.to_string())
                .unwrap_or_default()
                .into(),
            filter
                .channel_id
                .map(|c| c.to_string())
                .unwrap_or_default()
                .into(),
            filter.status.map(|s| s.as_str()).unwrap_or_default().into(),
            i64::from(limit).into(),
        ];
        fetch_all(&self.backend, sql, args).await
    }
}

/// The arguments of a lookup by workspace, contact and channel.
fn pair_args(workspace_id: WorkspaceId, contact_id: ContactId, channel_id: ChannelId) -> Vec<Arg> {
    vec![
        workspace_id.to_string().into(),
        contact_id.to_string().into(),
        channel_id.to_string().into(),
    ]
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
