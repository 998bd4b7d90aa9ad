//! Argon2id password hashing, off the async runtime and a few at a time: each hash holds
//! about 19 MiB, so hundreds of parallel sign-ins wait their turn instead of taking gigabytes.

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};

use std::sync::{LazyLock, OnceLock};

use tokio::sync::Semaphore;

/// Hashes computed at once: one per core.
static TURNS: LazyLock<Semaphore> = LazyLock::new(|| {
    Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
});

/// A hash of a random password nobody has, so unknown emails cost as much as wrong passwords.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let secret = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(secret.as_str().as_bytes(), &salt)
            .expect("hashing a random decoy password")
            .to_string()
    })
}

pub async fn hash(password: String) -> Result<String, argon2::password_hash::Error> {
    let _turn = TURNS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
    })
    .await
    .expect("password hashing task panicked")
}

/// Checks `password` against `hash`; with no hash, spends the same time and answers no.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    let _turn = TURNS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    tokio::task::spawn_blocking(move || {
        let stored = match hash.as_deref() {
            Some(hash) => hash,
            None => decoy_hash(),
        };
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        matches && hash.is_some()
    })
    .await
    .expect("password verification task panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash("correct horse battery".into()).await.unwrap();
        assert!(verify("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify("wrong horse battery".into(), Some(hash)).await);
    }

    #[tokio::test]
    async fn no_hash_never_verifies() {
        assert!(PasswordHash::new(decoy_hash()).is_ok());
        assert!(!verify("anything at all".into(), None).await);
    }
}
