//! A message as the API returns it. A call is a message of type `CALL` whose `call`
//! part says who called whom, how it ended and how long it lasted.

use serde::Serialize;
use utoipa::ToSchema;

use crate::message::{CallStatus, Direction, MessageStatus, MessageType};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MessageResponse)]
pub struct MessageView {
    pub id: String,
    pub conversation_id: String,
    pub contact_id: String,
    pub channel_id: String,
    pub direction: Direction,
    #[serde(rename = "type")]
    pub message_type: MessageType,
    pub status: MessageStatus,
    pub body: Option<String>,
    pub template: Option<MessageTemplateView>,
    pub author_user_id: Option<String>,
    pub provider_message_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub call: Option<CallView>,
    pub attachments: Vec<String>,
    pub alt_id: Option<String>,
    pub sent_at: Option<String>,
    pub delivered_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The template a message was rendered from.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = MessageTemplateResponse)]
pub struct MessageTemplateView {
    pub name: String,
    pub language: String,
    pub params: Vec<String>,
}

/// The call part of a `CALL` message.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = CallResponse)]
pub struct CallView {
    pub to: Option<String>,
    pub from: Option<String>,
    pub status: Option<CallStatus>,
    pub duration_seconds: Option<i64>,
}
