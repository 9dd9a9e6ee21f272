//! Per-address rate limits on sign-in and ingest: a token bucket per client IP and kind of request.
//! A request that finds its bucket empty gets 429 with `Retry-After`, before its body is read or a
//! password is hashed, so that one address can neither guess codes and passwords quickly nor
//! flood the writer.
//!
//! The address is the peer's: behind a proxy every client shares the proxy's bucket, so such a
//! deployment raises the limits (or turns them off) and limits at the proxy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One limit: `burst` requests at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}

impl Rate {
    /// Parses `PER_MINUTE` or `PER_MINUTE/BURST` (`taskmine serve --login-rate 10/5`).
    pub fn parse(s: &str) -> Result<Rate, String> {
        let (per, burst) = match s.split_once('/') {
            Some((p, b)) => (p, Some(b)),
            None => (s, None),
        };
        let num = |x: &str, what: &str| {
            x.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("rate {s:?}: {what} must be a whole number above 0"))
        };
        let per_minute = num(per, "requests per minute")?;
        let burst = burst.map_or(Ok(per_minute), |b| num(b, "the burst"))?;
        Ok(Rate { burst, per_minute })
    }
}

/// The limits in force; `None` turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST /signin` and `POST /me/signin`, together.
    pub login: Option<Rate>,
    /// `POST /api/v1/events`.
    pub ingest: Option<Rate>,
}

impl Default for RateLimits {
    /// Sign-in: 10 attempts at once, then one every 6 s (a person mistyping is not hindered; a
    /// guesser gets 240 tries an hour per address, with the lockout after 5 per account). Ingest:
    /// 600 batches at once, then 10 a second per address, well above a recorder's one batch every
    /// few seconds even for a spool catching up, and a limit on a runaway or hostile one.
    fn default() -> Self {
        RateLimits {
            login: Some(Rate {
                burst: 10,
                per_minute: 10,
            }),
            ingest: Some(Rate {
                burst: 600,
                per_minute: 600,
            }),
        }
    }
}

/// Which bucket a request draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Login,
    Ingest,
}

/// Buckets kept before idle full ones are dropped.
const MAX_BUCKETS: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every address.
pub struct Limiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(Kind, IpAddr), Bucket>>,
}

impl Limiter {
    pub fn new(limits: RateLimits) -> Limiter {
        Limiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn rate(&self, kind: Kind) -> Option<Rate> {
        match kind {
            Kind::Login => self.limits.login,
            Kind::Ingest => self.limits.ingest,
        }
    }

    /// Takes a token for `ip`; `Err` with the wait until the next one when there is none.
    pub fn take(&self, kind: Kind, ip: IpAddr) -> Result<(), Duration> {
        self.take_at(kind, ip, Instant::now())
    }

    fn take_at(&self, kind: Kind, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let Some(rate) = self.rate(kind) else {
            return Ok(());
        };
        let per_sec = f64::from(rate.per_minute) / 60.0;
        let burst = f64::from(rate.burst);
        let mut buckets = self.buckets.lock().expect("rate limit lock");
        if buckets.len() >= MAX_BUCKETS {
            // Drop the buckets that have refilled: forgetting them changes nothing.
            buckets.retain(|(k, _), b| {
                let r = self
                    .rate(*k)
                    .map_or(0.0, |r| f64::from(r.per_minute) / 60.0);
                b.tokens + now.duration_since(b.at).as_secs_f64() * r < burst
            });
        }
        let b = buckets.entry((kind, ip)).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * per_sec).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - b.tokens) / per_sec))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_empties_after_its_burst_refills_over_time_and_is_per_address() {
        let l = Limiter::new(RateLimits {
            login: Some(Rate {
                burst: 3,
                per_minute: 60,
            }),
            ingest: None,
        });
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.take_at(Kind::Login, a, t0).is_ok());
        }
        let wait = l.take_at(Kind::Login, a, t0).unwrap_err();
        assert!(
            (0.9..=1.0).contains(&wait.as_secs_f64()),
            "one a second: {wait:?}"
        );
        assert!(l.take_at(Kind::Login, b, t0).is_ok(), "another address");
        assert!(l.take_at(Kind::Ingest, a, t0).is_ok(), "ingest is off");
        let later = t0 + Duration::from_millis(1_100);
        assert!(l.take_at(Kind::Login, a, later).is_ok());
        assert!(l.take_at(Kind::Login, a, later).is_err());
    }

    #[test]
    fn rates_parse_with_and_without_a_burst() {
        assert_eq!(
            Rate::parse("30/5"),
            Ok(Rate {
                burst: 5,
                per_minute: 30
            })
        );
        assert_eq!(
            Rate::parse("12"),
            Ok(Rate {
                burst: 12,
                per_minute: 12
            })
        );
        for bad in ["", "0", "x/3", "3/0", "-1"] {
            assert!(Rate::parse(bad).unwrap_err().contains(bad), "{bad}");
        }
    }
}
