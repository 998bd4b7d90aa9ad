//! The ways a message leaves Sluice, or came in.

/// A message's channel, stored as text in `messages.channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Nothing leaves the machine: delivery is simulated.
    Demo,
    /// An HTTP SMS provider's API.
    Http,
    /// An SMSC, over SMPP.
    Smpp,
    /// Meta's WhatsApp Cloud API.
    Whatsapp,
}

impl Channel {
    pub const ALL: [Self; 4] = [Self::Demo, Self::Http, Self::Smpp, Self::Whatsapp];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Demo => "demo",
            Self::Http => "http",
            Self::Smpp => "smpp",
            Self::Whatsapp => "whatsapp",
        }
    }

    /// The channel stored as `text`; `None` for one this server does not have.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|channel| channel.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_reads_back_from_its_text() {
        for channel in Channel::ALL {
            assert_eq!(Channel::parse(channel.as_str()), Some(channel));
        }
        assert_eq!(Channel::parse("carrier-pigeon"), None);
    }
}
