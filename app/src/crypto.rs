//! The server's secret key, sealing stored secrets with it, and random tokens.

use std::fmt;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit},
};
use rand::{RngCore, rngs::OsRng};
use sha2::{Digest, Sha256};

const NONCE_LEN: usize = 24;

/// The 256-bit key that encrypts secrets stored in the database.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the secret key must be 64 hexadecimal characters")]
    BadKey,
    #[error("a sealed value could not be opened with this server's secret key")]
    Unseal,
}

impl SecretKey {
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        Self(key)
    }

    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(text.trim()).map_err(|_| CryptoError::BadKey)?;
        bytes.try_into().map(Self).map_err(|_| CryptoError::BadKey)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Encrypts `plaintext` into printable text that only this key opens.
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let ciphertext = cipher
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .expect("encrypting in memory cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        URL_SAFE_NO_PAD.encode(sealed)
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(sealed)
            .map_err(|_| CryptoError::Unseal)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Unseal);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map_err(|_| CryptoError::Unseal)
    }
}

impl SecretKey {
    /// A stable secret for `subject` (such as a stream's id) and `purpose`, derived from this
    /// key: shown to customers for their providers' callbacks, never stored.
    pub fn derive(&self, purpose: &str, subject: &str) -> String {
        let mac = hmac_sha256(&self.0, format!("{purpose}\0{subject}").as_bytes());
        URL_SAFE_NO_PAD.encode(&mac[..24])
    }
}

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A random URL-safe token carrying 256 bits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A Standard Webhooks signing secret: `whsec_` and 24 random bytes in base64.
pub fn webhook_secret() -> String {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// `length` random decimal digits, for one-time passwords.
pub fn random_digits(length: usize) -> String {
    use rand::Rng;
    let mut rng = OsRng;
    (0..length)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

/// The hex SHA-256 of `text`: how tokens are looked up without being stored.
pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"whatsapp access token");
        assert_eq!(key.open(&sealed).unwrap(), b"whatsapp access token");
        assert!(SecretKey::generate().open(&sealed).is_err());
        assert!(key.open("garbage").is_err());
    }

    #[test]
    fn sealing_twice_gives_different_text() {
        let key = SecretKey::generate();
        assert_ne!(key.seal(b"x"), key.seal(b"x"));
    }

    #[test]
    fn keys_round_trip_through_hex_and_reject_bad_text() {
        let key = SecretKey::generate();
        assert_eq!(SecretKey::from_hex(&key.to_hex()).unwrap().0, key.0);
        assert!(SecretKey::from_hex("abcd").is_err());
        assert!(SecretKey::from_hex(&"z".repeat(64)).is_err());
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
    }

    #[test]
    fn tokens_are_long_and_distinct() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        let digits = random_digits(8);
        assert!(digits.len() == 8 && digits.chars().all(|c| c.is_ascii_digit()));
        assert!(constant_time_eq(b"12345", b"12345"));
        assert!(!constant_time_eq(b"12345", b"12346") && !constant_time_eq(b"1234", b"12345"));
        let secret = webhook_secret();
        assert!(secret.starts_with("whsec_"));
        assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 24);
    }
}
