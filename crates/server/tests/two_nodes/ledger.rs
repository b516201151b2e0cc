//! What the database holds after the nodes' work, read directly (the test checks the
//! nodes, so it does not ask them what they did): the outbound messages, the campaign's
//! leads, the sends per pool number, and the agent's conversations; and whether the
//! work has settled.

use std::sync::Arc;

use leadline_core::SystemClock;
use leadline_server::testing::CountingSink;
use leadline_store::{Store, StoreOptions};
use sqlx::PgPool;

/// Leads due within this long still count as work in progress (a claimed lead is due
/// again two minutes after its claim); the rest wait for tomorrow's caps.
const DUE_SOON: chrono::Duration = chrono::Duration::minutes(10);

pub struct Ledger {
    pool: PgPool,
    /// For the outbox's depth, as the store itself counts it.
    store: Store,
}

#[derive(Debug, sqlx::FromRow)]
pub struct Outbound {
    pub id: String,
    pub channel_id: String,
    pub contact_id: String,
    pub status: String,
    pub from_number_id: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
pub struct LeadRow {
    pub id: String,
    pub contact_id: String,
    pub attempts: i64,
    pub last_decision: Option<String>,
    pub last_decision_reason: Option<String>,
}

impl LeadRow {
    pub fn reason(&self) -> &str {
        self.last_decision_reason.as_deref().unwrap_or_default()
    }
}

/// One conversation of the agent's channel.
#[derive(Debug)]
pub struct AgentConversation {
    pub id: String,
    pub inbound: i64,
    /// The bodies of its outbound messages other than the opening template.
    pub replies: Vec<String>,
    /// The kinds of the agent's decisions, oldest first.
    pub decisions: Vec<String>,
}

impl Ledger {
    pub async fn open(url: &str, options: StoreOptions) -> Self {
        let store = Store::open(url, options, Arc::new(SystemClock))
            .await
            .expect("the store opens");
        Self {
            pool: PgPool::connect(url).await.expect("PostgreSQL answers"),
            store,
        }
    }

    pub async fn close(self) {
        self.pool.close().await;
        self.store.close().await;
    }

    async fn count(&self, sql: &str, text: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(text)
            .fetch_one(&self.pool)
            .await
            .expect("a count")
    }

    /// `Ok` once every lead of `campaign` is decided and none is due soon, and every
    /// outbound message is recorded and has reached the sink; else what is still open.
    pub async fn settled(&self, campaign: &str, sink: &CountingSink) -> Result<(), String> {
        let soon = (chrono::Utc::now() + DUE_SOON).timestamp_micros();
        let (undecided, due): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*) FILTER (WHERE last_decision IS NULL), \
             COUNT(*) FILTER (WHERE next_attempt_at < $2) FROM leads WHERE campaign_id = $1",
        )
        .bind(campaign)
        .bind(soon)
        .fetch_one(&self.pool)
        .await
        .expect("lead counts");
        let work = self.outbox(sink).await;
        if undecided == 0 && due == 0 && work.is_ok() {
            return Ok(());
        }
        let reasons: Vec<(Option<String>, i64)> = sqlx::query_as(
            "SELECT last_decision_reason, COUNT(*) FROM leads WHERE campaign_id = $1 GROUP BY 1",
        )
        .bind(campaign)
        .fetch_all(&self.pool)
        .await
        .expect("lead reasons");
        Err(format!(
            "{undecided} leads undecided, {due} due soon, reasons {reasons:?}; {}",
            work.err().unwrap_or_default()
        ))
    }

    /// `Ok` once no outbound message is queued, the outbox is empty and the sink has
    /// seen at least as many sends as there are outbound messages.
    async fn outbox(&self, sink: &CountingSink) -> Result<(), String> {
        let (messages, queued): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE status = 'queued') FROM messages \
             WHERE direction = 'outbound'",
        )
        .fetch_one(&self.pool)
        .await
        .expect("message counts");
        let depth = self.store.outbox_depth().await.expect("the outbox's depth");
        let sends = sink.total();
        if queued == 0 && depth == 0 && sends >= usize::try_from(messages).unwrap() {
            Ok(())
        } else {
            Err(format!(
                "{queued} of {messages} outbound messages queued, {depth} jobs, {sends} sends at the gateway"
            ))
        }
    }

    /// `Ok` once `expected` conversations of `channel` each have their opening and one
    /// more message sent, no agent task is left and the outbox is empty.
    pub async fn answered(
        &self,
        channel: &str,
        expected: usize,
        sink: &CountingSink,
    ) -> Result<(), String> {
        let answered = self
            .count(
                "SELECT COUNT(*) FROM (SELECT conversation_id FROM messages \
                 WHERE channel_id = $1 AND direction = 'outbound' AND status = 'sent' \
                 GROUP BY conversation_id HAVING COUNT(*) >= 2) AS answered",
                channel,
            )
            .await;
        let tasks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agent_tasks")
            .fetch_one(&self.pool)
            .await
            .expect("a count");
        let work = self.outbox(sink).await;
        if usize::try_from(answered).unwrap() >= expected && tasks == 0 && work.is_ok() {
            return Ok(());
        }
        Err(format!(
            "{answered} of {expected} conversations answered, {tasks} agent tasks; {}",
            work.err().unwrap_or_default()
        ))
    }

    pub async fn outbound(&self) -> Vec<Outbound> {
        sqlx::query_as(
            "SELECT id, channel_id, contact_id, status, from_number_id FROM messages \
             WHERE direction = 'outbound' ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .expect("outbound messages")
    }

    pub async fn leads(&self, campaign: &str) -> Vec<LeadRow> {
        sqlx::query_as(
            "SELECT id, contact_id, attempts, last_decision, last_decision_reason FROM leads \
             WHERE campaign_id = $1 ORDER BY id",
        )
        .bind(campaign)
        .fetch_all(&self.pool)
        .await
        .expect("leads")
    }

    pub async fn agent_conversations(&self, channel: &str) -> Vec<AgentConversation> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM conversations WHERE channel_id = $1 ORDER BY id")
                .bind(channel)
                .fetch_all(&self.pool)
                .await
                .expect("conversations");
        let mut conversations = Vec::with_capacity(ids.len());
        for id in ids {
            let inbound = self
                .count(
                    "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND direction = 'inbound'",
                    &id,
                )
                .await;
            let replies = sqlx::query_scalar(
                "SELECT COALESCE(body, '') FROM messages WHERE conversation_id = $1 \
                 AND direction = 'outbound' AND template_name IS NULL ORDER BY id",
            )
            .bind(&id)
            .fetch_all(&self.pool)
            .await
            .expect("replies");
            let decisions = sqlx::query_scalar(
                "SELECT kind FROM agent_decisions WHERE conversation_id = $1 ORDER BY id",
            )
            .bind(&id)
            .fetch_all(&self.pool)
            .await
            .expect("decisions");
            conversations.push(AgentConversation {
                id,
                inbound,
                replies,
                decisions,
            });
        }
        conversations
    }
}
