//! The demo channel: nothing leaves the machine. A queued message is "sent" at once and
//! reported delivered (or, for `demo_failure_ratio` of them, undelivered) after `demo_delay_ms`.
//! `demo_transient_ratio` of send attempts fail transiently, to exercise retries.

use rand::Rng;

use super::DeliveryConfig;
use crate::engine::{self, Channel, Claimed, Inbound, Outcome};
use app::{db::Db, messages::MessageStatus};

/// A failure worth another attempt later.
#[derive(Debug, Clone)]
pub struct Transient {
    pub code: &'static str,
    pub message: String,
}

/// Hands a queued message to the demo "provider", which accepts it (and reports after
/// `demo_delay_ms`) or, for `demo_transient_ratio` of attempts, is busy.
pub fn send(config: &DeliveryConfig, now: i64) -> Result<Outcome, Transient> {
    if rand::thread_rng().gen_bool(config.demo_transient_ratio.clamp(0.0, 1.0)) {
        return Err(Transient {
            code: "provider_busy",
            message: "The demo provider was busy and asked to try again later (simulated).".into(),
        });
    }
    Ok(Outcome {
        status: MessageStatus::Sent,
        next_at: Some(now + i64::try_from(config.demo_delay_ms).unwrap_or(0)),
        error: None,
        attempted: true,
        provider_id: None,
    })
}

/// The delivery report of a sent message.
pub fn report(config: &DeliveryConfig) -> Outcome {
    if rand::thread_rng().gen_bool(config.demo_failure_ratio.clamp(0.0, 1.0)) {
        return Outcome::report(
            MessageStatus::Undelivered,
            Some("The demo handset did not acknowledge the message (simulated).".into()),
        );
    }
    Outcome::report(MessageStatus::Delivered, None)
}

/// Replies a demo recipient may send back.
const REPLIES: [&str; 3] = [
    "Thanks, got it!",
    "Yes, please book me in.",
    "Can you call me later?",
];

/// The recipient of a delivered demo message of a Two-way or WhatsApp stream sometimes answers;
/// the reply is stored as an inbound message.
pub async fn maybe_reply(
    db: &Db,
    config: &DeliveryConfig,
    message: &Claimed,
) -> Result<(), sqlx::Error> {
    let reply = {
        let mut rng = rand::thread_rng();
        if !rng.gen_bool(config.demo_reply_ratio.clamp(0.0, 1.0)) {
            return Ok(());
        }
        REPLIES[rng.gen_range(0..REPLIES.len())]
    };
    engine::receive(
        db,
        Inbound {
            account_id: &message.account_id,
            stream_id: &message.stream_id,
            channel: Channel::Demo,
            from: message.recipient.as_str(),
            to: message.sender.as_deref(),
            content: reply,
            provider_id: None,
        },
    )
    .await?;
    Ok(())
}
