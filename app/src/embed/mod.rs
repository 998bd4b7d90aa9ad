//! Embeddable widgets: a stream's live state framed in its team's own tools, guarded by
//! revocable embed keys. What the browser and the server share: the widgets, the keys as the
//! console shows them, the rules a key's settings obey, and the snapshot a widget renders.

pub mod api;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::{ids::EmbedKeyId, messages::MessageStatus, streams::FieldError};

/// The most origins one key may list.
pub const MAX_ORIGINS: usize = 10;
/// How many recent messages the messages widget shows.
pub const RECENT_MESSAGES: usize = 20;
/// Minutes the stats widget's chart covers, one bar each.
pub const CHART_MINUTES: usize = 60;

/// The widgets a key opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Widget {
    Stats,
    Messages,
    Send,
}

impl Widget {
    pub const ALL: [Self; 3] = [Self::Stats, Self::Messages, Self::Send];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stats => "stats",
            Self::Messages => "messages",
            Self::Send => "send",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.as_str() == text)
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Stats => "Delivery",
            Self::Messages => "Recent messages",
            Self::Send => "Send a test message",
        }
    }
}

/// A widget's look, from its URL: `theme=dark`, `accent=0f766e` (hex, no `#`), `compact=1`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Look {
    pub dark: bool,
    /// Six hex digits, checked: it goes into a style attribute.
    pub accent: Option<String>,
    pub compact: bool,
}

impl Look {
    pub fn parse(theme: Option<&str>, accent: Option<&str>, compact: Option<&str>) -> Self {
        let accent = accent
            .map(|a| a.trim().trim_start_matches('#'))
            .filter(|a| a.len() == 6 && a.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_ascii_lowercase);
        Self {
            dark: theme == Some("dark"),
            accent,
            compact: matches!(compact, Some("1" | "true" | "yes")),
        }
    }

    /// The accent as a CSS colour; Sluice's own when none is given.
    pub fn accent_css(&self) -> String {
        match &self.accent {
            Some(hex) => format!("#{hex}"),
            None => "#4f46e5".into(),
        }
    }
}

/// An origin a key may be framed from: `https://tools.acme.io` or `http://localhost:8080`,
/// nothing after the host and port. Stored and sent in `frame-ancestors` as normalised here.
pub fn parse_origin(text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let refused = || {
        FieldError::new(
            "origins",
            "invalid_origin",
            format!(
                "`{text}` is not an origin: write the site's scheme, host and port only, such as https://tools.example.com."
            ),
        )
    };
    let url = url::Url::parse(text).map_err(|_| refused())?;
    let bare = url.path() == "/"
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
        && !text.trim_end_matches('/').ends_with('?');
    if !matches!(url.scheme(), "https" | "http") || !bare || url.host_str().is_none() {
        return Err(refused());
    }
    // `ascii_serialization` drops default ports and lowercases the host.
    Ok(url.origin().ascii_serialization())
}

/// What the console (or the CLI) asks for when it creates a key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedKeyInput {
    pub name: String,
    /// One origin per entry.
    pub origins: Vec<String>,
    pub can_send: bool,
    pub shows_numbers: bool,
    /// Days until the key stops working; none: until revoked.
    pub expires_in_days: Option<u32>,
}

impl EmbedKeyInput {
    /// The input with its name trimmed and its origins normalised, or the first field wrong.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            return Err(FieldError::new(
                "name",
                "invalid_name",
                "Name the key (1 to 100 characters), such as the tool it goes in.",
            ));
        }
        let mut origins: Vec<String> = Vec::new();
        for origin in self.origins.iter().filter(|o| !o.trim().is_empty()) {
            let origin = parse_origin(origin)?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if origins.is_empty() {
            return Err(FieldError::new(
                "origins",
                "origins_required",
                "List the sites that may show the widget, such as https://tools.example.com.",
            ));
        }
        if origins.len() > MAX_ORIGINS {
            return Err(FieldError::new(
                "origins",
                "too_many_origins",
                format!("A key lists at most {MAX_ORIGINS} origins."),
            ));
        }
        self.origins = origins;
        if self
            .expires_in_days
            .is_some_and(|days| days == 0 || days > 3_650)
        {
            return Err(FieldError::new(
                "expires_in_days",
                "invalid_expiry",
                "A key expires after 1 to 3,650 days, or never.",
            ));
        }
        Ok(self)
    }
}

/// A key as the Embed tab lists it: never the key itself, which is shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmbedKey {
    pub id: EmbedKeyId,
    pub name: String,
    pub origins: Vec<String>,
    pub can_send: bool,
    pub shows_numbers: bool,
    /// The key's first characters.
    pub hint: String,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// A key just made: the key itself (shown once), the stats widget's address and the snippet
/// that shows it on another site.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedKey {
    pub info: EmbedKey,
    pub key: String,
    pub url: String,
    pub snippet: String,
}

/// The address of `widget` for `key` on a server reached at `base` (no trailing slash).
pub fn widget_url(base: &str, widget: Widget, key: &str) -> String {
    format!("{base}/embed/{}?key={key}", widget.as_str())
}

/// What a product team pastes into its page: the loader and one element per widget.
pub fn snippet(base: &str, key: &str, can_send: bool) -> String {
    let mut widgets = vec![Widget::Stats, Widget::Messages];
    if can_send {
        widgets.push(Widget::Send);
    }
    let elements: Vec<String> = widgets
        .into_iter()
        .map(|w| {
            format!(
                r#"<div data-sluice-widget="{}" data-key="{key}"></div>"#,
                w.as_str()
            )
        })
        .collect();
    format!(
        "<script src=\"{base}/embed.js\" async></script>\n{}",
        elements.join("\n")
    )
}

/// Counts of the last hour: what the stats widget shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCounts {
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
    pub in_flight: i64,
}

impl HourCounts {
    /// Delivered out of those that reached a final status, in whole percent.
    pub fn delivery_rate(&self) -> Option<i64> {
        let settled = self.delivered + self.failed;
        (settled > 0).then(|| (self.delivered * 100 + settled / 2) / settled)
    }
}

/// One minute of the chart: messages sent, delivered and failed in it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Minute {
    /// The minute's start (ms).
    pub at: i64,
    pub sent: i64,
    pub delivered: i64,
    pub failed: i64,
}

/// A message as the messages widget lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetMessage {
    pub id: String,
    pub direction: String,
    /// The other party's number, masked unless the key shows numbers.
    pub phone: String,
    pub status: MessageStatus,
    pub created_at: i64,
    /// Each step: status and when (ms).
    pub history: Vec<(MessageStatus, i64)>,
}

/// Everything a widget renders, for the key's stream only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub stream_name: String,
    /// What the send widget's sender falls back to; none when each message names its own.
    pub default_sender: Option<String>,
    pub at: i64,
    pub hour: HourCounts,
    /// The last [`CHART_MINUTES`] minutes, oldest first.
    pub chart: Vec<Minute>,
    /// Newest first.
    pub messages: Vec<WidgetMessage>,
    pub can_send: bool,
}

/// Why a widget shows nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Closed {
    /// No such key, or one for another place: the same answer, so keys cannot be probed.
    NotFound,
    Revoked,
    Expired,
}

impl Closed {
    pub fn message(self) -> &'static str {
        match self {
            Self::NotFound => "This widget does not exist. Check the key in its address.",
            Self::Revoked => "This widget's key was revoked. Ask the stream's owner for a new one.",
            Self::Expired => "This widget's key has expired. Ask the stream's owner for a new one.",
        }
    }
}

/// `+447700900123` as `+•••••••••123`: only the last three digits show.
pub fn mask_phone(phone: &str) -> String {
    let digits = phone.chars().filter(char::is_ascii_digit).count();
    let shown: String = phone
        .chars()
        .filter(char::is_ascii_digit)
        .skip(digits.saturating_sub(3))
        .collect();
    let plus = if phone.starts_with('+') { "+" } else { "" };
    format!("{plus}{}{shown}", "•".repeat(digits.saturating_sub(3)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origin(" https://Tools.Acme.io/ ").unwrap(),
            "https://tools.acme.io"
        );
        assert_eq!(
            parse_origin("http://localhost:8080").unwrap(),
            "http://localhost:8080"
        );
        assert_eq!(
            parse_origin("https://acme.io:443").unwrap(),
            "https://acme.io"
        );
        for bad in [
            "tools.acme.io",
            "https://acme.io/admin",
            "https://acme.io?x=1",
            "https://user@acme.io",
            "javascript:alert(1)",
            "https://acme.io; script-src *",
            "*",
            "'self'",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_names_itself_and_lists_one_to_ten_origins() {
        let input = EmbedKeyInput {
            name: " Support tool ".into(),
            origins: vec![
                "https://tools.acme.io".into(),
                "https://tools.acme.io/".into(),
                " ".into(),
            ],
            ..EmbedKeyInput::default()
        };
        let valid = input.clone().validate().unwrap();
        assert_eq!(valid.name, "Support tool");
        assert_eq!(valid.origins, ["https://tools.acme.io"]);
        let none = EmbedKeyInput {
            origins: vec![],
            ..input.clone()
        };
        assert_eq!(none.validate().unwrap_err().code, "origins_required");
        let many = EmbedKeyInput {
            origins: (0..11).map(|n| format!("https://t{n}.acme.io")).collect(),
            ..input.clone()
        };
        assert_eq!(many.validate().unwrap_err().code, "too_many_origins");
        let forever = EmbedKeyInput {
            expires_in_days: Some(0),
            ..input
        };
        assert_eq!(forever.validate().unwrap_err().code, "invalid_expiry");
    }

    #[test]
    fn looks_come_from_the_url_and_accents_are_hex_only() {
        let look = Look::parse(Some("dark"), Some("#0F766E"), Some("1"));
        assert!(look.dark && look.compact);
        assert_eq!(look.accent_css(), "#0f766e");
        let hostile = Look::parse(None, Some("red;background:url(x)"), None);
        assert_eq!(hostile.accent, None);
        assert_eq!(hostile.accent_css(), "#4f46e5");
    }

    #[test]
    fn phones_show_their_country_and_last_digits() {
        assert_eq!(mask_phone("+447700900123"), "+•••••••••123");
        assert_eq!(mask_phone("12"), "12");
    }

    #[test]
    fn the_delivery_rate_counts_settled_messages() {
        let hour = HourCounts {
            sent: 10,
            delivered: 2,
            failed: 1,
            in_flight: 7,
        };
        assert_eq!(hour.delivery_rate(), Some(67));
        assert_eq!(HourCounts::default().delivery_rate(), None);
    }

    #[test]
    fn the_snippet_loads_the_script_and_each_widget_the_key_opens() {
        let text = snippet("https://sluice.acme.io", "ek_1", false);
        assert!(
            text.starts_with("<script src=\"https://sluice.acme.io/embed.js\" async></script>")
        );
        assert!(text.contains(r#"data-sluice-widget="stats" data-key="ek_1""#));
        assert!(!text.contains("\"send\""));
        assert!(snippet("https://s", "k", true).contains(r#"data-sluice-widget="send""#));
    }
}
