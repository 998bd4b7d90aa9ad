//! Per-token rate limits: a token may make `[limits] api_per_second` requests a second, in
//! bursts of up to `api_burst`. Every answer to a request with a token carries
//! `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`; one over the limit is
//! refused with 429 and `Retry-After` before any work is done for it.
//!
//! A client network (an IPv4 address or an IPv6 /64) whose requests were refused with 401
//! more than `[limits] unknown_tokens_per_minute` times is paused: until the pause ends its
//! requests are refused before their token is looked up, except those whose token worked
//! recently, so one guessing client behind a NAT does not lock out its neighbours.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Extension,
    extract::Request,
    http::{HeaderMap, HeaderValue, StatusCode, header::AUTHORIZATION},
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
use crate::{config::LimitsConfig, http::ClientInfo, lock};

/// A token, by the first half of its SHA-256: fixed size, and no secret kept in memory.
type Key = [u8; 16];

/// Entries a map keeps before it forgets those that no longer matter.
const FORGET_PAST: usize = 50_000;
/// How long a token that worked lets its network's requests through a pause.
const KNOWN_FOR: Duration = Duration::from_secs(3_600);

#[derive(Debug, Clone)]
pub struct ApiLimiter {
    limiter: Arc<
        RateLimiter<Key, DefaultKeyedStateStore<Key>, DefaultClock, StateInformationMiddleware>,
    >,
    burst: u32,
    guesses: Arc<Guesses>,
}

/// 401s per client network, the networks paused for them, and the tokens that worked.
#[derive(Debug)]
struct Guesses {
    refused: RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock>,
    paused: Mutex<HashMap<String, Instant>>,
    known: Mutex<HashMap<Key, Instant>>,
}

impl Guesses {
    /// Until when `network` is paused, unless `token` worked recently.
    fn paused_until(
        &self,
        network: impl FnOnce() -> String,
        token: Option<&Key>,
    ) -> Option<Instant> {
        let until = {
            let paused = lock(&self.paused);
            if paused.is_empty() {
                return None;
            }
            *paused.get(&network())?
        };
        let now = Instant::now();
        let known = token.is_some_and(|token| {
            lock(&self.known)
                .get(token)
                .is_some_and(|at| now.duration_since(*at) < KNOWN_FOR)
        });
        (until > now && !known).then_some(until)
    }

    /// Counts a 401 for `network`, pausing it once it is over its allowance.
    fn refused(&self, network: &str) {
        if self.refused.len() > FORGET_PAST {
            self.refused.retain_recent();
        }
        if let Err(not_until) = self.refused.check_key(&network.to_string()) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let now = Instant::now();
            let mut paused = lock(&self.paused);
            if paused.len() > FORGET_PAST {
                paused.retain(|_, until| *until > now);
            }
            paused.insert(network.to_string(), now + wait.max(Duration::from_secs(1)));
        }
    }

    /// Remembers that `token` worked (again, once a minute at most).
    fn worked(&self, token: Key) {
        let now = Instant::now();
        let mut known = lock(&self.known);
        if let Some(at) = known.get_mut(&token) {
            if now.duration_since(*at) > Duration::from_secs(60) {
                *at = now;
            }
            return;
        }
        if known.len() > FORGET_PAST {
            known.retain(|_, at| now.duration_since(*at) < KNOWN_FOR);
        }
        known.insert(token, now);
    }
}

impl ApiLimiter {
    pub fn new(config: &LimitsConfig) -> Self {
        let per_second = NonZeroU32::new(config.api_per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(config.api_burst.max(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(per_second).allow_burst(burst);
        let guesses =
            NonZeroU32::new(config.unknown_tokens_per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: Arc::new(RateLimiter::keyed(quota).with_middleware()),
            burst: burst.get(),
            guesses: Arc::new(Guesses {
                refused: RateLimiter::keyed(Quota::per_minute(guesses)),
                paused: Mutex::default(),
                known: Mutex::default(),
            }),
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
    Extension(client): Extension<ClientInfo>,
    request: Request,
    next: Next,
) -> Response {
    let key = key(request.headers());
    let network = || app::auth::store::client_network(client.ip);
    if let Some(until) = limits.guesses.paused_until(network, key.as_ref()) {
        let seconds = until
            .saturating_duration_since(Instant::now())
            .as_secs_f64()
            .ceil()
            .max(1.0) as u64;
        return ApiError::rate_limited(
            format!(
                "Too many requests from {} were refused for their token or key; \
                 this network is paused.",
                network()
            ),
            seconds,
        )
        .with_code("too_many_unknown_tokens")
        .into_response();
    }
    let Some(key) = key else {
        let response = next.run(request).await;
        if response.status() == StatusCode::UNAUTHORIZED {
            limits.guesses.refused(&network());
        }
        return response;
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
        None => {
            let response = next.run(request).await;
            if response.status() == StatusCode::UNAUTHORIZED {
                limits.guesses.refused(&network());
            } else {
                limits.guesses.worked(key);
            }
            response
        }
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
