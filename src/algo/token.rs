//! RL.TOKEN: token bucket with continuous refill of `rate` tokens per `period`.
//!
//! The bucket stores its deficit: the tokens used and not yet refilled, as of a time `at`.
//! The deficit is kept in exact units of 1/period token (`owed = tokens * period`), so that
//! `elapsed` milliseconds refill exactly `elapsed * rate` units: no rounding anywhere, hence
//! no drift. This is GCRA with the theoretical arrival time `at + owed / rate` written as a
//! deficit, which keeps the deficit in tokens when the capacity or rate changes.

use super::{
    clamp_time, div_ceil, div_floor, refund_reply, rescale_up, wait_ms, Decision, Millis, Mode, Reply, Request, Store, Stored, NEVER, PEEK,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenParams {
    pub capacity: u64,
    pub rate: u64,
    pub period: Millis,
}

/// What is stored: the period the deficit is expressed in, the time of the last update, and
/// the deficit in 1/period tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenState {
    pub period: Millis,
    pub at: Millis,
    pub owed: u128,
}

/// The deficit at `now` in units of 1/`p.period` token, and the instant refilling resumes
/// from it (`now`, or the stored update time if the clock has since gone back: until the
/// clock reaches it again, nothing refills).
fn owed_now(s: &TokenState, now: Millis, p: TokenParams) -> (u128, Millis) {
    let owed = rescale_up(s.owed, s.period, p.period);
    let elapsed = u128::from(now.saturating_sub(s.at));
    (owed.saturating_sub(elapsed.saturating_mul(u128::from(p.rate))), s.at.max(now))
}

/// Decides one RL.TOKEN call. `stored` is the state as read and whether its key has a TTL.
pub fn decide(stored: Option<Stored<TokenState>>, now: Millis, p: TokenParams, req: Request) -> Decision<TokenState> {
    if req.mode == Mode::Refund {
        return refund(stored, now, p, req.cost);
    }
    let period = u128::from(p.period);
    let rate = u128::from(p.rate);
    let (owed, refill_from) = stored.map_or((0, now), |s| owed_now(&s.state, now, p));
    let available = (u128::from(p.capacity) * period).saturating_sub(owed);
    let remaining_now = u64::try_from(div_floor(available, period)).unwrap_or(u64::MAX);
    let fits = req.forced() || req.cost <= remaining_now;
    // Time until `owed` is refilled down to `target`, with no other traffic.
    let wait_until_owed = |owed: u128, target: u128, from: Millis| {
        if owed <= target {
            return 0;
        }
        wait_ms(u128::from(from - now) + div_ceil(owed - target, rate))
    };

    if fits && !req.peek {
        // FORCE may go past the capacity: the bucket goes into debt.
        let new_owed = owed.saturating_add(u128::from(req.cost) * period);
        // Until the deficit is refilled: the bucket is full again, and the key carries nothing.
        let until_full = div_ceil(new_owed, rate);
        return Decision {
            reply: Reply {
                allowed: true,
                limit: p.capacity,
                remaining: remaining_now.saturating_sub(req.cost),
                retry_after_ms: 0,
                reset_after_ms: wait_ms(until_full),
            },
            store: Some(Store {
                state: TokenState { period: p.period, at: now, owed: new_owed },
                expire_at: clamp_time(u128::from(now) + until_full),
            }),
        };
    }

    let retry_after_ms = if fits {
        0
    } else if req.cost > p.capacity {
        NEVER
    } else {
        wait_until_owed(owed, u128::from(p.capacity - req.cost) * period, refill_from)
    };
    let reset_after_ms = wait_until_owed(owed, 0, refill_from);
    let needs_ttl = !req.peek && stored.is_some_and(|s| !s.has_ttl());
    Decision {
        reply: Reply { allowed: fits, limit: p.capacity, remaining: remaining_now, retry_after_ms, reset_after_ms },
        store: needs_ttl.then(|| Store {
            state: TokenState { period: p.period, at: now, owed },
            expire_at: clamp_time(u128::from(now) + div_ceil(owed, rate).max(1)),
        }),
    }
}

/// REFUND: takes up to `units` tokens off the deficit (never below a full bucket). A missing
/// key is a full bucket: nothing to give back, nothing written.
fn refund(stored: Option<Stored<TokenState>>, now: Millis, p: TokenParams, units: u64) -> Decision<TokenState> {
    let store = stored.and_then(|Stored { state: s, expire_at }| {
        let has_ttl = expire_at.is_some();
        let (owed, _) = owed_now(&s, now, p);
        let new_owed = owed.saturating_sub(u128::from(units) * u128::from(p.period));
        // A hand-written state without TTL gets one, as on a denial.
        (new_owed != owed || !has_ttl).then(|| Store {
            state: TokenState { period: p.period, at: now, owed: new_owed },
            expire_at: clamp_time(u128::from(now) + div_ceil(new_owed, u128::from(p.rate)).max(1)),
        })
    });
    let after = store.as_ref().map_or(stored, |s| Some(s.stored()));
    Decision { reply: refund_reply(decide(after, now, p, PEEK).reply), store }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::{check_refund_and_force, check_reply, Rng, SimKey};

    fn call(key: &mut SimKey<TokenState>, now: Millis, p: TokenParams, cost: u64, peek: bool) -> Reply {
        call_req(key, now, p, Request::take(cost, peek))
    }

    fn call_req(key: &mut SimKey<TokenState>, now: Millis, p: TokenParams, req: Request) -> Reply {
        key.call(now, |stored| decide(stored, now, p, req))
    }

    const P: TokenParams = TokenParams { capacity: 5, rate: 1, period: 1000 };

    #[test]
    fn starts_full_and_refills_continuously() {
        let mut key = SimKey::default();
        assert_eq!(call(&mut key, 0, P, 5, false).to_array(), [1, 5, 0, 0, 5000]);
        assert_eq!(call(&mut key, 999, P, 1, false).to_array(), [0, 5, 0, 1, 4001]);
        assert_eq!(call(&mut key, 1000, P, 1, false).to_array(), [1, 5, 0, 0, 5000]);
    }

    #[test]
    fn fractional_rates_do_not_lose_tokens() {
        // 3 tokens per 10 ms: one token every 3.33 ms. Over 10 s of saturating demand the
        // bucket admits capacity + 3000 exactly.
        let p = TokenParams { capacity: 2, rate: 3, period: 10 };
        let mut key = SimKey::default();
        let admitted: u64 = (0..=10_000).map(|t| call(&mut key, t, p, 1, false).allowed as u64).sum();
        assert_eq!(admitted, 2 + 3000);
    }

    #[test]
    fn raising_capacity_keeps_the_deficit() {
        let mut key = SimKey::default();
        call(&mut key, 0, P, 5, false);
        let bigger = TokenParams { capacity: 10, ..P };
        assert_eq!(call(&mut key, 0, bigger, 1, true).remaining, 5);
    }

    #[test]
    fn changing_the_rate_keeps_the_deficit_in_tokens() {
        let hourly = TokenParams { capacity: 1000, rate: 1000, period: 3_600_000 };
        let mut key = SimKey::default();
        call(&mut key, 0, hourly, 1000, false);
        // Upgrade to 100k per hour: the 1000 used tokens stay 1000 used tokens.
        let paid = TokenParams { capacity: 100_000, rate: 100_000, period: 3_600_000 };
        assert_eq!(call(&mut key, 0, paid, 1, true).remaining, 99_000);
        // Same rate expressed per second: the deficit is re-expressed, not reset.
        let per_second = TokenParams { capacity: 1000, rate: 1, period: 3600 };
        assert_eq!(call(&mut key, 0, per_second, 1, true).remaining, 0);
    }

    #[test]
    fn a_last_update_in_the_future_refills_nothing() {
        let s = TokenState { period: 1000, at: 10_000, owed: 5000 };
        let d = decide(Some(Stored { state: s, expire_at: Some(u64::MAX) }), 2_000, P, Request::take(1, true));
        // Refill resumes when the clock is back at 10 000: 8 s + 1 s for the next token.
        assert_eq!(d.reply.to_array(), [0, 5, 0, 9000, 13_000]);
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        let m = i64::MAX as u64;
        let p = TokenParams { capacity: m, rate: 1, period: m };
        let d = decide(None, 1, p, Request::take(m, false));
        assert!(d.reply.allowed);
        assert_eq!(d.reply.reset_after_ms, i64::MAX);
        let s = TokenState { period: 1, at: 0, owed: u128::MAX };
        let d = decide(Some(Stored { state: s, expire_at: Some(u64::MAX) }), m, p, Request::take(1, false));
        assert!(!d.reply.allowed);
    }

    /// Property: over any stretch, admitted <= capacity + rate*T/period; under saturating
    /// demand the shortfall stays bounded (no drift); remaining and retry_after are exact.
    #[test]
    fn property_no_more_than_refill_allows_and_no_drift() {
        let mut rng = Rng::new(0x70CE);
        for _case in 0..300 {
            let p = TokenParams { capacity: rng.range(1, 20), rate: rng.range(1, 7), period: rng.range(1, 100) };
            let mut key = SimKey::default();
            let t0 = rng.range(0, 1 << 40);
            let mut now = t0;
            let clock_steps_back = rng.chance(2);
            let mut admitted: Vec<(Millis, u64)> = Vec::new();
            for _step in 0..300 {
                now = if clock_steps_back { rng.advance(now, p.period * 3) } else { rng.forward(now, p.period * 3) };
                let cost = rng.range(1, p.capacity + 1);
                let peek = rng.chance(10);
                let before = key.clone();
                let reply = call(&mut key, now, p, cost, peek);
                if reply.allowed && !peek {
                    admitted.push((now, cost));
                }
                if !clock_steps_back {
                    // Every stretch [a, now]: admitted <= capacity + rate*(now - a)/period.
                    for &(a, _) in &admitted {
                        let within: u128 = admitted.iter().filter(|(t, _)| *t >= a).map(|e| u128::from(e.1)).sum();
                        let bound = u128::from(p.capacity) * u128::from(p.period) + u128::from(p.rate) * u128::from(now - a);
                        assert!(within * u128::from(p.period) <= bound, "bucket over-admitted");
                    }
                }
                check_reply(&before, now, cost, peek, reply, true, |k, t, c, pk| call(k, t, p, c, pk));
                if !peek {
                    check_refund_and_force(&key, now, p.capacity, rng.range(1, p.capacity + 1), true, |k, t, r| call_req(k, t, p, r));
                }
            }
        }
    }

    /// No drift: saturating demand of cost 1 every millisecond for a long time admits
    /// exactly capacity + floor(rate * T / period), whatever the ratio.
    #[test]
    fn property_saturating_demand_does_not_drift() {
        let mut rng = Rng::new(0xD81F7);
        for _case in 0..50 {
            // At most one token a millisecond and room for two, so polling every millisecond
            // never finds the bucket overflowing (what a full bucket wastes is not drift).
            let period = rng.range(1, 97);
            let p = TokenParams { capacity: rng.range(2, 10), rate: rng.range(1, period), period };
            let mut key = SimKey::default();
            let span = 20_000;
            let mut got = 0u128;
            for t in 0..=span {
                // Drain all that is there at each millisecond.
                let r = call(&mut key, t, p, 1, true);
                if r.remaining > 0 {
                    assert!(call(&mut key, t, p, r.remaining, false).allowed);
                    got += u128::from(r.remaining);
                }
            }
            let expect = u128::from(p.capacity) + u128::from(p.rate) * u128::from(span) / u128::from(p.period);
            assert_eq!(got, expect, "{p:?}");
        }
    }
}
