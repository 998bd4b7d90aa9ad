//! How an SMS text is encoded and how many parts it takes: GSM-7 when every character is in the
//! GSM 03.38 alphabet (160 septets in one part, 153 per part when split), else UCS-2 (70 UTF-16
//! units in one part, 67 per part when split).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gsm7 => "GSM-7",
            Self::Ucs2 => "UCS-2",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "GSM-7" => Some(Self::Gsm7),
            "UCS-2" => Some(Self::Ucs2),
            _ => None,
        }
    }
}

/// The GSM 03.38 default alphabet: one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The extension table: an escape septet and one more, two septets each.
const GSM_EXTENDED: &str = "\u{c}^{}\\[~]|€";

/// The extension table's codes, after the escape septet 0x1B, in [`GSM_EXTENDED`]'s order.
const GSM_EXTENDED_CODES: [u8; 10] = [0x0A, 0x14, 0x28, 0x29, 0x2F, 0x3C, 0x3D, 0x3E, 0x40, 0x65];

/// Text from GSM 03.38 septets, one per byte (SMPP's data_coding 0, unpacked).
pub fn decode_gsm7(septets: &[u8]) -> String {
    let mut text = String::with_capacity(septets.len());
    let mut bytes = septets.iter();
    while let Some(&septet) = bytes.next() {
        if septet == 0x1B {
            let Some(&code) = bytes.next() else { break };
            let extended = GSM_EXTENDED_CODES
                .iter()
                .position(|&c| c == code)
                .and_then(|n| GSM_EXTENDED.chars().nth(n));
            text.push(extended.unwrap_or(' '));
        } else {
            // GSM_BASIC leaves out the escape, 0x1B.
            let index = match septet & 0x7F {
                code @ 0..0x1B => code,
                code => code - 1,
            };
            text.extend(GSM_BASIC.chars().nth(usize::from(index)));
        }
    }
    text
}

/// A text's encoding and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextSize {
    pub encoding: Encoding,
    /// Septets for GSM-7, UTF-16 code units for UCS-2.
    pub units: usize,
    pub segments: usize,
}

/// Measures `text` as an SMS.
pub fn measure(text: &str) -> TextSize {
    let septets = text.chars().try_fold(0usize, |count, c| {
        if GSM_BASIC.contains(c) {
            Some(count + 1)
        } else if GSM_EXTENDED.contains(c) {
            Some(count + 2)
        } else {
            None
        }
    });
    let (encoding, units, single, part) = match septets {
        Some(septets) => (Encoding::Gsm7, septets, 160, 153),
        None => (Encoding::Ucs2, text.encode_utf16().count(), 70, 67),
    };
    let segments = match units {
        0 => 1,
        n if n <= single => 1,
        n => n.div_ceil(part),
    };
    TextSize {
        encoding,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn septets_decode_with_the_extension_table() {
        assert_eq!(
            GSM_BASIC.chars().count(),
            127,
            "128 septets less the escape"
        );
        assert_eq!(decode_gsm7(b"Hello 123"), "Hello 123");
        assert_eq!(
            decode_gsm7(&[0x00, 0x02, 0x1B, 0x65, 0x11, 0x1C, 0x7F]),
            "@$€_Æà"
        );
    }

    #[test]
    fn plain_latin_text_is_gsm7() {
        let size = measure("Hello from Sluice! Your code is 12345.");
        assert_eq!(size.encoding, Encoding::Gsm7);
        assert_eq!(size.segments, 1);
        assert_eq!(measure(&"a".repeat(160)).segments, 1);
        assert_eq!(measure(&"a".repeat(161)).segments, 2);
        assert_eq!(measure(&"a".repeat(306)).segments, 2);
        assert_eq!(measure(&"a".repeat(307)).segments, 3);
    }

    #[test]
    fn extension_characters_take_two_septets() {
        let size = measure("Price: 5€ [sale]");
        assert_eq!(size.encoding, Encoding::Gsm7);
        assert_eq!(size.units, 19);
        assert_eq!(measure(&"€".repeat(80)).segments, 1);
        assert_eq!(measure(&"€".repeat(81)).segments, 2);
    }

    #[test]
    fn anything_else_is_ucs2_in_utf16_units() {
        let size = measure("Привет");
        assert_eq!(
            (size.encoding, size.units, size.segments),
            (Encoding::Ucs2, 6, 1)
        );
        assert_eq!(measure(&"é".repeat(200)).encoding, Encoding::Gsm7);
        assert_eq!(measure(&"ç".repeat(70)).segments, 1);
        assert_eq!(measure(&"ç".repeat(71)).segments, 2);
        assert_eq!(measure(&"ç".repeat(134)).segments, 2);
        assert_eq!(measure(&"ç".repeat(135)).segments, 3);
        // An emoji is two UTF-16 units.
        assert_eq!(measure("👍").units, 2);
    }
}
