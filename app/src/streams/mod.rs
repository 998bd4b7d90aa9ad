//! Streams: the typed API routes customers create in the console and send through.

pub mod access;
pub mod api;
mod fields;
mod kind;
mod requests;
pub mod settings;
pub mod settings_api;
#[cfg(feature = "ssr")]
pub mod settings_store;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::ids::StreamId;

pub use self::{
    fields::{
        FieldError, SenderId, StreamName, in_countries, parse_cidr, parse_country,
        parse_description, parse_tag,
    },
    kind::{StreamKind, StreamStatus},
    requests::{RequestPreview, request_previews},
};

/// A stream as the console lists and shows it (never with its token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stream {
    pub id: StreamId,
    pub name: String,
    pub description: String,
    pub kind: StreamKind,
    pub status: StreamStatus,
    pub restricted: bool,
    pub demo: bool,
    /// On a demo stream: every message is delivered and nobody replies (scripted numbers
    /// aside); `false`: some fail and some get replies, at the `[delivery]` demo ratios.
    #[serde(default)]
    pub demo_predictable: bool,
    pub ip_acl_enabled: bool,
    pub allowed_ips: Vec<String>,
    pub tags: Vec<String>,
    /// `None` means "Customized": the sender is chosen in each request.
    pub default_sender: Option<String>,
    /// At most this many messages a second go to the channel; `None` is no limit.
    pub max_rate: Option<u32>,
    /// The upstream connection its SMS go through; `None`: the account's default.
    #[serde(default)]
    pub connection_id: Option<String>,
    /// The calling codes it sends to (`+44`); empty: every country.
    #[serde(default)]
    pub allowed_countries: Vec<String>,
    pub wizard_step: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_activity_at: Option<i64>,
}

/// What the wizard's Details step (and the CLI) supply for a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInput {
    pub name: String,
    pub description: String,
    pub demo: bool,
    /// See [`Stream::demo_predictable`].
    #[serde(default)]
    pub demo_predictable: bool,
    pub ip_acl_enabled: bool,
    pub allowed_ips: Vec<String>,
    pub tags: Vec<String>,
    pub default_sender: Option<String>,
    /// Messages per second, 1 to [`MAX_RATE`]; `None` is no limit.
    #[serde(default)]
    pub max_rate: Option<u32>,
    /// The calling codes it may send to (`+44`); empty: every country.
    #[serde(default)]
    pub allowed_countries: Vec<String>,
}

/// The most destination countries a stream lists.
pub const MAX_COUNTRIES: usize = 50;

/// The highest throughput limit a stream may set, in messages per second.
pub const MAX_RATE: u32 = 10_000;

/// The streams table's filters and page, as held in the URL query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamFilter {
    pub name: String,
    pub status: Option<StreamStatus>,
    pub tag: String,
    pub page: u32,
    pub per_page: u32,
}

impl Default for StreamFilter {
    fn default() -> Self {
        Self {
            name: String::new(),
            status: None,
            tag: String::new(),
            page: 1,
            per_page: 20,
        }
    }
}

/// Page sizes the table offers.
pub const PAGE_SIZES: [u32; 4] = [10, 20, 50, 100];

/// One page of streams and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamPage {
    pub total: i64,
    pub streams: Vec<Stream>,
}
