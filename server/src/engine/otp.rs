//! One-time passwords: issued with the message that carries them, checked once, in constant
//! time, against a hash.

use sqlx::Row;

use app::{
    crypto::{SecretKey, constant_time_eq, sha256_hex},
    db::{Backend, Db, new_id, now_ms},
    messages::inbox::text_place,
};

use super::{Engine, NewMessage, Queued, Receipt, Route, queue_one, touch_stream};

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

/// A limit: at most `limit` codes within `window_ms`, to the recipients `scope` covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub scope: Scope,
    pub window_ms: i64,
    pub limit: i64,
}

/// Which of the stream's codes a limit counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Those to the message's recipient.
    Number,
    /// Those to the recipient's number range: all but its last three digits.
    Range,
    /// All of them.
    Stream,
}

/// The number range `recipient` is in: its E.164 form without the last three digits.
pub fn number_range(recipient: &str) -> &str {
    let keep = recipient.len().saturating_sub(3).max(1);
    recipient.get(..keep).unwrap_or(recipient)
}

/// What issuing a code came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issued {
    Sent(IssuedOtp),
    /// The recipient opted out; nothing was queued.
    OptedOut,
    /// `sent` codes went out within a limit's window already; the next may go in `wait_ms`.
    Limited {
        scope: Scope,
        sent: i64,
        limit: i64,
        wait_ms: i64,
    },
}

/// `text` with every occurrence of `code` masked, as the message is stored: the console and
/// the database show `Your code is *****`; the channel gets the text sealed beside it. The
/// mask keeps the text's length and alphabet, so its encoding and segments stay the same.
pub fn masked(text: &str, code: &str) -> String {
    if code.is_empty() {
        return text.to_string();
    }
    text.replace(code, &"*".repeat(code.chars().count()))
}

/// Queues the message and records its code in one transaction, once every limit allows it.
/// The limits are counted inside that transaction, which takes the stream's codes one at a
/// time, so requests that race cannot send more codes than a limit allows. A STOP that
/// commits after the caller checked wins. The message is stored with the code masked, its
/// text sealed for the channel.
pub async fn issue(
    engine: &Engine,
    key: &SecretKey,
    route: Route<'_>,
    message: &NewMessage,
    otp: &NewOtp,
    limits: &[Limit],
) -> Result<Issued, sqlx::Error> {
    let db = engine.db();
    let now = now_ms();
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    if db.backend() == Backend::Postgres {
        // SQLite's one writer already takes issues one at a time.
        sqlx::query("select pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!("otp:{}", route.stream_id))
            .execute(&mut *tx)
            .await?;
    }
    for limit in limits {
        let (condition, recipients) = match limit.scope {
            Scope::Number => ("and recipient = $3", Some(message.recipient.to_string())),
            Scope::Range => (
                "and recipient like $3",
                Some(format!("{}%", number_range(message.recipient.as_str()))),
            ),
            Scope::Stream => ("", None),
        };
        let sql = format!(
            "select count(*) as sent, min(created_at) as oldest from otp_codes
             where stream_id = $1 and created_at >= $2 {condition}"
        );
        let mut query = sqlx::query(&sql)
            .bind(route.stream_id)
            .bind(now - limit.window_ms);
        if let Some(recipients) = recipients {
            query = query.bind(recipients);
        }
        let row = query.fetch_one(&mut *tx).await?;
        let sent: i64 = row.get("sent");
        if sent >= limit.limit {
            let oldest: Option<i64> = row.get("oldest");
            return Ok(Issued::Limited {
                scope: limit.scope.clone(),
                sent,
                limit: limit.limit,
                wait_ms: oldest.unwrap_or(now) + limit.window_ms - now,
            });
        }
    }
    let stored = NewMessage {
        content: masked(&message.content, &otp.code),
        ..message.clone()
    };
    let receipt = match queue_one(&mut tx, route, &stored, now).await? {
        Queued::New(receipt) => receipt,
        Queued::Replay(_) | Queued::Conflict => {
            return Err(sqlx::Error::Protocol(
                "an OTP message is never a replay".into(),
            ));
        }
        Queued::OptedOut => return Ok(Issued::OptedOut),
    };
    sqlx::query("update messages set payload = $1 where id = $2")
        .bind(key.seal(
            message.content.as_bytes(),
            text_place(&receipt.message_uuid),
        ))
        .bind(&receipt.message_uuid)
        .execute(&mut *tx)
        .await?;
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
    .bind(message.recipient.as_str())
    .bind(code_hash(&otp_id, &otp.code))
    .bind(otp.max_failures)
    .bind(expires_at)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    engine.queued().notify_waiters();
    engine.db().changes().traffic([route.stream_id]);
    engine.metrics().accepted(route.channel, route.kind, 1);
    touch_stream(&mut writer, route.stream_id, now).await?;
    drop(writer);
    Ok(Issued::Sent(IssuedOtp {
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
///
/// The attempt is counted before the code is compared, in one statement that only counts
/// while the code is unused, unexpired and under its limit: however many checks race, at
/// most `max_failures` of them ever compare a code.
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
    let id: Option<String> = sqlx::query_scalar(&format!(
        "select id from otp_codes
         where stream_id = $1 and {column} = $2 and verified_at is null
         order by created_at desc limit 1"
    ))
    .bind(stream_id)
    .bind(value)
    .fetch_optional(db.pool())
    .await?;
    let Some(id) = id else { return Ok(None) };
    let now = now_ms();
    let counted = sqlx::query(
        "update otp_codes set failures = failures + 1
         where id = $1 and verified_at is null and failures < max_failures and expires_at > $2
         returning code_hash, failures, max_failures",
    )
    .bind(&id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    let Some(counted) = counted else {
        return why_not_counted(db, id).await;
    };
    let stored: String = counted.get("code_hash");
    if constant_time_eq(stored.as_bytes(), code_hash(&id, code).as_bytes()) {
        // The right code is no failure; only the first of two racing checks marks it.
        let marked = sqlx::query(
            "update otp_codes set verified_at = $1, failures = failures - 1
             where id = $2 and verified_at is null and expires_at > $1",
        )
        .bind(now)
        .bind(&id)
        .execute(db.pool())
        .await?;
        if marked.rows_affected() == 1 {
            return Ok(Some((id, Verification::Verified)));
        }
        return why_not_counted(db, id).await;
    }
    let attempts_left = counted.get::<i64, _>("max_failures") - counted.get::<i64, _>("failures");
    Ok(Some((
        id,
        if attempts_left <= 0 {
            Verification::MaxAttemptsReached
        } else {
            Verification::Invalid { attempts_left }
        },
    )))
}

/// Why a check of code `id` was not counted: used, out of attempts, or expired.
async fn why_not_counted(
    db: &Db,
    id: String,
) -> Result<Option<(String, Verification)>, sqlx::Error> {
    let row = sqlx::query(
        "select failures, max_failures, expires_at, verified_at from otp_codes where id = $1",
    )
    .bind(&id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    if row.get::<Option<i64>, _>("verified_at").is_some() {
        return Ok(None);
    }
    let verification = if row.get::<i64, _>("failures") >= row.get::<i64, _>("max_failures") {
        Verification::MaxAttemptsReached
    } else {
        Verification::Expired
    };
    Ok(Some((id, verification)))
}
