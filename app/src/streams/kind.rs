use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// What a stream is for; decides its wizard steps, side-panel tabs and API requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamKind {
    SmsMarketing,
    SmsTransactional,
    SmsOtp,
    SmsTwoWay,
    Whatsapp,
}

impl StreamKind {
    pub const ALL: [StreamKind; 5] = [
        Self::SmsMarketing,
        Self::SmsTransactional,
        Self::SmsOtp,
        Self::SmsTwoWay,
        Self::Whatsapp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SmsMarketing => "sms_marketing",
            Self::SmsTransactional => "sms_transactional",
            Self::SmsOtp => "sms_otp",
            Self::SmsTwoWay => "sms_two_way",
            Self::Whatsapp => "whatsapp",
        }
    }

    /// The name the console shows in the Type column.
    pub fn label(self) -> &'static str {
        match self {
            Self::SmsMarketing => "Marketing",
            Self::SmsTransactional => "Transactional",
            Self::SmsOtp => "OTP",
            Self::SmsTwoWay => "Two-way",
            Self::Whatsapp => "WhatsApp",
        }
    }

    /// Whether the stream can answer replies (and so has an incoming-messages webhook).
    pub fn receives_messages(self) -> bool {
        matches!(self, Self::SmsTwoWay | Self::Whatsapp)
    }

    /// Whether the stream sends event templates.
    pub fn has_events(self) -> bool {
        matches!(self, Self::SmsTransactional | Self::SmsOtp)
    }
}

impl fmt::Display for StreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for StreamKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a stream type; use one of sms_marketing, sms_transactional, \
                     sms_otp, sms_two_way, whatsapp"
                )
            })
    }
}

/// Where a stream is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StreamStatus {
    /// The wizard was left before *Create Stream*; only Edit and Delete apply.
    Draft,
    Ready,
    /// Messages are in flight right now.
    Sending,
    /// Paused by the user: the API refuses sends.
    Disabled,
}

impl StreamStatus {
    pub const ALL: [StreamStatus; 4] = [Self::Draft, Self::Ready, Self::Sending, Self::Disabled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Ready => "ready",
            Self::Sending => "sending",
            Self::Disabled => "disabled",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Draft => "Draft",
            Self::Ready => "Ready",
            Self::Sending => "Sending",
            Self::Disabled => "Disabled",
        }
    }
}

impl FromStr for StreamStatus {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not a stream status"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_statuses_round_trip_through_text() {
        for kind in StreamKind::ALL {
            assert_eq!(kind.as_str().parse::<StreamKind>(), Ok(kind));
        }
        for status in StreamStatus::ALL {
            assert_eq!(status.as_str().parse::<StreamStatus>(), Ok(status));
        }
        assert!("sms".parse::<StreamKind>().is_err());
    }
}
