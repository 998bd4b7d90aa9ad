//! Deliveries of events (inbound messages, tests) to streams' webhooks, as the console shows
//! them: each event with its attempts.

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

/// Where an event is in its delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// The endpoint answered 2xx.
    Delivered,
    /// Given up: attempts spent, or the endpoint answered 410 Gone.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Delivered => "Delivered",
            Self::Failed => "Failed",
        }
    }
}

/// One HTTP try of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub at: i64,
    /// The endpoint's HTTP status; `None` when no answer came (timeout, refused, blocked).
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    /// The start of the endpoint's answer.
    pub response: Option<String>,
    pub error: Option<String>,
}

/// One event sent (or to be sent) to a stream's webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Also the `webhook-id` header, the same on every attempt.
    pub id: String,
    pub event: String,
    pub status: DeliveryStatus,
    pub next_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub attempts: Vec<Attempt>,
}

/// The longest stored excerpt of an endpoint's answer, in characters.
pub const RESPONSE_EXCERPT: usize = 500;
