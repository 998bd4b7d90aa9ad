//! How long messages keep their text and how long they are kept at all (`[retention]`), set
//! by the operator for every account; the server's retention pass applies it, the Messages
//! page tells customers.

use serde::{Deserialize, Serialize};

use crate::time::DAY_MS;

/// Days until message bodies are redacted and until messages are deleted; 0 is never.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Retention {
    /// After this many days a message's text (and WhatsApp payload) is removed, and so is the
    /// text in the `message.received` webhook events that carried it. 0: kept.
    pub redact_after_days: u32,
    /// After this many days messages, their history, their OTP codes, webhook deliveries and
    /// unfinished inbound parts are deleted. 0: kept.
    pub delete_after_days: u32,
}

impl Retention {
    /// Rows created before this (ms) have their text redacted at `now`, if any are.
    pub fn redact_before(self, now: i64) -> Option<i64> {
        cutoff(self.redact_after_days, now)
    }

    /// Rows created before this (ms) are deleted at `now`, if any are.
    pub fn delete_before(self, now: i64) -> Option<i64> {
        cutoff(self.delete_after_days, now)
    }

    /// What the Messages page says about it.
    pub fn note(self) -> String {
        let days = |n: u32| {
            if n == 1 {
                "1 day".to_string()
            } else {
                format!("{n} days")
            }
        };
        match (self.redact_after_days, self.delete_after_days) {
            (0, 0) => {
                "This server keeps messages and their text until its operator removes them.".into()
            }
            // Deleted before (or when) its text would be redacted: only the deletion shows.
            (redact, delete) if delete != 0 && (redact == 0 || delete <= redact) => format!(
                "Messages are deleted {} after they were sent or received.",
                days(delete)
            ),
            (redact, 0) => format!(
                "Message text is redacted {} after a message was sent or received; the rest is kept.",
                days(redact)
            ),
            (redact, delete) => format!(
                "Message text is redacted {} after a message was sent or received, and messages are deleted after {}.",
                days(redact),
                days(delete)
            ),
        }
    }
}

fn cutoff(days: u32, now: i64) -> Option<i64> {
    (days > 0).then(|| now - i64::from(days) * DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_are_days_before_now_and_zero_is_never() {
        let now = 100 * DAY_MS;
        let retention = Retention {
            redact_after_days: 30,
            delete_after_days: 0,
        };
        assert_eq!(retention.redact_before(now), Some(70 * DAY_MS));
        assert_eq!(retention.delete_before(now), None);
    }

    #[test]
    fn the_note_says_what_happens() {
        let note = |redact, delete| {
            Retention {
                redact_after_days: redact,
                delete_after_days: delete,
            }
            .note()
        };
        assert!(note(0, 0).contains("keeps messages"));
        assert_eq!(
            note(30, 90),
            "Message text is redacted 30 days after a message was sent or received, and messages are deleted after 90 days."
        );
        assert_eq!(
            note(0, 1),
            "Messages are deleted 1 day after they were sent or received."
        );
        assert_eq!(note(30, 7), note(0, 7));
        assert!(note(14, 0).contains("the rest is kept"));
    }
}
