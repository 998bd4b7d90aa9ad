//! Phone numbers as callers write them — `+44 7700 900-123`, `447700900123` (TextPeak's own
//! examples have no `+`), `0044 7700 900123` — stored and compared in E.164 (`+447700900123`).
//!
//! On the server a number is also checked against the numbering plan (libphonenumber's
//! metadata, through the `phonenumber` crate): its country calling code exists and its length
//! is one that country's numbers have. The browser only checks the shape; the server's answer
//! is the one that counts, and the crate's metadata stays out of the wasm bundle.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The most digits E.164 allows, country code included.
const MAX_DIGITS: usize = 15;
/// The fewest digits of a number anyone can dial from abroad (country code included).
const MIN_DIGITS: usize = 7;

/// A phone number in E.164: `+`, then 7 to 15 digits, the first not 0.
/// Read back from the database as stored: numbers are checked on their way in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "ssr", derive(sqlx::Type), sqlx(transparent))]
pub struct PhoneNumber(String);

/// Why a text is not a phone number; its message names the text and what would work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a phone number in international format, such as +447700900123{why}.")]
pub struct NotAPhoneNumber {
    text: String,
    why: &'static str,
}

impl PhoneNumber {
    /// Reads a number written in international format, with or without its `+` or with a
    /// `00` prefix, spaces, dashes, dots and parentheses allowed between its digits.
    pub fn parse(text: &str) -> Result<Self, NotAPhoneNumber> {
        let refused = |why| NotAPhoneNumber {
            text: text.trim().chars().take(40).collect(),
            why,
        };
        let compact: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.' | '/' | '\u{a0}'))
            .collect();
        let digits = match compact.strip_prefix('+') {
            Some(digits) => digits,
            None => compact.strip_prefix("00").unwrap_or(&compact),
        };
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused(""));
        }
        if digits.starts_with('0') {
            return Err(refused("; no country code starts with 0"));
        }
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits.len()) {
            return Err(refused("; such numbers have 7 to 15 digits"));
        }
        #[cfg(feature = "ssr")]
        plan::check(digits).map_err(refused)?;
        Ok(Self(format!("+{digits}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The digits without the `+`, as many providers write them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = NotAPhoneNumber;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<PhoneNumber> for String {
    fn from(number: PhoneNumber) -> Self {
        number.0
    }
}

/// Reads the numbering plan now (a tenth of a second in a release build), so that the first
/// request that checks a number does not wait for it.
#[cfg(feature = "ssr")]
pub fn load_numbering_plan() {
    std::sync::LazyLock::force(&plan::LENGTHS);
}

/// The numbering plan: country calling codes and the lengths of their national numbers.
#[cfg(feature = "ssr")]
mod plan {
    use std::{
        collections::{BTreeSet, HashMap},
        sync::LazyLock,
    };

    use phonenumber::metadata::DATABASE;

    /// For each country calling code, every length its national numbers may have: the union
    /// over its regions and their kinds of number (the metadata leaves the general one empty).
    pub(super) static LENGTHS: LazyLock<HashMap<u16, BTreeSet<u16>>> = LazyLock::new(|| {
        let mut lengths: HashMap<u16, BTreeSet<u16>> = HashMap::new();
        for meta in DATABASE.iter() {
            let kinds = meta.descriptors();
            let found = lengths.entry(meta.country_code()).or_default();
            for kind in [
                kinds.fixed_line(),
                kinds.mobile(),
                kinds.toll_free(),
                kinds.premium_rate(),
                kinds.shared_cost(),
                kinds.personal_number(),
                kinds.voip(),
                kinds.pager(),
                kinds.uan(),
                kinds.voicemail(),
                kinds.no_international(),
            ]
            .into_iter()
            .flatten()
            {
                found.extend(kind.possible_length());
            }
        }
        lengths
    });

    /// Checks E.164 `digits` (no `+`): a country calling code, then a national number of a
    /// length that country uses. Calling codes are prefix-free, so at most one matches.
    pub(super) fn check(digits: &str) -> Result<(), &'static str> {
        let (code, national) = (1..=3)
            .filter_map(|n| {
                let code: u16 = digits.get(..n)?.parse().ok()?;
                LENGTHS.get(&code).map(|lengths| (lengths, &digits[n..]))
            })
            .next()
            .map(|(lengths, national)| (lengths, national.len()))
            .ok_or("; its country code is not one in use")?;
        let national = u16::try_from(national).unwrap_or(u16::MAX);
        if code.contains(&national) {
            Ok(())
        } else {
            Err("; it is too short or too long for its country")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_callers_write_is_stored_in_e164() {
        for text in [
            "+447700900123",
            " +44 7700 900-123 ",
            "447700900123",
            "00447700900123",
            "+44 (7700) 900.123",
        ] {
            assert_eq!(
                PhoneNumber::parse(text).unwrap().as_str(),
                "+447700900123",
                "{text}"
            );
        }
        // TextPeak's own example: an Israeli mobile without its `+`.
        assert_eq!(
            PhoneNumber::parse("972524265292").unwrap().as_str(),
            "+972524265292"
        );
        assert_eq!(
            PhoneNumber::parse("+1 (415) 555-0100").unwrap().digits(),
            "14155550100"
        );
    }

    #[test]
    fn what_is_not_a_number_is_refused() {
        for bad in [
            "",
            "+",
            "+0447700900123",
            "0447700900123",
            "+4477",
            "+44770090012345678",
            "+44abc00000",
            "+44 7700 900123 ext 5",
            "++447700900123",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad}");
        }
        let error = PhoneNumber::parse("44abc").unwrap_err().to_string();
        assert!(error.contains("`44abc`"), "{error}");
        assert!(error.contains("+447700900123"), "{error}");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_numbering_plan_decides_codes_and_lengths() {
        // +999 is no country's code; +44 numbers have 9 or 10 digits after it, not 12.
        assert!(PhoneNumber::parse("+9991234567").is_err());
        assert!(PhoneNumber::parse("+44770090012345").is_err());
        // A short national number that is real: Saint Helena's five digits.
        assert!(PhoneNumber::parse("+29022345").is_ok());
        // US numbers have ten digits after +1.
        assert!(PhoneNumber::parse("+1415555010").is_err());
        assert!(PhoneNumber::parse("+14155550100").is_ok());
    }

    #[test]
    fn serde_reads_and_checks() {
        let number: PhoneNumber = serde_json::from_str("\"447700900123\"").unwrap();
        assert_eq!(serde_json::to_string(&number).unwrap(), "\"+447700900123\"");
        assert!(serde_json::from_str::<PhoneNumber>("\"+0\"").is_err());
    }
}
