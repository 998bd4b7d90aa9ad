//! Accounts, users, sessions and sign-in throttling in the database.

use sqlx::Row;

use super::{AuthError, CurrentUser, Member, password};
use crate::{
    crypto::{SecretKey, random_token, sha256_hex},
    db::{Db, is_unique_violation, new_id, now_ms},
    ids::AccountId,
};

/// How long a console session lasts.
pub const SESSION_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// How long a console session lasts without use.
pub const SESSION_IDLE_MS: i64 = 12 * 60 * 60 * 1000;
/// How often a session in use records that it was seen.
const SEEN_EVERY_MS: i64 = 60 * 1000;
/// The window over which failed sign-ins are counted.
const THROTTLE_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Failed sign-ins to one email from one client network before each further try waits:
/// 30 s after the fifth, doubling with each failure, at most the whole window.
const FREE_FAILURES: i64 = 5;
const FIRST_WAIT_MS: i64 = 30_000;
/// Failed sign-ins allowed from one client network (any emails), and to one email from
/// everywhere (a spread-out guesser), within the window.
const MAX_FAILURES_PER_NETWORK: i64 = 30;
const MAX_FAILURES_PER_EMAIL: i64 = 100;
const HOUR_MS: i64 = 60 * 60 * 1000;

/// The network a client is counted by: its IPv4 address, or the /64 its IPv6 address is in
/// (one subscriber usually holds a whole /64).
pub fn client_network(ip: std::net::IpAddr) -> String {
    match crate::egress::canonical(ip) {
        std::net::IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            format!("{}/64", std::net::Ipv6Addr::from(prefix))
        }
        v4 => v4.to_string(),
    }
}

/// How long the `failures`-th failure of an email from one network makes the next try wait.
fn backoff_ms(failures: i64) -> i64 {
    if failures < FREE_FAILURES {
        return 0;
    }
    let doublings = u32::try_from(failures - FREE_FAILURES)
        .unwrap_or(u32::MAX)
        .min(10);
    (FIRST_WAIT_MS << doublings).min(THROTTLE_WINDOW_MS)
}

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

/// Creates an account and its owner in one transaction, with the starter streams (ready
/// demo streams and their tokens, sealed with `starters`) when given the key.
pub async fn sign_up(
    db: &Db,
    form: SignUp,
    starters: Option<&SecretKey>,
) -> Result<CurrentUser, AuthError> {
    let password_hash = password::hash(form.password.0).await.map_err(internal)?;
    let account_id = AccountId::generate();
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
    if let Some(key) = starters {
        crate::streams::store::create_starters(&mut tx, key, &account_id, now)
            .await
            .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)?;

    Ok(CurrentUser {
        user_id,
        email: form.email.0,
        account_id,
        account_name: form.account_name.0,
    })
}

/// Refuses a sign-up from a network that made `per_hour` sign-ups this hour, and records
/// this one.
pub async fn sign_up_allowed(db: &Db, network: &str, per_hour: u32) -> Result<(), AuthError> {
    let now = now_ms();
    let recent: i64 = sqlx::query_scalar(
        "select count(*) from sign_up_attempts where ip = $1 and created_at > $2",
    )
    .bind(network)
    .bind(now - HOUR_MS)
    .fetch_one(db.pool())
    .await
    .map_err(internal)?;
    if recent >= i64::from(per_hour) {
        return Err(AuthError::TooManySignUps);
    }
    sqlx::query("insert into sign_up_attempts (ip, created_at) values ($1, $2)")
        .bind(network)
        .bind(now)
        .execute(db.pool())
        .await
        .map_err(internal)?;
    Ok(())
}

/// Checks an email and password from a client `network` (see [`client_network`]).
///
/// The attempt is recorded as a failure before the password is checked, so guesses sent in
/// parallel count against each other; one refused unchecked is taken back, so waiting out a
/// backoff is not made longer by trying. Failures of one email from one network back off
/// (someone else's guesses elsewhere cannot lock its owner out); a network's failures across
/// emails, and an email's from everywhere, have caps of their own.
pub async fn authenticate(
    db: &Db,
    email: &str,
    password: &str,
    network: &str,
) -> Result<CurrentUser, AuthError> {
    let email = email.trim().to_lowercase();
    let now = now_ms();
    let attempt = new_id("try");
    sqlx::query("insert into sign_in_failures (id, email, ip, created_at) values ($1, $2, $3, $4)")
        .bind(&attempt)
        .bind(&email)
        .bind(network)
        .bind(now)
        .execute(db.pool())
        .await
        .map_err(internal)?;
    let (pair, last, by_network, by_email): (i64, Option<i64>, i64, i64) = sqlx::query_as(
        "select
           (select count(*) from sign_in_failures
             where email = $1 and ip = $2 and created_at > $3 and id is distinct from $4),
           (select max(created_at) from sign_in_failures
             where email = $1 and ip = $2 and created_at > $3 and id is distinct from $4),
           (select count(*) from sign_in_failures
             where ip = $2 and created_at > $3 and id is distinct from $4),
           (select count(*) from sign_in_failures
             where email = $1 and created_at > $3 and id is distinct from $4)",
    )
    .bind(&email)
    .bind(network)
    .bind(now - THROTTLE_WINDOW_MS)
    .bind(&attempt)
    .fetch_one(db.pool())
    .await
    .map_err(internal)?;
    let waiting = last.is_some_and(|last| now < last + backoff_ms(pair));
    if waiting || by_network >= MAX_FAILURES_PER_NETWORK || by_email >= MAX_FAILURES_PER_EMAIL {
        sqlx::query("delete from sign_in_failures where id = $1")
            .bind(&attempt)
            .execute(db.pool())
            .await
            .map_err(internal)?;
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
        sqlx::query("delete from sign_in_failures where email = $1 and ip = $2")
            .bind(&email)
            .bind(network)
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
    Err(AuthError::InvalidCredentials)
}

/// Starts a session for `user` and returns the token for its cookie; only its hash is stored.
pub async fn create_session(db: &Db, user: &CurrentUser) -> Result<String, sqlx::Error> {
    let token = random_token();
    let now = now_ms();
    sqlx::query(
        "insert into sessions (token_hash, user_id, account_id, created_at, expires_at,
             last_seen_at)
         values ($1, $2, $3, $4, $5, $4)",
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

/// The user behind a session token, if the session exists, has not expired and was used
/// within [`SESSION_IDLE_MS`]; a session in use is marked seen (at most once a minute).
pub async fn resolve_session(db: &Db, token: &str) -> Result<Option<CurrentUser>, sqlx::Error> {
    let now = now_ms();
    let token_hash = sha256_hex(token);
    let row = sqlx::query(
        "select u.id, u.email, a.id as account_id, a.name as account_name, s.last_seen_at
         from sessions s
         join users u on u.id = s.user_id
         join accounts a on a.id = u.account_id
         where s.token_hash = $1 and s.expires_at > $2 and s.last_seen_at > $3",
    )
    .bind(&token_hash)
    .bind(now)
    .bind(now - SESSION_IDLE_MS)
    .fetch_optional(db.pool())
    .await?;
    if let Some(row) = &row
        && row.get::<i64, _>("last_seen_at") < now - SEEN_EVERY_MS
    {
        sqlx::query("update sessions set last_seen_at = $1 where token_hash = $2")
            .bind(now)
            .bind(&token_hash)
            .execute(db.pool())
            .await?;
    }
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
    sqlx::query("delete from sessions where expires_at <= $1 or last_seen_at <= $2")
        .bind(now)
        .bind(now - SESSION_IDLE_MS)
        .execute(db.pool())
        .await?;
    sqlx::query("delete from sign_in_failures where created_at <= $1")
        .bind(now - THROTTLE_WINDOW_MS)
        .execute(db.pool())
        .await?;
    sqlx::query("delete from sign_up_attempts where created_at <= $1")
        .bind(now - HOUR_MS)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The account the user with `email` belongs to.
pub async fn account_of(db: &Db, email: &str) -> Result<Option<AccountId>, sqlx::Error> {
    sqlx::query_scalar("select account_id from users where email = $1")
        .bind(email.trim().to_lowercase())
        .fetch_optional(db.pool())
        .await
}

/// The users of one account, oldest first.
pub async fn members(db: &Db, account_id: &AccountId) -> Result<Vec<Member>, sqlx::Error> {
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
    fn clients_are_counted_by_address_or_ipv6_slash_64() {
        let network = |ip: &str| client_network(ip.parse().unwrap());
        assert_eq!(network("203.0.113.9"), "203.0.113.9");
        assert_eq!(network("::ffff:203.0.113.9"), "203.0.113.9");
        assert_eq!(network("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(network("2001:db8:1:2:bbbb::9"), network("2001:db8:1:2::5"));
    }

    #[test]
    fn failures_back_off_then_stay_at_the_window() {
        assert_eq!(backoff_ms(4), 0);
        assert_eq!(backoff_ms(5), 30_000);
        assert_eq!(backoff_ms(6), 60_000);
        assert_eq!(backoff_ms(9), 480_000);
        assert_eq!(backoff_ms(10), THROTTLE_WINDOW_MS);
        assert_eq!(backoff_ms(1_000), THROTTLE_WINDOW_MS);
    }

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
