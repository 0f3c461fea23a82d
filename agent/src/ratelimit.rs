//! The agent's own request-rate bound: a token bucket shared by every source, and the cap on
//! requests in flight.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// A token bucket: `rate` tokens a second, at most `burst` saved up. `reserve` takes a token
/// now (the balance may go negative) and says how long to wait before using it, so callers
/// are served in the order they asked and the long-run rate never exceeds `rate`.
#[derive(Debug)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: f64, now: Instant) -> TokenBucket {
        assert!(rate > 0.0 && burst >= 1.0, "a token bucket needs a rate > 0 and a burst ≥ 1");
        TokenBucket { rate, burst, tokens: burst, last: now }
    }

    /// Takes one token at `now`; the wait before it may be spent (zero when one was saved up).
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = self.last.max(now);
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst) - 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }
}

/// The bucket behind a lock, plus a cap on concurrent requests.
pub struct RateLimiter {
    bucket: Mutex<TokenBucket>,
    in_flight: Semaphore,
}

/// The most requests the agent has in flight at once, whatever the rate.
pub const MAX_IN_FLIGHT: usize = 64;

impl RateLimiter {
    /// `max_rps` requests a second, bursts of up to a tenth of a second's worth (at least 1).
    pub fn new(max_rps: f64) -> RateLimiter {
        RateLimiter {
            bucket: Mutex::new(TokenBucket::new(max_rps, (max_rps / 10.0).max(1.0), Instant::now())),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
        }
    }

    /// Waits for a token and an in-flight slot; the slot is held until the permit is dropped.
    pub async fn acquire(&self) -> tokio::sync::SemaphorePermit<'_> {
        let wait = self.bucket.lock().expect("the bucket lock is never poisoned").reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        self.in_flight.acquire().await.expect("the semaphore is never closed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_serves_its_burst_at_once_then_paces() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3.0, t0);
        for _ in 0..3 {
            assert_eq!(bucket.reserve(t0), Duration::ZERO);
        }
        // The next ones queue up, 100 ms apart.
        assert_eq!(bucket.reserve(t0), Duration::from_millis(100));
        assert_eq!(bucket.reserve(t0), Duration::from_millis(200));
    }

    #[test]
    fn tokens_refill_at_the_rate_up_to_the_burst() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 2.0, t0);
        bucket.reserve(t0);
        bucket.reserve(t0);
        // 50 ms later, half a token: wait 50 ms more.
        let wait = bucket.reserve(t0 + Duration::from_millis(50));
        assert!((wait.as_secs_f64() - 0.05).abs() < 1e-9, "{wait:?}");
        // A long idle time saves up no more than the burst.
        let later = t0 + Duration::from_secs(60);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert_eq!(bucket.reserve(later), Duration::ZERO);
        assert!(bucket.reserve(later) > Duration::ZERO);
    }

    #[test]
    fn the_long_run_rate_is_bounded() {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(50.0, 5.0, t0);
        // 1,000 requests asked for at once are spread over (1000 - 5) / 50 s.
        let last = (0..1000).map(|_| bucket.reserve(t0)).last().unwrap();
        assert!((last.as_secs_f64() - 995.0 / 50.0).abs() < 1e-6, "{last:?}");
    }

    #[test]
    fn an_earlier_instant_than_the_last_is_harmless() {
        let t0 = Instant::now() + Duration::from_secs(1);
        let mut bucket = TokenBucket::new(1.0, 1.0, t0);
        assert_eq!(bucket.reserve(t0 - Duration::from_millis(500)), Duration::ZERO);
        assert_eq!(bucket.reserve(t0), Duration::from_secs(1));
    }
}
