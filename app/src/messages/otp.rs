//! One-time passwords: issued with the message that carries them, checked once, in constant
//! time, against a hash.

use sqlx::Row;

use super::store::{NewMessage, Queued, Receipt, Route, queue_one, touch_stream};
use crate::{
    crypto::{constant_time_eq, sha256_hex},
    db::{Db, new_id, now_ms},
};

/// A code about to be sent.
#[derive(Debug, Clone)]
pub struct NewOtp {
    pub code: String,
    pub max_failures: i64,
    pub ttl_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedOtp {
    pub otp_id: String,
    pub expires_at: i64,
    pub receipt: Receipt,
}

fn code_hash(otp_id: &str, code: &str) -> String {
    sha256_hex(&format!("{otp_id}:{}", code.trim()))
}

/// How many codes the stream sent to `recipient` since `since`.
pub async fn sent_since(
    db: &Db,
    stream_id: &str,
    recipient: &str,
    since: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from otp_codes where stream_id = $1 and recipient = $2 and created_at >= $3",
    )
    .bind(stream_id)
    .bind(recipient)
    .bind(since)
    .fetch_one(db.pool())
    .await
}

/// The oldest code sent to `recipient` since `since`: when the limit frees up again.
pub async fn oldest_since(
    db: &Db,
    stream_id: &str,
    recipient: &str,
    since: i64,
) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "select min(created_at) from otp_codes
         where stream_id = $1 and recipient = $2 and created_at >= $3",
    )
    .bind(stream_id)
    .bind(recipient)
    .bind(since)
    .fetch_one(db.pool())
    .await
}

/// Queues the message and records its code in one transaction. Answers `None`, queueing
/// nothing, when the recipient opted out: a STOP that commits after the caller checked wins.
pub async fn issue(
    db: &Db,
    route: Route<'_>,
    message: &NewMessage,
    otp: &NewOtp,
) -> Result<Option<IssuedOtp>, sqlx::Error> {
    let now = now_ms();
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    let receipt = match queue_one(&mut tx, route, message, now).await? {
        Queued::New(receipt) => receipt,
        Queued::Replay(_) | Queued::Conflict => {
            return Err(sqlx::Error::Protocol(
                "an OTP message is never a replay".into(),
            ));
        }
        Queued::OptedOut => return Ok(None),
    };
    let otp_id = new_id("otp");
    let expires_at = now + otp.ttl_ms;
    sqlx::query(
        "insert into otp_codes (id, stream_id, message_id, recipient, code_hash, failures,
             max_failures, expires_at, created_at)
         values ($1, $2, $3, $4, $5, 0, $6, $7, $8)",
    )
    .bind(&otp_id)
    .bind(route.stream_id)
    .bind(&receipt.message_uuid)
    .bind(&message.recipient)
    .bind(code_hash(&otp_id, &otp.code))
    .bind(otp.max_failures)
    .bind(expires_at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    touch_stream(&mut writer, route.stream_id, now).await?;
    drop(writer);
    Ok(Some(IssuedOtp {
        otp_id,
        expires_at,
        receipt,
    }))
}

/// Which code to check.
#[derive(Debug, Clone)]
pub enum OtpRef {
    Id(String),
    /// The newest code sent to this number.
    Recipient(String),
}

/// The answer to a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Verified,
    Invalid { attempts_left: i64 },
    Expired,
    MaxAttemptsReached,
}

impl Verification {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Invalid { .. } => "invalid",
            Self::Expired => "expired",
            Self::MaxAttemptsReached => "max_attempts_reached",
        }
    }
}

/// Checks `code`; a code verifies once. `None`: no unused code matches `otp`.
pub async fn verify(
    db: &Db,
    stream_id: &str,
    otp: &OtpRef,
    code: &str,
) -> Result<Option<(String, Verification)>, sqlx::Error> {
    let (column, value) = match otp {
        OtpRef::Id(id) => ("id", id),
        OtpRef::Recipient(phone) => ("recipient", phone),
    };
    let row = sqlx::query(&format!(
        "select id, code_hash, failures, max_failures, expires_at from otp_codes
         where stream_id = $1 and {column} = $2 and verified_at is null
         order by created_at desc limit 1"
    ))
    .bind(stream_id)
    .bind(value)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let id: String = row.get("id");
    let failures: i64 = row.get("failures");
    let max_failures: i64 = row.get("max_failures");
    let now = now_ms();
    if failures >= max_failures {
        return Ok(Some((id, Verification::MaxAttemptsReached)));
    }
    if now >= row.get::<i64, _>("expires_at") {
        return Ok(Some((id, Verification::Expired)));
    }
    let stored: String = row.get("code_hash");
    let matches = constant_time_eq(stored.as_bytes(), code_hash(&id, code).as_bytes());
    if matches {
        // Single use: only the first of two racing checks marks it.
        let marked = sqlx::query(
            "update otp_codes set verified_at = $1 where id = $2 and verified_at is null",
        )
        .bind(now)
        .bind(&id)
        .execute(db.pool())
        .await?;
        if marked.rows_affected() == 1 {
            return Ok(Some((id, Verification::Verified)));
        }
        return Ok(None);
    }
    sqlx::query("update otp_codes set failures = failures + 1 where id = $1")
        .bind(&id)
        .execute(db.pool())
        .await?;
    let attempts_left = max_failures - failures - 1;
    Ok(Some((
        id,
        if attempts_left <= 0 {
            Verification::MaxAttemptsReached
        } else {
            Verification::Invalid { attempts_left }
        },
    )))
}
