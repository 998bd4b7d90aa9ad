//! When a message may go: per-stream throughput limits, and retries after transient failures
//! spaced by exponential backoff with jitter.

use app::db::Db;
use rand::Rng;

/// A stream's send slots for one claimed batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Slots {
    /// The reserved slots' times in milliseconds, ascending: fewer than asked for when the
    /// rest fall past the horizon.
    pub at: Vec<i64>,
    /// When the first message left without a slot should come back, in milliseconds.
    pub later_from: i64,
    /// Between two turns, in milliseconds.
    pub interval: f64,
}

impl Slots {
    /// When the `n`th message left without a slot (from 0) should come back for one.
    pub fn later(&self, n: usize) -> i64 {
        self.later_from + (n as f64 * self.interval).ceil() as i64
    }
}

/// Reserves up to `wanted` send slots of `stream_id`, spaced `1/rate` seconds apart (a
/// virtual scheduling clock, as in GCRA), among those from `now` to `now + horizon` (ms);
/// the messages left over are told turns after every turn told before, so that they come
/// back in order rather than all at once. The clock is the stream's row of `stream_pace`,
/// read and moved on in one transaction, so every worker of every instance draws from the
/// same one and the limit holds for them all. No slot is saved up over a quiet spell: the
/// clock never lags the present.
pub async fn reserve(
    db: &Db,
    stream_id: &str,
    rate: u32,
    wanted: usize,
    now: i64,
    horizon: i64,
) -> Result<Slots, sqlx::Error> {
    let interval = ceil_div(1_000_000, i64::from(rate.max(1)));
    let now_us = now.saturating_mul(1_000);
    let mut writer = db.writer().await?;
    let mut tx = writer.begin().await?;
    // Locks the stream's row (creating it) and reads it: other reservations wait here.
    let (next_free, planned_until): (i64, i64) = sqlx::query_as(
        "insert into stream_pace (stream_id, next_free, planned_until) values ($1, 0, 0)
         on conflict (stream_id) do update set next_free = stream_pace.next_free
         returning next_free, planned_until",
    )
    .bind(stream_id)
    .fetch_one(&mut *tx)
    .await?;
    let (first, granted) = grant(
        next_free,
        now_us,
        horizon.max(0).saturating_mul(1_000),
        interval,
        wanted,
    );
    let next_free = first + interval * granted as i64;
    let later_from = planned_until.max(next_free);
    let left = (wanted - granted) as i64;
    let planned_until = if left > 0 {
        later_from + interval * left
    } else {
        planned_until
    };
    sqlx::query("update stream_pace set next_free = $1, planned_until = $2 where stream_id = $3")
        .bind(next_free)
        .bind(planned_until)
        .bind(stream_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Slots {
        at: (0..granted)
            .map(|n| ceil_div(first + interval * n as i64, 1_000))
            .collect(),
        later_from: ceil_div(later_from, 1_000),
        interval: interval as f64 / 1_000.0,
    })
}

/// `a / b` rounded up, for `a ≥ 0`, `b > 0`.
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// The GCRA step, in microseconds: from a clock at `next_free`, the first slot and how many of
/// `wanted` fit between `now` and `now + horizon`.
fn grant(next_free: i64, now: i64, horizon: i64, interval: i64, wanted: usize) -> (i64, usize) {
    let first = next_free.max(now);
    let room = if first > now + horizon {
        0
    } else {
        usize::try_from((now + horizon - first) / interval + 1).unwrap_or(usize::MAX)
    };
    (first, wanted.min(room))
}

/// How transient failures are retried (`[delivery]` settings).
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// The wait before the second attempt, in milliseconds; it doubles each time.
    pub base_ms: u64,
    /// The longest wait between attempts.
    pub max_ms: u64,
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (1 for the first): `base · 2^(attempt-1)`
    /// capped at `max`, then drawn uniformly from its upper half, so that messages which
    /// failed together do not all come back at once.
    pub fn delay_ms(self, attempt: u32, rng: &mut impl Rng) -> u64 {
        let exponent = attempt.saturating_sub(1).min(32);
        let full = self
            .base_ms
            .saturating_mul(1u64 << exponent)
            .min(self.max_ms)
            .max(1);
        rng.gen_range(full / 2..=full)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use rand::{SeedableRng, rngs::StdRng};

    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_with_jitter_in_the_upper_half() {
        let backoff = Backoff {
            base_ms: 1_000,
            max_ms: 60_000,
        };
        let mut rng = StdRng::seed_from_u64(7);
        for (attempt, full) in [(1, 1_000), (2, 2_000), (3, 4_000), (6, 32_000), (7, 60_000)] {
            let delays: Vec<u64> = (0..200)
                .map(|_| backoff.delay_ms(attempt, &mut rng))
                .collect();
            assert!(
                delays.iter().all(|d| (full / 2..=full).contains(d)),
                "{attempt}: {delays:?}"
            );
            // Jitter: the draws spread out rather than repeat one value.
            let distinct: HashSet<_> = delays.iter().collect();
            assert!(distinct.len() > 50, "attempt {attempt}");
        }
        // However many attempts, the cap holds and nothing overflows.
        let late = backoff.delay_ms(u32::MAX, &mut rng);
        assert!((30_000..=60_000).contains(&late), "{late}");
    }

    #[test]
    fn slots_are_spaced_by_the_rate_within_the_horizon() {
        let now = 1_000_000_000;
        // 4 a second (250 ms apart), a one-second horizon: now, +250, +500, +750, +1000.
        assert_eq!(grant(0, now, 1_000_000, 250_000, 10), (now, 5));
        assert_eq!(grant(0, now, 1_000_000, 250_000, 3), (now, 3));
        // A clock already ahead hands out what is left of the horizon.
        assert_eq!(
            grant(now + 600_000, now, 1_000_000, 250_000, 10),
            (now + 600_000, 2)
        );
        // A clock past the horizon hands out nothing.
        assert_eq!(grant(now + 1_200_000, now, 1_000_000, 250_000, 10).1, 0);
        // With no horizon, only a slot that is due now.
        assert_eq!(grant(0, now, 0, 250_000, 10), (now, 1));
        assert_eq!(grant(now + 1, now, 0, 250_000, 10).1, 0);
        // After a quiet spell the clock catches up with the present: no saved-up burst.
        assert_eq!(grant(now - 60_000_000, now, 0, 250_000, 10), (now, 1));
    }
}
