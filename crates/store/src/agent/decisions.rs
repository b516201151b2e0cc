//! The decision log: every decision the agent or the opt-out handling made on a
//! conversation, with its reason and the message it sent, if any.

use chrono::{DateTime, Utc};
use leadline_core::agent::DecisionKind;
use leadline_core::{ConversationId, DecisionId, MessageId, WorkspaceId};

use crate::rows::{FromStoreRow, StoreRow, fetch_all};
use crate::{Store, StoreError};

#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub id: DecisionId,
    pub conversation_id: ConversationId,
    pub kind: DecisionKind,
    pub reason: String,
    /// What the decision was about (the attribute set, the advisor, the wait), as JSON.
    pub detail: Option<serde_json::Value>,
    pub message_id: Option<MessageId>,
    pub created_at: DateTime<Utc>,
}

impl FromStoreRow for Decision {
    fn from_row(row: &impl StoreRow) -> Result<Self, StoreError> {
        let detail = row
            .optional_text("detail")?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("agent_decisions.detail: {e}")))
            })
            .transpose()?;
        Ok(Decision {
            id: row.id("id")?,
            conversation_id: row.id("conversation_id")?,
            kind: row.parsed("kind", DecisionKind::parse)?,
            reason: row.text("reason")?,
            detail,
            message_id: row.optional_id("message_id")?,
            created_at: row.time("created_at")?,
        })
    }
}

/// Inserts one decision inside a transaction; evaluates to the [`Decision`] written.
macro_rules! insert_decision {
    ($executor:expr, $workspace_id:expr, $conversation_id:expr, $kind:expr, $reason:expr, $detail:expr, $message_id:expr, $now:expr) => {{
        let decision = $crate::agent::Decision {
            id: leadline_core::DecisionId::new(),
            conversation_id: $conversation_id,
            kind: $kind,
            reason: ($reason).to_owned(),
            detail: ($detail).cloned(),
            message_id: $message_id,
            created_at: $now,
        };
        sqlx::query(
            "INSERT INTO agent_decisions (id, workspace_id, conversation_id, kind, reason, detail, message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(decision.id.to_string())
        .bind($workspace_id.to_string())
        .bind(decision.conversation_id.to_string())
        .bind(decision.kind.as_str())
        .bind(&decision.reason)
        .bind(decision.detail.as_ref().map(|d| d.to_string()))
        .bind(decision.message_id.map(|m| m.to_string()))
        .bind($crate::rows::to_micros(decision.created_at))
        .execute($executor)
        .await?;
        decision
    }};
}
pub(crate) use insert_decision;

impl Store {
    /// One page of a conversation's decisions, oldest first.
    pub async fn agent_decisions(
        &self,
        workspace_id: WorkspaceId,
        conversation_id: ConversationId,
        after: Option<DecisionId>,
        limit: u32,
    ) -> Result<Vec<Decision>, StoreError> {
        let sql = "SELECT id, conversation_id, kind, reason, detail, message_id, created_at FROM agent_decisions \
                   WHERE workspace_id = $1 AND conversation_id = $2 AND id > $3 ORDER BY id LIMIT $4";
        let args = vec![
            workspace_id.to_string().into(),
            conversation_id.to_string().into(),
            after.map(|a| a.to_string()).unwrap_or_default().into(),
            i64::from(limit).into(),
        ];
        fetch_all(&self.backend, sql, args).await
    }
}
