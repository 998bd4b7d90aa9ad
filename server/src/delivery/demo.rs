//! The demo channel: nothing leaves the machine. A queued message is "sent" at once and
//! reported delivered (or, for `demo_failure_ratio` of them, undelivered) after `demo_delay_ms`.

use rand::Rng;

use super::DeliveryConfig;
use app::{
    db::{Db, now_ms},
    messages::{
        MessageStatus,
        store::{self, Claimed, Inbound, Outcome},
    },
    streams::StreamKind,
};

pub const NAME: &str = "demo";

/// The next step of a demo message.
pub fn step(config: &DeliveryConfig, message: &Claimed) -> Outcome<'static> {
    match message.status {
        MessageStatus::Queued => Outcome {
            status: MessageStatus::Sent,
            next_at: Some(now_ms() + i64::try_from(config.demo_delay_ms).unwrap_or(0)),
            error: None,
            attempted: true,
        },
        _ if rand::thread_rng().gen_bool(config.demo_failure_ratio.clamp(0.0, 1.0)) => Outcome {
            status: MessageStatus::Undelivered,
            next_at: None,
            error: Some((
                "undelivered",
                "The demo handset did not acknowledge the message (simulated).",
            )),
            attempted: false,
        },
        _ => Outcome {
            status: MessageStatus::Delivered,
            next_at: None,
            error: None,
            attempted: false,
        },
    }
}

/// Replies a demo recipient may send back.
const REPLIES: [&str; 3] = [
    "Thanks, got it!",
    "Yes, please book me in.",
    "Can you call me later?",
];

/// For Two-way and WhatsApp streams, the recipient of a delivered demo message sometimes
/// answers; the reply is stored as an inbound message.
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
    let kind: Option<String> = sqlx::query_scalar("select kind from streams where id = $1")
        .bind(&message.stream_id)
        .fetch_optional(db.pool())
        .await?;
    let receives = kind
        .and_then(|kind| kind.parse::<StreamKind>().ok())
        .is_some_and(StreamKind::receives_messages);
    if receives {
        store::receive(
            db,
            Inbound {
                account_id: &message.account_id,
                stream_id: &message.stream_id,
                channel: NAME,
                from: &message.recipient,
                to: message.sender.as_deref(),
                content: reply,
            },
        )
        .await?;
    }
    Ok(())
}
