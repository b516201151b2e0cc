//! One decision of the agent (or of the opt-out handling) on a conversation, as the
//! API returns it.

use serde::Serialize;
use utoipa::ToSchema;

/// One decision of the agent, with its reason.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = DecisionResponse)]
pub struct DecisionView {
    pub id: String,
    /// REPLY, SET_ATTRIBUTE, HAND_OFF, END, OPT_OUT, HELP, OPT_IN, DEFERRED, SKIPPED,
    /// ADDITIONAL_MESSAGES or RELEASED.
    pub kind: String,
    pub reason: String,
    #[schema(value_type = Option<Object>)]
    pub detail: Option<serde_json::Value>,
    /// The message the decision sent, if any.
    pub message_id: Option<String>,
    pub created_at: String,
}

/// The `data` of an `agent.decision` event: the decision with the conversation and
/// contact it was made on.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionEventData {
    #[serde(flatten)]
    pub decision: DecisionView,
    pub conversation_id: String,
    pub contact_id: String,
}
