//! A demo stream's messages as the phone that receives them sees them: the whole text (an OTP
//! message's is sealed beside its masked copy) and the code it carries, newest first. The test
//! inbox API and the console's Inbox tab both read them here.

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::{
    crypto::{Place, SecretKey},
    db::Db,
    ids::StreamId,
    phone::PhoneNumber,
};

/// Where the text of a message that carries a code is sealed, beside its masked copy.
#[cfg(feature = "ssr")]
pub fn text_place(message_id: &str) -> Place<'_> {
    Place::new("messages", "payload", message_id)
}

/// The most messages one look returns.
pub const MAX_MESSAGES: i64 = 100;

/// Which of the stream's outbound messages to read.
#[cfg(feature = "ssr")]
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub recipient: Option<PhoneNumber>,
    /// Created at or after (ms).
    pub since: Option<i64>,
}

/// One message as its recipient's phone shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub message_uuid: String,
    pub internal_id: Option<String>,
    pub recipient: String,
    pub sender: Option<String>,
    pub content: String,
    /// The one-time code it carries, when it carries one.
    pub code: Option<String>,
    pub status: String,
    pub created_at: i64,
}

/// The stream's outbound messages that `filter` lets through, newest first.
#[cfg(feature = "ssr")]
pub async fn inbox(
    db: &Db,
    key: &SecretKey,
    stream_id: &StreamId,
    filter: &InboxFilter,
) -> Result<Vec<Received>, sqlx::Error> {
    use sqlx::Row;

    let rows = sqlx::query(
        "select id, internal_id, recipient, sender, content, payload, status, created_at
         from messages
         where stream_id = $1 and direction = 'outbound' and created_at >= $2
             and ($3 = '' or recipient = $3)
         order by created_at desc, id desc limit $4",
    )
    .bind(stream_id)
    .bind(filter.since.unwrap_or(0))
    .bind(filter.recipient.as_ref().map_or("", PhoneNumber::as_str))
    .bind(MAX_MESSAGES)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|row| {
            let id: String = row.get("id");
            let stored: String = row.get("content");
            // An OTP message is stored masked, its text sealed in `payload`; a WhatsApp
            // message's payload is its Cloud API body, which does not open as sealed text.
            let text = row
                .get::<Option<String>, _>("payload")
                .and_then(|sealed| key.open_text(&sealed, text_place(&id)).ok())
                .unwrap_or_else(|| stored.clone());
            Received {
                code: code_of(&stored, &text),
                message_uuid: id,
                internal_id: row.get("internal_id"),
                recipient: row.get("recipient"),
                sender: row.get("sender"),
                content: text,
                status: row.get("status"),
                created_at: row.get("created_at"),
            }
        })
        .collect())
}

/// The code `text` carries: what its stored copy masks (an OTP stream's message), else, in a
/// text that speaks of a code, OTP or PIN, its first run of 4 to 8 digits.
#[cfg(feature = "ssr")]
fn code_of(stored: &str, text: &str) -> Option<String> {
    if stored != text {
        let masked: String = stored
            .chars()
            .zip(text.chars())
            .skip_while(|(s, t)| s == t)
            .take_while(|(s, t)| *s == '*' && s != t)
            .map(|(_, t)| t)
            .collect();
        if !masked.is_empty() {
            return Some(masked);
        }
    }
    let lower = text.to_lowercase();
    if !["code", "otp", "pin"]
        .iter()
        .any(|word| lower.contains(word))
    {
        return None;
    }
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| (4..=8).contains(&run.len()))
        .map(str::to_string)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_masked_code_is_read_from_the_text_it_hides() {
        assert_eq!(
            code_of("Your code is ******.", "Your code is 493021."),
            Some("493021".into())
        );
        assert_eq!(
            code_of("**** is your Acme PIN", "0042 is your Acme PIN"),
            Some("0042".into())
        );
    }

    #[test]
    fn digits_are_a_code_only_in_a_text_about_one() {
        assert_eq!(
            code_of("Use code 123456 to sign in", "Use code 123456 to sign in"),
            Some("123456".into())
        );
        assert_eq!(code_of("Order 1042 shipped", "Order 1042 shipped"), None);
        assert_eq!(code_of("Your code: 12", "Your code: 12"), None);
        assert_eq!(
            code_of("PIN 123456789 or 5678", "PIN 123456789 or 5678"),
            Some("5678".into())
        );
    }
}
