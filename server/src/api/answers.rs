//! What the API answers, as types: the handlers build these, and the OpenAPI document is
//! generated from the same types, so the two cannot drift apart.

use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use crate::engine::{Receipt, Step, Tracked};
use app::time::rfc3339;

/// A refusal: its stable code and a message for people.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable and machine-readable, such as `invalid_phone`.
    pub code: String,
    pub message: String,
}

impl From<&ApiError> for ErrorAnswer {
    fn from(error: &ApiError) -> Self {
        Self {
            status: false,
            error: error.into(),
        }
    }
}

impl From<&ApiError> for ErrorBody {
    fn from(error: &ApiError) -> Self {
        Self {
            code: error.code.to_string(),
            message: error.message.clone(),
        }
    }
}

/// Every refusal of a whole request. Nothing else is in it, which tells it apart from a
/// refused batch's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorAnswer {
    /// Always false.
    pub status: bool,
    pub error: ErrorBody,
}

/// One message's receipt, or its error.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageAnswer {
    pub internal_id: Option<String>,
    /// Present when the message was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_uuid: Option<String>,
    /// `queued` when accepted; statuses then move to sent, delivered, undelivered, expired…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `GSM-7` or `UCS-2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<i64>,
    /// Present when the message was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl MessageAnswer {
    pub fn refused(internal_id: Option<String>, error: &ApiError) -> Self {
        Self {
            internal_id,
            message_uuid: None,
            status: None,
            encoding: None,
            segments: None,
            error: Some(error.into()),
        }
    }
}

impl From<&Receipt> for MessageAnswer {
    fn from(receipt: &Receipt) -> Self {
        Self {
            internal_id: receipt
                .internal_id
                .as_ref()
                .map(|id| id.as_str().to_string()),
            message_uuid: Some(receipt.message_uuid.to_string()),
            status: Some(receipt.status.as_str().to_string()),
            encoding: Some(receipt.encoding.clone()),
            segments: Some(receipt.segments),
            error: None,
        }
    }
}

/// The answer of every sending endpoint: one entry per message, in the order sent.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SendAnswer {
    /// True when at least one message was queued.
    pub status: bool,
    pub messages: Vec<MessageAnswer>,
    /// Why nothing was queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// A sending endpoint's refusal: of the whole request (`ErrorAnswer`), or of every message of
/// the batch, each with its error (`SendAnswer`, with the first message's status).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(untagged)]
pub enum SendRefusal {
    Batch(SendAnswer),
    /// Answered through `ApiError`, which builds the same body.
    #[allow(dead_code)]
    Request(ErrorAnswer),
}

/// One step of a message's life.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryStep {
    pub status: String,
    /// RFC 3339, UTC.
    pub at: String,
    pub detail: Option<String>,
}

impl From<&Step> for HistoryStep {
    fn from(step: &Step) -> Self {
        Self {
            status: step.status.as_str().to_string(),
            at: rfc3339(step.at),
            detail: step.detail.clone(),
        }
    }
}

/// A message found by `/status/`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrackedMessage {
    pub internal_id: Option<String>,
    pub message_uuid: String,
    pub recipient_phone: String,
    pub status: String,
    pub encoding: String,
    pub segments: i64,
    /// Why it failed, when it did.
    pub error: Option<ErrorBody>,
    /// The `callback_data` the message was sent with.
    pub callback_data: Option<String>,
    pub history: Vec<HistoryStep>,
}

impl From<Tracked> for TrackedMessage {
    fn from(message: Tracked) -> Self {
        let error = message.error_code.map(|code| ErrorBody {
            code,
            message: message.error_message.unwrap_or_default(),
        });
        Self {
            internal_id: message
                .receipt
                .internal_id
                .map(|id| id.as_str().to_string()),
            message_uuid: message.receipt.message_uuid.into_string(),
            recipient_phone: message.recipient,
            status: message.receipt.status.as_str().to_string(),
            encoding: message.receipt.encoding,
            segments: message.receipt.segments,
            error,
            callback_data: message.callback_data,
            history: message.history.iter().map(HistoryStep::from).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusAnswer {
    pub status: bool,
    pub messages: Vec<TrackedMessage>,
    /// The ids asked for that match no message of the stream.
    pub not_found: Vec<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OtpAuthAnswer {
    pub status: bool,
    pub otp_id: String,
    /// RFC 3339, UTC.
    pub expires_at: String,
    pub message: MessageAnswer,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OtpVerifyAnswer {
    /// True only when verified.
    pub status: bool,
    /// `verified`, `invalid`, `expired` or `max_attempts_reached`.
    pub result: String,
    pub otp_id: String,
    /// After an invalid code, the tries left.
    pub attempts_left: Option<i64>,
}

/// What `/inbound/sms/{stream}` did with a provider's call.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct InboundAnswer {
    pub status: bool,
    /// A delivery report: whether it moved the message (false for interim words, or a status
    /// the message already passed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded: Option<bool>,
    /// A delivery report of a message not recorded yet: kept for an hour and applied once it
    /// is (answered 202).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<bool>,
    /// An inbound message: its uuid, once complete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_uuid: Option<String>,
    /// An inbound message: false while parts of a long message are still missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
}

/// What `/inbound/whatsapp/{stream}` did with Meta's notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhatsAppNotifyAnswer {
    pub status: bool,
    /// How many statuses moved a message.
    pub statuses: usize,
    /// How many messages were taken.
    pub messages: usize,
}
