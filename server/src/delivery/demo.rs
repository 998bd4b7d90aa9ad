//! The demo channel: nothing leaves the machine. A queued message is "sent" at once and
//! reported delivered (or, for `demo_failure_ratio` of them, undelivered) after `demo_delay_ms`.

use rand::Rng;

use super::DeliveryConfig;
use app::{
    db::now_ms,
    messages::{
        MessageStatus,
        store::{Claimed, Outcome},
    },
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
