//! Rate limits per API key: a window that starts with a key's first request and lasts
//! `window` (15 minutes by default); `limit` requests fit in it. Each answer carries what
//! is left (`X-RateLimit-Limit`, `-Remaining`, `-Reset`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct RateLimiter {
    limit: u64,
    window: Duration,
    keys: Mutex<HashMap<String, (Instant, u64)>>,
}

/// Where a key stands after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateState {
    pub limit: u64,
    pub remaining: u64,
    /// Seconds until the window ends.
    pub reset: u64,
    /// The request is over the limit.
    pub exceeded: bool,
}

impl RateLimiter {
    pub fn new(limit: u64, window: Duration) -> RateLimiter {
        RateLimiter { limit, window, keys: Mutex::new(HashMap::new()) }
    }

    /// Counts one request of `key` at `now`.
    pub fn hit(&self, key: &str, now: Instant) -> RateState {
        let mut keys = self.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let entry = keys.entry(key.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.window {
            *entry = (now, 0);
        }
        let exceeded = entry.1 >= self.limit;
        if !exceeded {
            entry.1 += 1;
        }
        let left = self.window.saturating_sub(now.duration_since(entry.0));
        RateState {
            limit: self.limit,
            remaining: self.limit - entry.1,
            reset: left.as_secs() + u64::from(left.subsec_nanos() > 0),
            exceeded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_fills_and_starts_again() {
        let limiter = RateLimiter::new(2, Duration::from_secs(900));
        let start = Instant::now();
        assert_eq!(limiter.hit("k", start).remaining, 1);
        assert_eq!(limiter.hit("k", start).remaining, 0);
        let over = limiter.hit("k", start + Duration::from_secs(122));
        assert!(over.exceeded);
        assert_eq!(over.reset, 778);
        assert!(!limiter.hit("other", start).exceeded, "keys are counted apart");
        assert!(!limiter.hit("k", start + Duration::from_secs(900)).exceeded);
    }
}
