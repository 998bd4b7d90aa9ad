//! `Idempotency-Key` on every POST of the API, as Stripe and Novu answer it: the same key with
//! the same request answers the first request's answer again (with `Idempotent-Replayed: true`)
//! without doing anything twice; with another request, 422; while the first still runs, 409
//! with `Retry-After`. Keys are the stream's (two streams may use the same key) and kept
//! 24 hours. Only successful answers are kept: a refused request (bad input, every message
//! refused) changed nothing, so the caller may fix it and send it again under the same key.

use std::time::Duration;

use axum::{
    body::{Body, Bytes, to_bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header::CONTENT_TYPE},
    middleware::Next,
    response::{IntoResponse, Response},
};
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{
    MAX_BODY,
    caller::authenticate,
    error::{ApiError, storage},
};
use crate::http::ClientInfo;
use app::{
    db::{Db, now_ms},
    ids::StreamId,
};

/// The request header, as Stripe and the IETF draft name it.
pub const HEADER: &str = "idempotency-key";
/// Set on an answer that is a stored one.
const REPLAYED: &str = "idempotent-replayed";
/// The longest key, in bytes (a UUID is 36).
const MAX_KEY: usize = 255;
/// How long a key's answer is kept.
pub const KEPT_MS: i64 = 24 * 3_600_000;
/// The largest answer kept (a batch of 1,000 receipts is about 200 KB).
const MAX_ANSWER: usize = 4 * 1024 * 1024;
/// How many expired keys one statement removes.
const PRUNE_BATCH: i64 = 1_000;

/// How long a running request holds its key: past the server's request timeout, after which
/// the request is gone and a retry may run.
#[derive(Debug, Clone, Copy)]
pub struct KeyLock(pub Duration);

impl KeyLock {
    /// For a server whose requests time out after `request_timeout`.
    pub fn after(request_timeout: Duration) -> Self {
        Self(request_timeout + Duration::from_secs(30))
    }

    fn ms(self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }
}

/// What the store holds for a stream's key.
enum Held {
    /// This request now holds the key: it runs.
    Claimed,
    /// The first request's answer.
    Answered { status: StatusCode, body: String },
    /// The first request still runs.
    Running,
    /// The key was used with another request.
    Reused,
}

/// What the layer needs: the database and how long a running request holds its key.
#[derive(Debug, Clone)]
pub struct Keys {
    pub db: Db,
    pub lock: KeyLock,
}

/// Runs a POST that carries `Idempotency-Key` at most once per stream and key. Requests
/// without one pass straight through.
pub async fn once(State(keys): State<Keys>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match parse_key(key) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let Some(client) = request.extensions().get::<ClientInfo>().cloned() else {
        return ApiError::internal().into_response();
    };
    // The key belongs to the stream: a request that names none is answered as it would be.
    let caller = match authenticate(&keys.db, request.headers(), client).await {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    let (parts, body) = request.into_parts();
    let body = match to_bytes(body, MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "The request body is larger than {} MiB.",
                    MAX_BODY / 1024 / 1024
                ),
            )
            .into_response();
        }
    };
    let fingerprint = fingerprint(parts.uri.path(), &body);
    let db = &keys.db;
    let stream_id = &caller.stream.id;
    match hold(db, stream_id, &key, &fingerprint, keys.lock, now_ms()).await {
        Ok(Held::Claimed) => {}
        Ok(Held::Answered { status, body }) => return replay(status, body),
        Ok(Held::Running) => {
            return ApiError {
                retry_after: Some(1),
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_use",
                    "A request with this Idempotency-Key is still running; try again shortly.",
                )
            }
            .into_response();
        }
        Ok(Held::Reused) => {
            return ApiError::unprocessable(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request; use a new key for a new request.",
            )
            .into_response();
        }
        Err(error) => return storage(error).into_response(),
    }
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    let (parts, body) = response.into_parts();
    let answer = match to_bytes(body, MAX_ANSWER).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(%error, "an answer could not be read to keep it");
            let _ = release(db, stream_id, &key).await;
            return ApiError::internal().into_response();
        }
    };
    let kept = if parts.status.is_success() {
        keep(db, stream_id, &key, parts.status, &answer).await
    } else {
        release(db, stream_id, &key).await
    };
    if let Err(error) = kept {
        // The answer stands; the key is let go when its lock runs out.
        tracing::warn!(%error, "an Idempotency-Key's answer could not be stored");
    }
    Response::from_parts(parts, Body::from(answer))
}

/// A key is 1 to 255 visible ASCII characters.
fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            format!("Idempotency-Key is 1 to {MAX_KEY} visible ASCII characters, such as a UUID."),
        ));
    }
    Ok(key.to_string())
}

/// What identifies a request: its path (with or without the trailing slash) and its body.
fn fingerprint(path: &str, body: &Bytes) -> String {
    let mut hash = Sha256::new();
    hash.update(path.trim_end_matches('/').as_bytes());
    hash.update([0]);
    hash.update(body);
    hex::encode(hash.finalize())
}

fn replay(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Takes the key for this request, or says what holds it.
async fn hold(
    db: &Db,
    stream_id: &StreamId,
    key: &str,
    fingerprint: &str,
    lock: KeyLock,
    now: i64,
) -> Result<Held, sqlx::Error> {
    let mut writer = db.writer().await?;
    // An expired key, or one whose request died without an answer, is free again.
    sqlx::query(
        "delete from idempotency_keys
         where stream_id = $1 and idempotency_key = $2
             and (expires_at <= $3 or (status is null and locked_until <= $3))",
    )
    .bind(stream_id)
    .bind(key)
    .bind(now)
    .execute(&mut *writer)
    .await?;
    let claimed = sqlx::query(
        "insert into idempotency_keys (stream_id, idempotency_key, fingerprint, locked_until,
             expires_at)
         values ($1, $2, $3, $4, $5)
         on conflict (stream_id, idempotency_key) do nothing",
    )
    .bind(stream_id)
    .bind(key)
    .bind(fingerprint)
    .bind(now.saturating_add(lock.ms()))
    .bind(now + KEPT_MS)
    .execute(&mut *writer)
    .await?;
    if claimed.rows_affected() == 1 {
        return Ok(Held::Claimed);
    }
    let held = sqlx::query(
        "select fingerprint, status, body from idempotency_keys
         where stream_id = $1 and idempotency_key = $2",
    )
    .bind(stream_id)
    .bind(key)
    .fetch_one(&mut *writer)
    .await?;
    if held.get::<String, _>("fingerprint") != fingerprint {
        return Ok(Held::Reused);
    }
    Ok(match held.get::<Option<i64>, _>("status") {
        Some(status) => Held::Answered {
            status: u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK),
            body: held.get::<Option<String>, _>("body").unwrap_or_default(),
        },
        None => Held::Running,
    })
}

/// Stores the first request's answer under its key.
async fn keep(
    db: &Db,
    stream_id: &StreamId,
    key: &str,
    status: StatusCode,
    answer: &Bytes,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update idempotency_keys set status = $1, body = $2
         where stream_id = $3 and idempotency_key = $4",
    )
    .bind(i64::from(status.as_u16()))
    .bind(String::from_utf8_lossy(answer).into_owned())
    .bind(stream_id)
    .bind(key)
    .execute(&mut *db.writer().await?)
    .await?;
    Ok(())
}

/// Lets the key go: the request was refused, so it may be sent again, fixed, under it.
async fn release(db: &Db, stream_id: &StreamId, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from idempotency_keys where stream_id = $1 and idempotency_key = $2")
        .bind(stream_id)
        .bind(key)
        .execute(&mut *db.writer().await?)
        .await?;
    Ok(())
}

/// Removes keys kept longer than a day, a batch at a time so the writer is never held long.
pub async fn prune(db: &Db) -> Result<u64, sqlx::Error> {
    let now = now_ms();
    let mut removed = 0;
    loop {
        let deleted = sqlx::query(
            "delete from idempotency_keys where (stream_id, idempotency_key) in (
                 select stream_id, idempotency_key from idempotency_keys
                 where expires_at <= $1 limit $2)",
        )
        .bind(now)
        .bind(PRUNE_BATCH)
        .execute(&mut *db.writer().await?)
        .await?
        .rows_affected();
        removed += deleted;
        if deleted < u64::try_from(PRUNE_BATCH).unwrap_or(u64::MAX) {
            return Ok(removed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_ascii() {
        let parse = |text: &str| parse_key(&HeaderValue::from_str(text).unwrap());
        assert_eq!(parse(" 7c1f-key ").unwrap(), "7c1f-key");
        assert!(parse(&"k".repeat(MAX_KEY)).is_ok());
        assert!(parse(&"k".repeat(MAX_KEY + 1)).is_err());
        assert!(parse("two words").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn a_trailing_slash_is_the_same_request_and_a_body_change_is_not() {
        let body = Bytes::from_static(b"{\"messages\":[]}");
        assert_eq!(
            fingerprint("/simple_send/", &body),
            fingerprint("/simple_send", &body)
        );
        assert_ne!(
            fingerprint("/simple_send", &body),
            fingerprint("/simple_send", &Bytes::from_static(b"{\"messages\":[{}]}"))
        );
        assert_ne!(
            fingerprint("/event_send", &body),
            fingerprint("/simple_send", &body)
        );
    }
}
