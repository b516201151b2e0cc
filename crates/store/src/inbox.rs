//! The console's inbox: the conversations a person may see under one tab, newest
//! activity first, with what they have not read yet; marking a conversation read; and
//! everything the conversation page shows, read through the store's existing reads.
//!
//! **Who sees what, in SQL.** The rule of [`Viewer::may_see`] is applied in the list's
//! `WHERE`: an admin sees every conversation of the workspace; an advisor those assigned
//! to them, and the unassigned ones queued for a team they belong to. The tabs are the
//! predicates of [`InboxFilter::holds`].
//!
//! **Why it stays fast.** A page walks `conversations_by_activity`
//! (`workspace_id, last_activity_at DESC, id`) in its own order and stops after a
//! page's worth of rows, so its cost does not grow with the workspace; the "mine" tab
//! may take `conversations_by_assignee` instead. The excerpt and the unread count are
//! scalar subqueries evaluated only for the rows of the page, each a short range of
//! `messages_by_conversation`. Pages are keyset-paginated by `(last_activity_at, id)`.

use chrono::{DateTime, Utc};
use leadline_core::channel::MessageProviderType;
use leadline_core::conversation::{Controller, ConversationStatus};
use leadline_core::inbox::{InboxFilter, Viewer};
use leadline_core::{ChannelId, ConversationId, MessageId, TeamId, UserId, WorkspaceId};

use crate::agent::Decision;
use crate::backend::{on_read, on_write};
use crate::bulk_reads::{in_list, list};
use crate::channels::Channel;
use crate::contacts::ContactRecord;
use crate::conversations::Conversation;
use crate::messages::Message;
use crate::opt_outs::OptOut;
use crate::rows::{StoreRow, from_micros};
use crate::templates::Template;
use crate::{Store, StoreError};

/// Conversations in one page of the inbox.
pub const INBOX_PAGE: u32 = 50;
/// Messages the conversation page shows (the newest).
pub const PAGE_MESSAGES: u32 = 200;
/// Decisions the conversation page shows (the first).
pub const PAGE_DECISIONS: u32 = 200;

/// Where a page of the inbox starts: after this row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxCursor {
    pub last_activity_at: i64,
    pub id: ConversationId,
}

impl InboxCursor {
    /// `micros.id`, as it travels in a link.
    pub fn encode(&self) -> String {
        format!("{}.{}", self.last_activity_at, self.id)
    }

    /// Reads [`InboxCursor::encode`]'s text; `None` when it is not one.
    pub fn decode(text: &str) -> Option<Self> {
        let (at, id) = text.split_once('.')?;
        Some(Self {
            last_activity_at: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// One conversation as the inbox lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct InboxRow {
    pub id: ConversationId,
    pub channel_id: ChannelId,
    pub channel_type: MessageProviderType,
    pub channel_name: String,
    pub status: ConversationStatus,
    pub controller: Controller,
    pub assigned_user_id: Option<UserId>,
    pub assigned_email: Option<String>,
    pub team_id: Option<TeamId>,
    pub team_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub cellphone: String,
    /// The newest message's text (the start of it; calls may have none).
    pub excerpt: Option<String>,
    /// Inbound messages after what the viewer has read.
    pub unread: i64,
    pub last_activity_at: DateTime<Utc>,
    /// Where the page after this row starts.
    pub cursor: InboxCursor,
}

/// One page of the inbox, and where the next one starts.
#[derive(Debug, Clone)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    pub next: Option<InboxCursor>,
}

/// Who may see a conversation: the facts [`Viewer::may_see`] decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    pub assigned_user_id: Option<UserId>,
    pub team_id: Option<TeamId>,
}

/// Everything the conversation page shows.
#[derive(Debug, Clone)]
pub struct ConversationPage {
    pub conversation: Conversation,
    pub contact: ContactRecord,
    pub channel: Option<Channel>,
    /// The newest [`PAGE_MESSAGES`], oldest first: texts, templates and calls.
    pub messages: Vec<Message>,
    pub decisions: Vec<Decision>,
    /// The contact's attribute values shown as `(key, values)`, in definition order.
    pub attributes: Vec<(String, Vec<String>)>,
    pub opt_outs: Vec<OptOut>,
    /// The approved templates of the channel's type, for a closed WhatsApp window.
    pub templates: Vec<Template>,
}

/// How far the excerpt goes, in characters.
const EXCERPT: usize = 140;

/// The `WHERE` predicate of a tab.
fn tab_predicate(tab: InboxFilter) -> &'static str {
    match tab {
        InboxFilter::Mine => "c.assigned_user_id = $2",
        InboxFilter::Queue => "c.status = 'HANDED_OFF' AND c.assigned_user_id IS NULL",
        InboxFilter::Ai => "c.status = 'ACTIVE' AND c.controller = 'AI'",
        InboxFilter::HandedOff => "c.status = 'HANDED_OFF'",
        InboxFilter::OptedOut => "c.status = 'OPTED_OUT'",
        InboxFilter::Closed => "c.status = 'CLOSED'",
    }
}

impl Store {
    /// The SQL of one inbox page for an admin (`teams` absent) or an advisor.
    fn inbox_sql(&self, tab: InboxFilter, advisor: bool) -> String {
        let visibility = if advisor {
            format!(
                "(c.assigned_user_id = $2 OR (c.assigned_user_id IS NULL AND c.team_id {}))",
                in_list(&self.backend, 6)
            )
        } else {
            "1 = 1".to_owned()
        };
        format!(
            "SELECT c.id, c.channel_id, c.status, c.controller, c.assigned_user_id, c.team_id, \
             c.last_activity_at, ct.first_name, ct.last_name, ct.cellphone, \
             (SELECT ch.message_provider_type FROM channels AS ch WHERE ch.id = c.channel_id) AS channel_type, \
             (SELECT ch.name FROM channels AS ch WHERE ch.id = c.channel_id) AS channel_name, \
             (SELECT u.email FROM users AS u WHERE u.id = c.assigned_user_id) AS assigned_email, \
             (SELECT t.name FROM teams AS t WHERE t.id = c.team_id) AS team_name, \
             (SELECT m.body FROM messages AS m WHERE m.conversation_id = c.id ORDER BY m.id DESC LIMIT 1) AS excerpt, \
             (SELECT COUNT(*) FROM messages AS m WHERE m.conversation_id = c.id \
                AND m.id > COALESCE((SELECT r.read_through FROM conversation_reads AS r \
                    WHERE r.user_id = $2 AND r.conversation_id = c.id), '') \
                AND m.direction = 'inbound') AS unread \
             FROM conversations AS c JOIN contacts AS ct ON ct.id = c.contact_id \
             WHERE c.workspace_id = $1 AND {visibility} AND {tab} \
               AND (c.last_activity_at < $3 OR (c.last_activity_at = $3 AND c.id > $4)) \
             ORDER BY c.last_activity_at DESC, c.id LIMIT $5",
            tab = tab_predicate(tab),
        )
    }

    /// One page of `viewer`'s inbox under `tab`, newest activity first, after `cursor`.
    pub async fn inbox(
        &self,
        workspace_id: WorkspaceId,
        viewer: &Viewer,
        tab: InboxFilter,
        cursor: Option<InboxCursor>,
    ) -> Result<InboxPage, StoreError> {
        let advisor = !viewer.is_admin();
        let sql = self.inbox_sql(tab, advisor);
        let teams = list(&self.backend, &viewer.teams);
        let (at, after) = cursor.map_or((i64::MAX, String::new()), |c| {
            (c.last_activity_at, c.id.to_string())
        });
        let limit = i64::from(INBOX_PAGE) + 1;
        let mut rows: Vec<InboxRow> = on_read!(&self.backend, pool => {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace_id.to_string())
                .bind(viewer.user_id.to_string())
                .bind(at)
                .bind(after)
                .bind(limit);
            if advisor {
                query = query.bind(teams);
            }
            query.fetch_all(pool).await?.iter().map(inbox_row).collect::<Result<_, StoreError>>()?
        });
        let next = if rows.len() > INBOX_PAGE as usize {
            rows.truncate(INBOX_PAGE as usize);
            rows.last().map(|row| row.cursor)
        } else {
            None
        };
        Ok(InboxPage { rows, next })
    }

    /// Who may see each of `conversations` (those of the workspace; others are left
    /// out): what the console's event stream checks its events against.
    pub async fn conversation_access(
        &self,
        workspace_id: WorkspaceId,
        conversations: &[ConversationId],
    ) -> Result<Vec<(ConversationId, Access)>, StoreError> {
        if conversations.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, assigned_user_id, team_id FROM conversations WHERE workspace_id = $1 AND id {}",
            in_list(&self.backend, 2)
        );
        let ids = list(&self.backend, conversations);
        on_read!(&self.backend, pool => {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(workspace_id.to_string())
                .bind(ids)
                .fetch_all(pool)
                .await?
                .iter()
                .map(|row| {
                    Ok((row.id("id")?, Access {
                        assigned_user_id: row.optional_id("assigned_user_id")?,
                        team_id: row.optional_id("team_id")?,
                    }))
                })
                .collect()
        })
    }

    /// Records that `user_id` has read `conversation_id` through `message_id`; never
    /// moves backwards (ids are UUIDv7, ordered by time).
    pub async fn mark_read(
        &self,
        user_id: UserId,
        conversation_id: ConversationId,
        message_id: MessageId,
    ) -> Result<(), StoreError> {
        on_write!(&self.backend, pool => {
            sqlx::query(
                "INSERT INTO conversation_reads (user_id, conversation_id, read_through) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_through = excluded.read_through \
                 WHERE conversation_reads.read_through < excluded.read_through",
            )
            .bind(user_id.to_string())
            .bind(conversation_id.to_string())
            .bind(message_id.to_string())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// What the conversation page shows, `None` when the workspace has no such
    /// conversation.
    pub async fn conversation_page(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
    ) -> Result<Option<ConversationPage>, StoreError> {
        let Some(conversation) = self.conversation(workspace_id, conversation_id).await? else {
            return Ok(None);
        };
        let Some(contact) = self.contact(workspace_id, conversation.contact_id).await? else {
            return Ok(None);
        };
        let channel = self.channel(workspace_id, conversation.channel_id).await?;
        let messages = self.recent_messages(conversation.id, PAGE_MESSAGES).await?;
        let decisions = self
            .agent_decisions(workspace_id, conversation.id, None, PAGE_DECISIONS)
            .await?;
        let definitions = self.custom_attributes(workspace_id).await?;
        let attributes = leadline_core::custom_attribute::display_values(
            &contact.fields.attributes,
            &definitions,
        );
        let opt_outs = self.opt_outs(contact.id).await?;
        let templates = match &channel {
            Some(channel) => {
                self.approved_templates(workspace_id, channel.carries)
                    .await?
            }
            None => Vec::new(),
        };
        Ok(Some(ConversationPage {
            conversation,
            contact,
            channel,
            messages,
            decisions,
            attributes,
            opt_outs,
            templates,
        }))
    }
}

fn inbox_row(row: &impl StoreRow) -> Result<InboxRow, StoreError> {
    let id: ConversationId = row.id("id")?;
    let at = row.int("last_activity_at")?;
    let excerpt = row.optional_text("excerpt")?.map(|body| {
        let mut short: String = body.chars().take(EXCERPT).collect();
        if short.len() < body.len() {
            short.push('…');
        }
        short
    });
    Ok(InboxRow {
        id,
        channel_id: row.id("channel_id")?,
        channel_type: row
            .optional_text("channel_type")?
            .and_then(|t| MessageProviderType::parse(&t))
            .unwrap_or(MessageProviderType::Sms),
        channel_name: row.optional_text("channel_name")?.unwrap_or_default(),
        status: row.parsed("status", ConversationStatus::parse)?,
        controller: row.parsed("controller", Controller::parse)?,
        assigned_user_id: row.optional_id("assigned_user_id")?,
        assigned_email: row.optional_text("assigned_email")?,
        team_id: row.optional_id("team_id")?,
        team_name: row.optional_text("team_name")?,
        first_name: row.optional_text("first_name")?,
        last_name: row.optional_text("last_name")?,
        cellphone: row.text("cellphone")?,
        excerpt,
        unread: row.int("unread")?,
        last_activity_at: from_micros(at)?,
        cursor: InboxCursor {
            last_activity_at: at,
            id,
        },
    })
}
