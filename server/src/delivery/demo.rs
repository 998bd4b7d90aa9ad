//! The demo channel: nothing leaves the machine. A queued message is "sent" at once and
//! reported delivered (or, for `demo_failure_ratio` of them, undelivered) after `demo_delay_ms`.
//! `demo_transient_ratio` of send attempts fail transiently, to exercise retries.
//!
//! Five numbers of Ofcom's drama range decide their messages' fate, the same every time, so a
//! test suite can make a delivery fail on purpose (see [`Script`]); a stream set to predictable
//! outcomes leaves nothing else to chance (see [`Odds`]).

use rand::Rng;

use super::DeliveryConfig;
use crate::engine::{self, Channel, Claimed, Inbound, Outcome};
use app::{db::Db, messages::MessageStatus, phone::PhoneNumber};

/// What a scripted recipient does with every message, whatever the random settings say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    /// `+447700900001`: reported undelivered.
    Undelivered,
    /// `+447700900002`: refused by the provider (`provider_rejected`): `rejected`.
    Rejected,
    /// `+447700900003`: delivered 10 seconds after it was sent.
    Slow,
    /// `+447700900004`: one transient failure, then delivered.
    BusyOnce,
    /// `+447700900005`: never reported; it stays `sent` until it expires.
    Silent,
}

/// How long [`Script::Slow`] takes to be delivered.
pub const SLOW_MS: i64 = 10_000;

impl Script {
    pub const ALL: [(&'static str, Self); 5] = [
        ("+447700900001", Self::Undelivered),
        ("+447700900002", Self::Rejected),
        ("+447700900003", Self::Slow),
        ("+447700900004", Self::BusyOnce),
        ("+447700900005", Self::Silent),
    ];

    /// The script of `recipient`, if it has one.
    pub fn of(recipient: &PhoneNumber) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|(number, _)| *number == recipient.as_str())
            .map(|(_, script)| script)
    }
}

/// The chances of the demo channel's random events for one stream's messages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Odds {
    failure: f64,
    transient: f64,
    reply: f64,
}

impl Odds {
    /// The configured ratios, or none at all for a stream set to predictable outcomes.
    pub fn of(config: &DeliveryConfig, predictable: bool) -> Self {
        if predictable {
            return Self {
                failure: 0.0,
                transient: 0.0,
                reply: 0.0,
            };
        }
        Self {
            failure: config.demo_failure_ratio.clamp(0.0, 1.0),
            transient: config.demo_transient_ratio.clamp(0.0, 1.0),
            reply: config.demo_reply_ratio.clamp(0.0, 1.0),
        }
    }
}

/// A failure worth another attempt later.
#[derive(Debug, Clone)]
pub struct Transient {
    pub code: &'static str,
    pub message: String,
}

/// Hands a queued message to the demo "provider", which accepts it (and reports after
/// `demo_delay_ms`) or, at the odds of a transient failure, is busy. Scripted recipients do
/// what their [`Script`] says.
pub fn send(
    config: &DeliveryConfig,
    odds: Odds,
    message: &Claimed,
    now: i64,
) -> Result<Outcome, Transient> {
    let busy = || Transient {
        code: "provider_busy",
        message: "The demo provider was busy and asked to try again later (simulated).".into(),
    };
    let report_at = match Script::of(&message.recipient) {
        Some(Script::Rejected) => {
            return Ok(Outcome {
                status: MessageStatus::Rejected,
                next_at: None,
                error: Some((
                    "provider_rejected",
                    "The demo provider refused the message (scripted for +447700900002).".into(),
                )),
                attempted: true,
                provider_id: None,
            });
        }
        Some(Script::BusyOnce) if message.attempts == 0 => return Err(busy()),
        Some(Script::Slow) => now + SLOW_MS,
        // Looked at again only to expire.
        Some(Script::Silent) => message.expires_at,
        Some(Script::Undelivered | Script::BusyOnce) => now + delay(config),
        None if rand::thread_rng().gen_bool(odds.transient) => {
            return Err(busy());
        }
        None => now + delay(config),
    };
    Ok(Outcome {
        status: MessageStatus::Sent,
        next_at: Some(report_at),
        error: None,
        attempted: true,
        provider_id: None,
    })
}

fn delay(config: &DeliveryConfig) -> i64 {
    i64::try_from(config.demo_delay_ms).unwrap_or(0)
}

/// The delivery report of a sent message; a silent recipient's message expires instead.
pub fn report(odds: Odds, message: &Claimed) -> Outcome {
    match Script::of(&message.recipient) {
        Some(Script::Undelivered) => {
            return Outcome::report(
                MessageStatus::Undelivered,
                Some("The demo handset is switched off (scripted for +447700900001).".into()),
            );
        }
        // Due only at its expiry: it never heard back.
        Some(Script::Silent) => {
            return Outcome {
                status: MessageStatus::Expired,
                next_at: None,
                error: Some((
                    "expired",
                    "No delivery report came within the validity period (scripted for +447700900005).".into(),
                )),
                attempted: false,
                provider_id: None,
            };
        }
        Some(_) => return Outcome::report(MessageStatus::Delivered, None),
        None => {}
    }
    if rand::thread_rng().gen_bool(odds.failure) {
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
pub async fn maybe_reply(db: &Db, odds: Odds, message: &Claimed) -> Result<(), sqlx::Error> {
    if Script::of(&message.recipient).is_some() {
        return Ok(());
    }
    let reply = {
        let mut rng = rand::thread_rng();
        if !rng.gen_bool(odds.reply) {
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
