//! When a message may go: per-stream throughput limits, and retries after transient failures
//! spaced by exponential backoff with jitter.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use rand::Rng;

/// Hands out send slots so that no stream goes faster than its limit. Each message reserves
/// one slot, spaced `1/rate` seconds after the previous one (a virtual scheduling clock, as in
/// GCRA); a message whose slot is in the future waits in the queue until then and keeps it.
/// Sends are also never closer than `1/rate` to the stream's previous send: a message that
/// comes back late (a busy worker) does not let the ones after it bunch up behind it.
/// Shared by the process's workers.
#[derive(Debug, Default)]
pub struct Pacer {
    inner: Mutex<PacerState>,
}

#[derive(Debug, Default)]
struct PacerState {
    /// Per stream, the earliest free slot in milliseconds.
    next_free: HashMap<String, f64>,
    /// Messages that hold a slot; they go when claimed again.
    reserved: HashSet<String>,
    /// Per stream, when its last message went, in milliseconds.
    last_sent: HashMap<String, f64>,
}

impl Pacer {
    /// When the message may be handed to the channel: `None` is now, `Some(at)` is later
    /// (it keeps the slot at `at`).
    pub fn slot(&self, stream_id: &str, message_id: &str, rate: u32, now: i64) -> Option<i64> {
        let mut state = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let interval = 1_000.0 / f64::from(rate.max(1));
        let now = now as f64;
        let spaced = state
            .last_sent
            .get(stream_id)
            .is_none_or(|last| now >= last + interval - 0.5);
        if state.reserved.remove(message_id) && spaced {
            state.last_sent.insert(stream_id.to_string(), now);
            return None;
        }
        let earliest = state
            .last_sent
            .get(stream_id)
            .map_or(now, |last| now.max(last + interval));
        let next_free = state.next_free.entry(stream_id.to_string()).or_insert(now);
        let slot = next_free.max(earliest);
        *next_free = slot + interval;
        if slot <= now {
            state.last_sent.insert(stream_id.to_string(), now);
            return None;
        }
        state.reserved.insert(message_id.to_string());
        Some(slot.ceil() as i64)
    }
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
    fn slots_are_spaced_by_the_rate_and_kept_by_their_message() {
        let pacer = Pacer::default();
        let now = 1_000_000;
        // 4 a second: the first goes now, the next three wait 250, 500 and 750 ms.
        let slots: Vec<_> = (0..4)
            .map(|n| pacer.slot("s1", &format!("m{n}"), 4, now))
            .collect();
        assert_eq!(
            slots,
            [None, Some(now + 250), Some(now + 500), Some(now + 750)]
        );
        // Another stream has its own clock.
        assert_eq!(pacer.slot("s2", "x", 4, now), None);
        // A waiting message goes when it comes back, without taking another slot.
        assert_eq!(pacer.slot("s1", "m1", 4, now + 250), None);
        assert_eq!(pacer.slot("s1", "m4", 4, now + 250), Some(now + 1_000));
        // After a quiet spell the clock catches up with the present: no saved-up burst.
        assert_eq!(pacer.slot("s1", "m5", 4, now + 10_000), None);
        assert_eq!(pacer.slot("s1", "m6", 4, now + 10_000), Some(now + 10_250));
    }

    #[test]
    fn a_late_message_does_not_let_the_next_one_bunch_up() {
        let pacer = Pacer::default();
        let now = 1_000_000;
        let slots: Vec<_> = (0..3)
            .map(|n| pacer.slot("s", &format!("m{n}"), 4, now))
            .collect();
        assert_eq!(slots, [None, Some(now + 250), Some(now + 500)]);
        // m1 comes back 200 ms late; m2, on time for its own slot, would follow 50 ms after it.
        assert_eq!(pacer.slot("s", "m1", 4, now + 450), None);
        assert_eq!(pacer.slot("s", "m2", 4, now + 500), Some(now + 750));
        assert_eq!(pacer.slot("s", "m2", 4, now + 750), None);
    }
}
