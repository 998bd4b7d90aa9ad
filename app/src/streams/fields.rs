//! Validated stream fields: each parses once at the edge and is trusted afterwards.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A field-level validation failure, with the field it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

/// A stream's name: 1 to 100 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamName(String);

impl StreamName {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let name = text.trim();
        match name.chars().count() {
            0 => Err(FieldError::new(
                "name",
                "name_required",
                "Enter a name for the stream.",
            )),
            1..=100 if !name.chars().any(char::is_control) => Ok(Self(name.to_string())),
            _ => Err(FieldError::new(
                "name",
                "invalid_name",
                "Use at most 100 characters, without line breaks.",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stream's description: at most 500 characters.
pub fn parse_description(text: &str) -> Result<String, FieldError> {
    let description = text.trim();
    if description.chars().count() > 500 {
        return Err(FieldError::new(
            "description",
            "invalid_description",
            "Use at most 500 characters.",
        ));
    }
    Ok(description.to_string())
}

/// A tag: 1 to 32 characters, no commas (the CLI and filters separate tags with them).
pub fn parse_tag(text: &str) -> Result<String, FieldError> {
    let tag = text.trim();
    let length = tag.chars().count();
    if (1..=32).contains(&length) && !tag.contains(',') && !tag.chars().any(char::is_control) {
        Ok(tag.to_string())
    } else {
        Err(FieldError::new(
            "tags",
            "invalid_tag",
            format!("`{tag}` is not a valid tag: use 1 to 32 characters and no commas."),
        ))
    }
}

/// A destination country, by its E.164 calling code (`+44`, `+1`, or a finer prefix such as
/// `+1876`): a `+` and 1 to 6 digits; the `+` may be left out.
pub fn parse_country(text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    let digits = text.strip_prefix('+').unwrap_or(text);
    if (1..=6).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0')
    {
        Ok(format!("+{digits}"))
    } else {
        Err(FieldError::new(
            "allowed_countries",
            "invalid_country",
            format!("`{text}` is not a calling code: write + and its digits, such as +44 or +1."),
        ))
    }
}

/// Whether `recipient` (E.164) is in one of `countries` (calling-code prefixes); an empty list
/// allows every country.
pub fn in_countries(countries: &[String], recipient: &str) -> bool {
    countries.is_empty()
        || countries
            .iter()
            .any(|prefix| recipient.starts_with(prefix.as_str()))
}

/// An IP ACL entry: one address or a network, normalised (`10.1.2.3/8` → `10.0.0.0/8`,
/// a bare address → `/32` or `/128`).
pub fn parse_cidr(text: &str) -> Result<IpNet, FieldError> {
    let text = text.trim();
    let invalid = || {
        FieldError::new(
            "allowed_ips",
            "invalid_ip",
            format!("`{text}` is not an IPv4 or IPv6 address or CIDR range."),
        )
    };
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(crate::egress::canonical(ip)));
    }
    let net = text.parse::<IpNet>().map_err(|_| invalid())?.trunc();
    // An IPv4-mapped range is the IPv4 range it maps: clients are compared as IPv4.
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => Ok(IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96)
                .map_err(|_| invalid())?
                .trunc()),
            None => Ok(net),
        },
        net => Ok(net),
    }
}

/// A sender ID: alphanumeric of 1 to 11 characters (with at least one letter), or a number of
/// up to 15 digits, optionally with a leading `+`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SenderId(String);

impl SenderId {
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let value = text.trim();
        let digits = value.strip_prefix('+').unwrap_or(value);
        let numeric =
            !digits.is_empty() && digits.len() <= 15 && digits.chars().all(|c| c.is_ascii_digit());
        let alphanumeric = (1..=11).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-' || c == '.')
            && value.chars().any(|c| c.is_ascii_alphabetic())
            && !value.starts_with(' ')
            && !value.ends_with(' ');
        if numeric || alphanumeric {
            Ok(Self(value.to_string()))
        } else {
            Err(FieldError::new(
                "sender",
                "invalid_sender_id",
                "A sender ID is 1 to 11 letters and digits (with at least one letter) or a number of up to 15 digits.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required_and_bounded() {
        assert_eq!(
            StreamName::parse("  Login codes ").unwrap().as_str(),
            "Login codes"
        );
        assert_eq!(StreamName::parse(" ").unwrap_err().code, "name_required");
        assert_eq!(
            StreamName::parse(&"x".repeat(101)).unwrap_err().code,
            "invalid_name"
        );
        assert!(StreamName::parse("a\nb").is_err());
    }

    #[test]
    fn ip_entries_are_validated_and_normalised() {
        assert_eq!(
            parse_cidr("203.0.113.7").unwrap().to_string(),
            "203.0.113.7/32"
        );
        assert_eq!(parse_cidr("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            parse_cidr("::ffff:203.0.113.7").unwrap().to_string(),
            "203.0.113.7/32"
        );
        assert_eq!(
            parse_cidr("::ffff:10.1.0.0/112").unwrap().to_string(),
            "10.1.0.0/16"
        );
        assert_eq!(
            parse_cidr("2001:db8::1").unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert_eq!(
            parse_cidr(" 2001:db8:0:0::/32 ").unwrap().to_string(),
            "2001:db8::/32"
        );
        for bad in ["", "10.0.0.256", "10.0.0.0/33", "example.com", "::g"] {
            assert_eq!(parse_cidr(bad).unwrap_err().code, "invalid_ip", "{bad}");
        }
    }

    #[test]
    fn sender_ids_are_short_names_or_long_numbers() {
        for good in [
            "Acme",
            "ACME-Shop",
            "A1",
            "12345678901",
            "+447700900123",
            "123456789012345",
        ] {
            assert!(SenderId::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "TwelveChars1",
            "1234567890123456",
            "Acme!",
            " ",
            "+",
            "+12ab",
        ] {
            assert!(SenderId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn countries_are_calling_codes() {
        assert_eq!(parse_country(" +44 ").unwrap(), "+44");
        assert_eq!(parse_country("1").unwrap(), "+1");
        assert_eq!(parse_country("+1876").unwrap(), "+1876");
        for bad in ["", "+", "UK", "+44a", "+0", "+1234567"] {
            assert_eq!(
                parse_country(bad).unwrap_err().code,
                "invalid_country",
                "{bad}"
            );
        }
        let uk_us = ["+44".to_string(), "+1".to_string()];
        assert!(in_countries(&uk_us, "+447700900123"));
        assert!(in_countries(&uk_us, "+12025550123"));
        assert!(!in_countries(&uk_us, "+33612345678"));
        assert!(in_countries(&[], "+33612345678"));
    }

    #[test]
    fn tags_are_short_and_comma_free() {
        assert_eq!(parse_tag(" billing ").unwrap(), "billing");
        assert!(parse_tag("a,b").is_err());
        assert!(parse_tag(&"t".repeat(33)).is_err());
    }
}
