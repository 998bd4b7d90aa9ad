//! Accounts, users, sessions and sign-in throttling in the database.

use sqlx::Row;

use super::{AuthError, CurrentUser, Member, password};
use crate::{
    crypto::{random_token, sha256_hex},
    db::{Db, is_unique_violation, new_id, now_ms},
};

/// How long a console session lasts.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// The window over which failed sign-ins are counted.
const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed sign-ins allowed per email, and per client address, within the window.
const MAX_FAILURES_PER_EMAIL: i64 = 5;
const MAX_FAILURES_PER_IP: i64 = 30;

/// A lowercase, trimmed email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let email = text.trim().to_lowercase();
        let valid = email.len() <= 254
            && email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            })
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        valid.then_some(Self(email)).ok_or(AuthError::InvalidEmail)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password of acceptable length (counted in characters).
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let length = text.chars().count();
        (10..=128)
            .contains(&length)
            .then(|| Self(text.to_string()))
            .ok_or(AuthError::WeakPassword)
    }
}

/// The name of a customer's account (company or team).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountName(String);

impl AccountName {
    pub fn parse(text: &str) -> Result<Self, AuthError> {
        let name = text.trim();
        let length = name.chars().count();
        ((1..=80).contains(&length) && !name.chars().any(char::is_control))
            .then(|| Self(name.to_string()))
            .ok_or(AuthError::InvalidAccountName)
    }

    /// A name for accounts created without one: the email's domain.
    pub fn from_email(email: &Email) -> Self {
        let domain = email.as_str().split_once('@').map_or("", |(_, d)| d);
        Self(domain.chars().take(80).collect())
    }
}

/// A validated sign-up form.
pub struct SignUp {
    pub account_name: AccountName,
    pub email: Email,
    pub password: Password,
}

impl SignUp {
    pub fn parse(account_name: &str, email: &str, password: &str) -> Result<Self, AuthError> {
        let email = Email::parse(email)?;
        let password = Password::parse(password)?;
        let account_name = if account_name.trim().is_empty() {
            AccountName::from_email(&email)
        } else {
            AccountName::parse(account_name)?
        };
        Ok(Self {
            account_name,
            email,
            password,
        })
    }
}

fn internal(error: impl std::fmt::Display) -> AuthError {
    tracing::error!(%error, "account storage failed");
    AuthError::Internal
}

/// Creates an account and its owner in one transaction.
pub async fn sign_up(db: &Db, form: SignUp) -> Result<CurrentUser, AuthError> {
    let password_hash = password::hash(form.password.0).await.map_err(internal)?;
    let account_id = new_id("acc");
    let user_id = new_id("usr");
    let now = now_ms();

    let mut writer = db.writer().await.map_err(internal)?;
    let mut tx = writer.begin().await.map_err(internal)?;
    sqlx::query("insert into accounts (id, name, created_at) values ($1, $2, $3)")
        .bind(&account_id)
        .bind(&form.account_name.0)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    sqlx::query(
        "insert into users (id, account_id, email, password_hash, role, created_at)
         values ($1, $2, $3, $4, 'owner', $5)",
    )
    .bind(&user_id)
    .bind(&account_id)
    .bind(form.email.as_str())
    .bind(&password_hash)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|error| {
        if is_unique_violation(&error) {
            AuthError::EmailTaken
        } else {
            internal(error)
        }
    })?;
    tx.commit().await.map_err(internal)?;

    Ok(CurrentUser {
        user_id,
        email: form.email.0,
        account_id,
        account_name: form.account_name.0,
    })
}

/// Checks an email and password, refusing while too many recent attempts have failed.
pub async fn authenticate(
    db: &Db,
    email: &str,
    password: &str,
    client_ip: &str,
) -> Result<CurrentUser, AuthError> {
    let email = email.trim().to_lowercase();
    let since = now_ms() - THROTTLE_WINDOW_MS;
    let (by_email, by_ip): (i64, i64) = sqlx::query_as(
        "select
           (select count(*) from sign_in_failures where email = $1 and created_at > $3),
           (select count(*) from sign_in_failures where ip = $2 and created_at > $3)",
    )
    .bind(&email)
    .bind(client_ip)
    .bind(since)
    .fetch_one(db.pool())
    .await
    .map_err(internal)?;
    if by_email >= MAX_FAILURES_PER_EMAIL || by_ip >= MAX_FAILURES_PER_IP {
        return Err(AuthError::TooManyAttempts);
    }

    let row = sqlx::query(
        "select u.id, u.email, u.password_hash, a.id as account_id, a.name as account_name
         from users u join accounts a on a.id = u.account_id
         where u.email = $1",
    )
    .bind(&email)
    .fetch_optional(db.pool())
    .await
    .map_err(internal)?;
    let hash = row
        .as_ref()
        .map(|row| row.get::<String, _>("password_hash"));

    if let (true, Some(row)) = (password::verify(password.to_string(), hash).await, row) {
        sqlx::query("delete from sign_in_failures where email = $1")
            .bind(&email)
            .execute(db.pool())
            .await
            .map_err(internal)?;
        return Ok(CurrentUser {
            user_id: row.get("id"),
            email: row.get("email"),
            account_id: row.get("account_id"),
            account_name: row.get("account_name"),
        });
    }

    sqlx::query("insert into sign_in_failures (email, ip, created_at) values ($1, $2, $3)")
        .bind(&email)
        .bind(client_ip)
        .bind(now_ms())
        .execute(db.pool())
        .await
        .map_err(internal)?;
    Err(AuthError::InvalidCredentials)
}

/// Starts a session for `user` and returns the token for its cookie; only its hash is stored.
pub async fn create_session(db: &Db, user: &CurrentUser) -> Result<String, sqlx::Error> {
    let token = random_token();
    let now = now_ms();
    sqlx::query(
        "insert into sessions (token_hash, user_id, account_id, created_at, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(sha256_hex(&token))
    .bind(&user.user_id)
    .bind(&user.account_id)
    .bind(now)
    .bind(now + SESSION_TTL_MS)
    .execute(db.pool())
    .await?;
    Ok(token)
}

/// The user behind a session token, if the session exists and has not expired.
pub async fn resolve_session(db: &Db, token: &str) -> Result<Option<CurrentUser>, sqlx::Error> {
    let row = sqlx::query(
        "select u.id, u.email, a.id as account_id, a.name as account_name
         from sessions s
         join users u on u.id = s.user_id
         join accounts a on a.id = u.account_id
         where s.token_hash = $1 and s.expires_at > $2",
    )
    .bind(sha256_hex(token))
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(|row| CurrentUser {
        user_id: row.get("id"),
        email: row.get("email"),
        account_id: row.get("account_id"),
        account_name: row.get("account_name"),
    }))
}

/// Ends a session; the token stops working at once.
pub async fn end_session(db: &Db, token: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sessions where token_hash = $1")
        .bind(sha256_hex(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Removes expired sessions and old sign-in failures.
pub async fn prune(db: &Db) -> Result<(), sqlx::Error> {
    let now = now_ms();
    sqlx::query("delete from sessions where expires_at <= $1")
        .bind(now)
        .execute(db.pool())
        .await?;
    sqlx::query("delete from sign_in_failures where created_at <= $1")
        .bind(now - THROTTLE_WINDOW_MS)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The account the user with `email` belongs to.
pub async fn account_of(db: &Db, email: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select account_id from users where email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(db.pool())
        .await
}

/// The users of one account, oldest first.
pub async fn members(db: &Db, account_id: &str) -> Result<Vec<Member>, sqlx::Error> {
    let rows = sqlx::query(
        "select email, role, created_at from users where account_id = $1 order by created_at, email",
    )
    .bind(account_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| Member {
            email: row.get("email"),
            role: row.get("role"),
            created_at: row.get("created_at"),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Ann@Example.COM ").unwrap().as_str(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "ann@.com",
        ] {
            assert_eq!(Email::parse(bad), Err(AuthError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn passwords_need_ten_to_128_characters() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("exactly10!").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert!(Password::parse("éééééééééé").is_ok());
    }

    #[test]
    fn account_name_defaults_to_the_email_domain() {
        let form = SignUp::parse("  ", "ann@acme.io", "long enough pw").unwrap();
        assert_eq!(form.account_name.0, "acme.io");
        assert_eq!(
            SignUp::parse(&"n".repeat(81), "ann@acme.io", "long enough pw").err(),
            Some(AuthError::InvalidAccountName)
        );
    }
}
