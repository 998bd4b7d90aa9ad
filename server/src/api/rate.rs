//! Per-token rate limits: a token may make `[limits] api_per_second` requests a second, in
//! bursts of up to `api_burst`. Every answer to a request with a token carries
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; one over the limit is
//! refused with 429 and `Retry-After` before any work is done for it.

use std::{num::NonZeroU32, sync::Arc};

use axum::{
    Extension,
    extract::Request,
    http::{HeaderMap, HeaderValue, header::AUTHORIZATION},
    middleware::Next,
    response::{IntoResponse, Response},
};
use governor::{
    Quota, RateLimiter,
    clock::{Clock, DefaultClock},
    middleware::StateInformationMiddleware,
    state::keyed::DefaultKeyedStateStore,
};
use sha2::{Digest, Sha256};

use super::ApiError;
use crate::config::LimitsConfig;

/// A token, by the first half of its SHA-256: fixed size, and no secret kept in memory.
type Key = [u8; 16];

/// Tokens seen before the limiter forgets those back at full capacity.
const FORGET_PAST: usize = 50_000;

#[derive(Debug, Clone)]
pub struct ApiLimiter {
    limiter: Arc<
        RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>,
    >,
    burst: u32,
}

impl ApiLimiter {
    pub fn new(config: &LimitsConfig) -> Self {
        let per_second = NonZeroU32::new(config.api_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.api_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota).with_middleware()),
            burst: burst.get(),
        }
    }
}

fn key(headers: &HeaderMap) -> Option<Key> {
    let token = headers.get(AUTHORIZATION)?.as_bytes();
    let digest = Sha256::digest(token);
    let mut key = [0; 16];
    key.copy_from_slice(&digest[..16]);
    Some(key)
}

pub async fn limit(
    Extension(limits): Extension<ApiLimiter>,
    request: Request,
    next: Next,
) -> Response {
    let Some(key) = key(request.headers()) else {
        return next.run(request).await;
    };
    if limits.limiter.len() > FORGET_PAST {
        limits.limiter.retain_recent();
    }
    let (remaining, reset, refused) = match limits.limiter.check_key(&key) {
        Ok(snapshot) => {
            let remaining = snapshot.remaining_burst_capacity();
            // A full burst comes back one cell per replenish interval.
            let interval = snapshot.quota().replenish_interval();
            let missing = limits.burst.saturating_sub(remaining);
            (
                remaining,
                (interval * missing).as_secs_f64().ceil() as u64,
                None,
            )
        }
        Err(not_until) => {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            (0, seconds, Some(seconds))
        }
    };
    let mut response = match refused {
        Some(seconds) => ApiError::rate_limited(
            format!(
                "This token made more than its {} requests in a burst; slow down.",
                limits.burst
            ),
            seconds,
        )
        .into_response(),
        None => next.run(request).await,
    };
    let headers = response.headers_mut();
    headers.insert("ratelimit-limit", HeaderValue::from(limits.burst));
    headers.insert("ratelimit-remaining", HeaderValue::from(remaining));
    headers.insert("ratelimit-reset", HeaderValue::from(reset));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_limited_to_its_burst() {
        let limits = ApiLimiter::new(&LimitsConfig {
            api_per_second: 1,
            api_burst: 3,
            ..LimitsConfig::default()
        });
        let token = [7; 16];
        let other = [8; 16];
        for left in [2, 1, 0] {
            let snapshot = limits.limiter.check_key(&token).unwrap();
            assert_eq!(snapshot.remaining_burst_capacity(), left);
        }
        assert!(limits.limiter.check_key(&token).is_err());
        assert!(limits.limiter.check_key(&other).is_ok(), "tokens are apart");
    }
}
