//! The rules every message obeys before it is queued, whichever endpoint sent it, and the one
//! enum of the reasons a message is refused.

use std::collections::HashSet;

use app::{
    db::Db,
    ids::AccountId,
    messages::measure,
    phone::{NotAPhoneNumber, PhoneNumber},
    streams::{SenderId, Stream, in_countries, settings_store, store::StreamError},
};
use axum::http::StatusCode;

use super::NewMessage;

/// The longest message text, in characters (10 GSM-7 segments).
pub const MAX_CONTENT: usize = 1_530;
/// The longest `internal_id`, in bytes.
const MAX_INTERNAL_ID: usize = 100;
/// The longest `callback_data`, in characters.
pub const MAX_CALLBACK_DATA: usize = 1_000;

/// Why a message is refused. Each reason has one stable `code` and one HTTP status, whichever
/// endpoint the message came through.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("internal_id must be 1 to {MAX_INTERNAL_ID} characters.")]
    InvalidInternalId,
    #[error("{0}")]
    InvalidPhone(#[from] NotAPhoneNumber),
    #[error(
        "This stream sends only to {}; {recipient} is in none of them. Its destination countries are in its details.",
        countries.join(", ")
    )]
    CountryNotAllowed {
        recipient: PhoneNumber,
        countries: Vec<String>,
    },
    #[error("This stream is restricted and {0} is not one of its test recipients.")]
    RecipientNotAllowed(PhoneNumber),
    #[error("{0}")]
    InvalidSender(String),
    #[error("This stream's sender is Customized: give each message a sender.")]
    SenderRequired,
    #[error("message_content is empty.")]
    ContentRequired,
    #[error("A message is at most {MAX_CONTENT} characters.")]
    ContentTooLong,
    #[error("template_variables has no `{0}`, which the event uses.")]
    MissingVariable(String),
    #[error("{0} replied STOP to this stream; it can send to them again after they reply START.")]
    OptedOut(PhoneNumber),
    #[error("This internal_id was already used for a different message.")]
    IdempotencyConflict,
    #[error("callback_data is at most {MAX_CALLBACK_DATA} characters.")]
    InvalidCallbackData,
    #[error(
        "{0} has not written in the last 24 hours: start the conversation with /whatsapp/template/."
    )]
    OutsideServiceWindow(PhoneNumber),
}

impl Rejection {
    /// The stable code callers branch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidInternalId => "invalid_internal_id",
            Self::InvalidPhone(_) => "invalid_phone",
            Self::CountryNotAllowed { .. } => "country_not_allowed",
            Self::RecipientNotAllowed(_) => "recipient_not_allowed",
            Self::InvalidSender(_) => "invalid_sender",
            Self::SenderRequired => "sender_required",
            Self::ContentRequired => "content_required",
            Self::ContentTooLong => "content_too_long",
            Self::MissingVariable(_) => "missing_variable",
            Self::OptedOut(_) => "recipient_opted_out",
            Self::IdempotencyConflict => "idempotency_conflict",
            Self::InvalidCallbackData => "invalid_callback_data",
            Self::OutsideServiceWindow(_) => "outside_service_window",
        }
    }

    /// The HTTP status of an answer that carries only this rejection.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::CountryNotAllowed { .. }
            | Self::RecipientNotAllowed(_)
            | Self::OptedOut(_)
            | Self::OutsideServiceWindow(_) => StatusCode::FORBIDDEN,
            Self::ContentTooLong => StatusCode::PAYLOAD_TOO_LARGE,
            Self::IdempotencyConflict => StatusCode::CONFLICT,
            Self::InvalidInternalId
            | Self::InvalidPhone(_)
            | Self::InvalidSender(_)
            | Self::SenderRequired
            | Self::ContentRequired
            | Self::MissingVariable(_)
            | Self::InvalidCallbackData => StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// One message as the caller wrote it, before the rules.
pub struct Draft {
    pub internal_id: Option<String>,
    pub sender: Option<String>,
    pub recipient: String,
    /// The text, or why it could not be made (an event's template missing a variable).
    pub content: Result<String, Rejection>,
    pub callback_data: Option<String>,
}

/// Whom a stream may send to: numbers in its destination countries and, while it is
/// restricted, only its test recipients.
#[derive(Debug, Clone)]
pub struct Audience {
    countries: Vec<String>,
    test_recipients: Option<HashSet<String>>,
}

impl Audience {
    /// The stream's audience as stored now.
    pub async fn of(db: &Db, account_id: &AccountId, stream: &Stream) -> Result<Self, StreamError> {
        let test_recipients = if stream.restricted {
            let recipients = settings_store::test_recipients(db, account_id, &stream.id).await?;
            Some(recipients.into_iter().collect())
        } else {
            None
        };
        Ok(Self {
            countries: stream.allowed_countries.clone(),
            test_recipients,
        })
    }

    /// Refuses a recipient the stream may not send to.
    pub fn admit(&self, recipient: &PhoneNumber) -> Result<(), Rejection> {
        if !in_countries(&self.countries, recipient.as_str()) {
            return Err(Rejection::CountryNotAllowed {
                recipient: recipient.clone(),
                countries: self.countries.clone(),
            });
        }
        match &self.test_recipients {
            Some(allowed) if !allowed.contains(recipient.as_str()) => {
                Err(Rejection::RecipientNotAllowed(recipient.clone()))
            }
            _ => Ok(()),
        }
    }
}

/// The caller's own id for a message: 1 to 100 bytes once trimmed. A stream queues a message
/// for each at most once; sending it again answers the first one.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct InternalId(String);

impl InternalId {
    pub fn parse(text: &str) -> Result<Self, Rejection> {
        let id = text.trim();
        if id.is_empty() || id.len() > MAX_INTERNAL_ID {
            return Err(Rejection::InvalidInternalId);
        }
        Ok(Self(id.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The caller's id for a message, when it gave one.
pub fn parse_internal_id(internal_id: Option<String>) -> Result<Option<InternalId>, Rejection> {
    internal_id.as_deref().map(InternalId::parse).transpose()
}

/// The caller's data for a message, echoed in its webhook events and in `/status/`: up to
/// 1,000 characters, kept as given.
#[derive(Debug, Clone, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(transparent)]
pub struct CallbackData(String);

impl CallbackData {
    pub fn parse(text: String) -> Result<Self, Rejection> {
        if text.chars().count() > MAX_CALLBACK_DATA {
            return Err(Rejection::InvalidCallbackData);
        }
        Ok(Self(text))
    }

    /// The caller's data, when it gave any (an empty string is none).
    pub fn optional(text: Option<String>) -> Result<Option<Self>, Rejection> {
        text.filter(|t| !t.is_empty()).map(Self::parse).transpose()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A recipient the stream may send to.
pub fn recipient(text: &str, audience: &Audience) -> Result<PhoneNumber, Rejection> {
    let recipient = PhoneNumber::parse(text)?;
    audience.admit(&recipient)?;
    Ok(recipient)
}

/// One message's rules, in the order a caller would fix them.
pub fn check(
    draft: Draft,
    default_sender: Option<&str>,
    audience: &Audience,
) -> Result<NewMessage, Rejection> {
    let internal_id = parse_internal_id(draft.internal_id)?;
    let recipient = recipient(&draft.recipient, audience)?;
    let callback_data = CallbackData::optional(draft.callback_data)?;
    let sender = match draft
        .sender
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(sender) => SenderId::parse(sender)
            .map_err(|error| Rejection::InvalidSender(error.message))?
            .as_str()
            .to_string(),
        None => default_sender
            .map(str::to_string)
            .ok_or(Rejection::SenderRequired)?,
    };
    let content = draft.content?;
    if content.trim().is_empty() {
        return Err(Rejection::ContentRequired);
    }
    if content.chars().count() > MAX_CONTENT {
        return Err(Rejection::ContentTooLong);
    }
    Ok(NewMessage {
        internal_id,
        sender: Some(sender),
        recipient,
        size: measure(&content),
        content,
        payload: None,
        callback_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_ids_are_trimmed_and_bounded() {
        assert_eq!(InternalId::parse("  order-1 ").unwrap().as_str(), "order-1");
        assert_eq!(InternalId::parse(" "), Err(Rejection::InvalidInternalId));
        assert!(InternalId::parse(&"x".repeat(MAX_INTERNAL_ID)).is_ok());
        assert_eq!(
            InternalId::parse(&"x".repeat(MAX_INTERNAL_ID + 1)),
            Err(Rejection::InvalidInternalId)
        );
        assert_eq!(parse_internal_id(None), Ok(None));
    }

    #[test]
    fn callback_data_is_kept_as_given_up_to_its_limit() {
        let most = "é".repeat(MAX_CALLBACK_DATA);
        assert_eq!(
            CallbackData::parse(most.clone()).unwrap().as_str(),
            most.as_str()
        );
        assert_eq!(
            CallbackData::parse(format!("{most}x")),
            Err(Rejection::InvalidCallbackData)
        );
        assert_eq!(CallbackData::optional(Some(String::new())), Ok(None));
        assert_eq!(
            CallbackData::optional(Some(" a ".into()))
                .unwrap()
                .unwrap()
                .as_str(),
            " a "
        );
    }

    #[test]
    fn each_rejection_has_one_code_and_status() {
        let phone = PhoneNumber::parse("+447700900123").unwrap();
        let cases = [
            (Rejection::InvalidInternalId, "invalid_internal_id", 422),
            (
                Rejection::InvalidPhone(PhoneNumber::parse("12").unwrap_err()),
                "invalid_phone",
                422,
            ),
            (
                Rejection::RecipientNotAllowed(phone.clone()),
                "recipient_not_allowed",
                403,
            ),
            (
                Rejection::OptedOut(phone.clone()),
                "recipient_opted_out",
                403,
            ),
            (Rejection::ContentTooLong, "content_too_long", 413),
            (Rejection::IdempotencyConflict, "idempotency_conflict", 409),
            (Rejection::InvalidCallbackData, "invalid_callback_data", 422),
            (
                Rejection::OutsideServiceWindow(phone.clone()),
                "outside_service_window",
                403,
            ),
        ];
        for (rejection, code, status) in cases {
            assert_eq!(
                (rejection.code(), rejection.status().as_u16()),
                (code, status)
            );
        }
    }
}
