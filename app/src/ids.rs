//! Typed ids: each kind of record has its own id type, so that a stream's id cannot be passed
//! where an account's is expected. On the wire and in the database each is text: a prefix and
//! random hex (`acc_…`, `str_…`), and for messages a UUID, as the API's `message_uuid`.

use std::{fmt, ops::Deref};

use serde::{Deserialize, Serialize};

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $prefix:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(String);

        impl $name {
            /// What ids of this kind start with (empty: a UUID).
            pub const PREFIX: &'static str = $prefix;

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }
    };
}

typed_id!(
    /// An account's id: `acc_…`.
    AccountId,
    "acc"
);
typed_id!(
    /// A stream's id: `str_…`.
    StreamId,
    "str"
);
typed_id!(
    /// A message's id: a time-ordered UUID, the API's `message_uuid`.
    MessageId,
    ""
);
typed_id!(
    /// An embed key's id (not the key itself, which is stored only hashed): `emb_…`.
    EmbedKeyId,
    "emb"
);

/// New ids of the kinds made here: their prefix and random hex. (Message ids are UUIDv7s,
/// made by the engine.)
macro_rules! generated {
    ($($name:ident),*) => {
        $(
            #[cfg(feature = "ssr")]
            impl $name {
                pub fn generate() -> Self {
                    Self(crate::db::new_id(Self::PREFIX))
                }
            }
        )*
    };
}

generated!(AccountId, StreamId, EmbedKeyId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_their_text_on_the_wire() {
        let id = StreamId::from("str_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"str_1\"");
        let back: StreamId = serde_json::from_str("\"str_1\"").unwrap();
        assert_eq!(back, id);
        assert_eq!(id, "str_1");
        assert_eq!(id.to_string(), "str_1");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn generated_ids_carry_their_prefix() {
        assert!(AccountId::generate().starts_with("acc_"));
        assert!(StreamId::generate().starts_with("str_"));
    }
}
