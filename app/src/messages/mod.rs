//! Messages: what the API accepts, workers deliver and the console lists.

pub mod api;
mod encoding;
pub mod inbox;
#[cfg(feature = "ssr")]
pub mod queries;
mod retention;

use serde::{Deserialize, Serialize};

pub use self::{
    encoding::{Encoding, TextSize, decode_gsm7, measure},
    retention::Retention,
};

/// Where a message is in its life. Statuses only move forward: see [`MessageStatus::rank`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Queued,
    Sent,
    Delivered,
    Undelivered,
    SentFailed,
    Rejected,
    NoRoutes,
    Expired,
    /// An inbound message, stored as it arrived.
    Received,
}

impl MessageStatus {
    pub const ALL: [Self; 9] = [
        Self::Queued,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::SentFailed,
        Self::Rejected,
        Self::NoRoutes,
        Self::Expired,
        Self::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::SentFailed => "sent_failed",
            Self::Rejected => "rejected",
            Self::NoRoutes => "no_routes",
            Self::Expired => "expired",
            Self::Received => "received",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// 0 waiting, 1 handed to the channel, 2 final. A message moves only to a higher rank.
    pub fn rank(self) -> u8 {
        match self {
            Self::Queued => 0,
            Self::Sent => 1,
            _ => 2,
        }
    }

    /// The statuses a message may be in to move to `self`.
    pub fn predecessors(self) -> Vec<Self> {
        Self::ALL
            .into_iter()
            .filter(|from| from.rank() < self.rank() && *from != Self::Received)
            .collect()
    }
}

/// The Messages page's filters and page, as held in the URL query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFilter {
    /// A stream id, or empty for all.
    pub stream: String,
    pub status: Option<MessageStatus>,
    /// `outbound`, `inbound` or empty.
    pub direction: String,
    /// Part of a phone number, matched against sender and recipient.
    pub phone: String,
    /// `YYYY-MM-DD` (UTC), inclusive; empty for no bound.
    pub from: String,
    pub to: String,
    pub page: u32,
    pub per_page: u32,
}

impl Default for MessageFilter {
    fn default() -> Self {
        Self {
            stream: String::new(),
            status: None,
            direction: String::new(),
            phone: String::new(),
            from: String::new(),
            to: String::new(),
            page: 1,
            per_page: 50,
        }
    }
}

/// One line of the Messages page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRow {
    pub id: String,
    pub stream_id: String,
    pub stream_name: String,
    pub internal_id: Option<String>,
    pub direction: String,
    pub sender: Option<String>,
    pub recipient: String,
    /// Empty once redacted (`redacted`).
    pub content: String,
    /// The text was removed by the server's retention settings.
    #[serde(default)]
    pub redacted: bool,
    pub encoding: String,
    pub segments: i64,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub total: i64,
    pub messages: Vec<MessageRow>,
    /// How long this server keeps messages, for the page's note.
    #[serde(default)]
    pub retention: Retention,
}

/// Outbound messages by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub in_flight: i64,
}

impl Counts {
    /// Counts `n` outbound messages in `status`; inbound ones are not counted.
    pub fn add(&mut self, status: MessageStatus, n: i64) {
        match status {
            MessageStatus::Received => return,
            MessageStatus::Delivered => self.delivered += n,
            MessageStatus::Queued | MessageStatus::Sent => self.in_flight += n,
            _ => self.failed += n,
        }
        self.sent += n;
    }
}

/// A stream's activity for its Info tab.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamStats {
    pub last_24h: Counts,
    pub last_7d: Counts,
    /// The last seven days, oldest first: (midnight UTC in ms, counts).
    pub days: Vec<(i64, Counts)>,
    /// Numbers that replied STOP (or the like) and have not replied START since, newest first,
    /// with when (ms); at most [`OPT_OUTS_SHOWN`].
    #[serde(default)]
    pub opt_outs: Vec<(String, i64)>,
    /// How many numbers are opted out in all.
    #[serde(default)]
    pub opt_out_count: i64,
}

/// How many opted-out numbers the Info tab lists.
pub const OPT_OUTS_SHOWN: i64 = 50;

/// One stream's activity over the last minute, as the Realtime page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveStream {
    pub id: String,
    pub name: String,
    /// The stream's status as the table shows it (`sending` while messages are in flight).
    pub status: String,
    pub tags: Vec<String>,
    /// Outbound messages accepted in the last minute.
    pub per_minute: i64,
    pub delivered: i64,
    pub failed: i64,
    pub in_flight: i64,
}

/// Every finished stream of the account at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSnapshot {
    pub at: i64,
    pub streams: Vec<LiveStream>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        assert_eq!(
            MessageStatus::Sent.predecessors(),
            vec![MessageStatus::Queued]
        );
        assert_eq!(
            MessageStatus::Delivered.predecessors(),
            vec![MessageStatus::Queued, MessageStatus::Sent]
        );
        assert!(MessageStatus::Queued.predecessors().is_empty());
        for status in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(status.as_str()), Some(status));
        }
    }
}
