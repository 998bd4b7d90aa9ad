//! The server's secret key, sealing stored secrets with it, and random tokens.

use std::fmt;

use base64::{
    Engine,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
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

    /// Encrypts `plaintext` for `place` into printable text that only this key opens, and
    /// only for that place: a value copied to another row, column or table is refused.
    pub fn seal(&self, plaintext: &[u8], place: Place<'_>) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: place.associated_data().as_bytes(),
                },
            )
            .expect("encrypting in memory cannot fail");
        let mut sealed = nonce.to_vec();
        sealed.extend(ciphertext);
        format!("{BOUND}{}", URL_SAFE_NO_PAD.encode(sealed))
    }

    /// Opens a value sealed for `place`.
    pub fn open(&self, sealed: &str, place: Place<'_>) -> Result<Vec<u8>, CryptoError> {
        let encoded = sealed.strip_prefix(BOUND).ok_or(CryptoError::Unseal)?;
        self.decrypt(encoded, place.associated_data().as_bytes())
    }

    /// Opens a text sealed for `place` (a token, a key, a secret).
    pub fn open_text(&self, sealed: &str, place: Place<'_>) -> Result<String, CryptoError> {
        let opened = self.open(sealed, place)?;
        Ok(String::from_utf8_lossy(&opened).into_owned())
    }

    /// Opens a value sealed before values were bound to their place.
    fn open_unbound(&self, sealed: &str) -> Result<Vec<u8>, CryptoError> {
        self.decrypt(sealed, b"")
    }

    fn decrypt(&self, encoded: &str, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| CryptoError::Unseal)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Unseal);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        XChaCha20Poly1305::new((&self.0).into())
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| CryptoError::Unseal)
    }
}

/// Marks a value sealed for its place.
const BOUND: &str = "b.";

/// Where a sealed value is stored: its table, column and the id of its row.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub table: &'static str,
    pub column: &'static str,
    pub row: &'a str,
}

impl<'a> Place<'a> {
    pub const fn new(table: &'static str, column: &'static str, row: &'a str) -> Self {
        Self { table, column, row }
    }

    fn associated_data(&self) -> String {
        format!("{}\0{}\0{}", self.table, self.column, self.row)
    }
}

/// Every sealed column, with the column that names its row.
const SEALED_COLUMNS: [(&str, &str, &str); 6] = [
    ("streams", "token_sealed", "id"),
    ("streams", "inbound_key_sealed", "id"),
    ("whatsapp_settings", "access_token_sealed", "stream_id"),
    ("whatsapp_settings", "app_secret_sealed", "stream_id"),
    ("webhooks", "secret_sealed", "stream_id"),
    ("connections", "secret_sealed", "id"),
];

/// Seals anew, bound to their place, the values sealed before values were; answers how many.
/// Run at start-up after the migrations: afterwards an unbound value no longer opens.
pub async fn bind_sealed_values(db: &crate::db::Db, key: &SecretKey) -> Result<u64, BindError> {
    let mut bound = 0;
    for (table, column, id_column) in SEALED_COLUMNS {
        let rows: Vec<(String, String)> = sqlx::query_as(&format!(
            "select {id_column}, {column} from {table}
             where {column} is not null and {column} not like 'b.%'"
        ))
        .fetch_all(db.pool())
        .await?;
        for (row, sealed) in rows {
            let plaintext = key.open_unbound(&sealed).map_err(|_| BindError::Unseal {
                table,
                row: row.clone(),
            })?;
            let place = Place {
                table,
                column,
                row: &row,
            };
            sqlx::query(&format!(
                "update {table} set {column} = $1 where {id_column} = $2 and {column} = $3"
            ))
            .bind(key.seal(&plaintext, place))
            .bind(&row)
            .bind(&sealed)
            .execute(db.pool())
            .await?;
            bound += 1;
        }
    }
    Ok(bound)
}

/// Why stored secrets could not be bound to their place.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    #[error(
        "{table} row {row} holds a secret this server's key does not open: is it the key the data was written with?"
    )]
    Unseal { table: &'static str, row: String },
    #[error(transparent)]
    Db(#[from] sqlx::Error),
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

    const HERE: Place<'static> = Place {
        table: "whatsapp_settings",
        column: "access_token_sealed",
        row: "str_1",
    };

    #[test]
    fn sealed_values_open_with_the_same_key_only() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"whatsapp access token", HERE);
        assert_eq!(key.open(&sealed, HERE).unwrap(), b"whatsapp access token");
        assert!(SecretKey::generate().open(&sealed, HERE).is_err());
        assert!(key.open("garbage", HERE).is_err());
    }

    #[test]
    fn a_sealed_value_opens_only_where_it_was_sealed() {
        let key = SecretKey::generate();
        let sealed = key.seal(b"secret", HERE);
        for elsewhere in [
            Place {
                row: "str_2",
                ..HERE
            },
            Place {
                column: "app_secret_sealed",
                ..HERE
            },
            Place {
                table: "connections",
                column: "secret_sealed",
                ..HERE
            },
        ] {
            assert!(key.open(&sealed, elsewhere).is_err(), "{elsewhere:?}");
        }
        // A value from before binding opens only to be bound.
        let unbound = sealed.strip_prefix(BOUND).unwrap();
        assert!(key.open(unbound, HERE).is_err());
    }

    /// A value sealed the way it was before values were bound to their place.
    fn seal_unbound(key: &SecretKey, plaintext: &[u8]) -> String {
        let nonce = [7u8; NONCE_LEN];
        let ciphertext = XChaCha20Poly1305::new((&key.0).into())
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .unwrap();
        URL_SAFE_NO_PAD.encode([nonce.to_vec(), ciphertext].concat())
    }

    #[tokio::test]
    async fn values_from_before_are_bound_to_their_row_once() {
        let folder = std::env::temp_dir().join(format!("sluice-bind-{}", random_token()));
        let db = crate::db::Db::connect(&format!("sqlite://{}/t.db", folder.display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let key = SecretKey::generate();
        sqlx::query("insert into accounts (id, name, created_at) values ('acc_1', 'Acme', 0)")
            .execute(db.pool())
            .await
            .unwrap();
        sqlx::query(
            "insert into connections (id, account_id, name, kind, settings, secret_sealed,
                 is_default, created_at, updated_at)
             values ('conn_1', 'acc_1', 'Provider', 'http', '{}', $1, 1, 0, 0)",
        )
        .bind(seal_unbound(&key, b"sk-live-1"))
        .execute(db.pool())
        .await
        .unwrap();

        assert_eq!(bind_sealed_values(&db, &key).await.unwrap(), 1);
        assert_eq!(bind_sealed_values(&db, &key).await.unwrap(), 0, "only once");
        let sealed: String = sqlx::query_scalar("select secret_sealed from connections")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let place = Place::new("connections", "secret_sealed", "conn_1");
        assert_eq!(key.open(&sealed, place).unwrap(), b"sk-live-1");
        assert!(
            key.open(
                &sealed,
                Place::new("connections", "secret_sealed", "conn_2")
            )
            .is_err()
        );
        // A value the key does not open stops the start with a reason, not a silent loss.
        sqlx::query("update connections set secret_sealed = $1")
            .bind(seal_unbound(&SecretKey::generate(), b"x"))
            .execute(db.pool())
            .await
            .unwrap();
        let error = bind_sealed_values(&db, &key).await.unwrap_err();
        assert!(error.to_string().contains("conn_1"), "{error}");
        db.close().await;
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn sealing_twice_gives_different_text() {
        let key = SecretKey::generate();
        assert_ne!(key.seal(b"x", HERE), key.seal(b"x", HERE));
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
