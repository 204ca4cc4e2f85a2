//! RL.LEAKY: leaky bucket as a queue (traffic shaping). Units leave at `rate` per `period`,
//! evenly spaced: one unit takes `I = period / rate` to leave. The state is the drain time
//! `D`, the instant the queue is empty; the backlog at `now` is `max(0, D - now)`. A request is
//! admitted iff `backlog + cost * I <= capacity * I`; it is told to wait `delay_ms = backlog`
//! (rounded up: never early) and `D` becomes `max(D, now) + cost * I`.
//!
//! `D` is kept exactly in units of 1/rate ms (`D * rate`), so `I` is the integer `period`
//! there: a fractional interval accumulates no rounding, and delays do not drift. A drain time
//! in the future is the point of the state, so a clock that steps back only makes the backlog
//! look longer (never admits more).

use super::token::TokenParams;
use super::{
    clamp_time, div_ceil, div_floor, refund_reply, rescale_up, wait_ms, Decision, Millis, Mode, Reply, Request, Store, Stored, NEVER, PEEK,
};

/// What is stored: the rate the drain time is expressed in, and the drain time in units of
/// 1/rate ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeakyState {
    pub rate: u64,
    pub drain: u128,
}

/// The stored drain time in units of 1/`rate` ms; re-expressed, rounding up (later, never in
/// the client's favour), if the rate changed.
fn drain_in(s: &LeakyState, rate: u64) -> u128 {
    rescale_up(s.drain, s.rate, rate)
}

/// Decides one RL.LEAKY call. `stored` is the state as read and whether its key has a TTL.
/// When admitted, `retry_after_ms` carries the delay before the request may proceed.
pub fn decide(stored: Option<Stored<LeakyState>>, now: Millis, p: TokenParams, req: Request) -> Decision<LeakyState> {
    if req.mode == Mode::Refund {
        return refund(stored, now, p, req.cost);
    }
    let rate = u128::from(p.rate);
    let period = u128::from(p.period);
    // now, rate, capacity and period are below 2^63: these products fit in 128 bits.
    let now_s = u128::from(now) * rate;
    let drain = stored.map_or(now_s, |s| drain_in(&s.state, p.rate));
    let backlog = drain.saturating_sub(now_s);
    let room = (u128::from(p.capacity) * period).saturating_sub(backlog);
    let remaining_now = u64::try_from(div_floor(room, period)).unwrap_or(u64::MAX);
    let fits = req.forced() || req.cost <= remaining_now;
    // Milliseconds until the backlog has drained down to `target`.
    let until = |backlog: u128, target: u128| wait_ms(div_ceil(backlog.saturating_sub(target), rate));

    if fits && !req.peek {
        // FORCE may queue past the capacity.
        let new_drain = drain.max(now_s).saturating_add(u128::from(req.cost) * period);
        return Decision {
            reply: Reply {
                allowed: true,
                limit: p.capacity,
                remaining: remaining_now.saturating_sub(req.cost),
                retry_after_ms: until(backlog, 0),
                reset_after_ms: until(new_drain - now_s, 0),
            },
            // The queue is empty, and the key carries nothing, once it has drained.
            store: Some(Store { state: LeakyState { rate: p.rate, drain: new_drain }, expire_at: clamp_time(div_ceil(new_drain, rate)) }),
        };
    }

    let retry_after_ms = if fits {
        // Only a PEEK gets here admitted: it reports the delay the request would be given.
        until(backlog, 0)
    } else if req.cost > p.capacity {
        NEVER
    } else {
        until(backlog, u128::from(p.capacity - req.cost) * period)
    };
    // A hand-written state without TTL gets one on a denial, so it cannot outlive its use.
    let needs_ttl = !req.peek && stored.is_some_and(|s| !s.has_ttl());
    Decision {
        reply: Reply { allowed: fits, limit: p.capacity, remaining: remaining_now, retry_after_ms, reset_after_ms: until(backlog, 0) },
        store: needs_ttl.then(|| Store {
            state: LeakyState { rate: p.rate, drain },
            expire_at: clamp_time(div_ceil(drain, rate).max(u128::from(now) + 1)),
        }),
    }
}

/// REFUND: takes up to `units` off the backlog, the most recently queued first (the drain
/// time moves earlier, never before now). An empty queue has nothing to give back.
fn refund(stored: Option<Stored<LeakyState>>, now: Millis, p: TokenParams, units: u64) -> Decision<LeakyState> {
    let rate = u128::from(p.rate);
    let now_s = u128::from(now) * rate;
    let store = stored.and_then(|Stored { state: s, expire_at }| {
        let has_ttl = expire_at.is_some();
        let drain = drain_in(&s, p.rate);
        let new_drain = drain.saturating_sub(u128::from(units) * u128::from(p.period)).max(now_s);
        // A hand-written state without TTL gets one, as on a denial.
        (drain > now_s || !has_ttl).then(|| Store {
            state: LeakyState { rate: p.rate, drain: new_drain },
            expire_at: clamp_time(div_ceil(new_drain, rate).max(u128::from(now) + 1)),
        })
    });
    let after = store.as_ref().map_or(stored, |s| Some(s.stored()));
    Decision { reply: refund_reply(decide(after, now, p, PEEK).reply), store }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::{check_refund_and_force, check_reply, Rng, SimKey};

    fn call(key: &mut SimKey<LeakyState>, now: Millis, p: TokenParams, cost: u64, peek: bool) -> Reply {
        call_req(key, now, p, Request::take(cost, peek))
    }

    fn call_req(key: &mut SimKey<LeakyState>, now: Millis, p: TokenParams, req: Request) -> Reply {
        key.call(now, |stored| decide(stored, now, p, req))
    }

    /// 3 per 10 ms: one unit every 3.33 ms, room for 4 units.
    const P: TokenParams = TokenParams { capacity: 4, rate: 3, period: 10 };

    #[test]
    fn a_burst_is_spread_at_the_drain_rate_not_rejected() {
        let mut key = SimKey::default();
        // Delays ceil(k * 10/3): 0, 4, 7, 10; the fifth would overflow the queue.
        let delays: Vec<i64> = (0..4).map(|_| call(&mut key, 1000, P, 1, false)).map(|r| r.retry_after_ms).collect();
        assert_eq!(delays, [0, 4, 7, 10]);
        let denied = call(&mut key, 1000, P, 1, false);
        // Backlog 40/3 ms; room for one unit when it is down to 30/3: after 10/3 ms, so 4 ms.
        assert_eq!(denied.to_array(), [0, 4, 0, 4, 14]);
        // Waiting the retry admits, with the delay the queue still holds.
        let r = call(&mut key, 1004, P, 1, false);
        assert!(r.allowed);
        assert_eq!(r.retry_after_ms, 10);
    }

    #[test]
    fn an_empty_queue_admits_without_delay_and_expires_when_drained() {
        let mut key = SimKey::default();
        let r = call(&mut key, 5000, P, 2, false);
        assert_eq!(r.to_array(), [1, 4, 2, 0, 7]);
        assert_eq!(key.get(5000).map(|(_, ttl)| ttl), Some(Some(5007)));
        // Once drained the key is gone: a full, empty bucket again.
        assert_eq!(call(&mut key, 5007, P, 1, true).to_array(), [1, 4, 4, 0, 0]);
    }

    #[test]
    fn cost_above_capacity_is_never_admissible() {
        let mut key = SimKey::default();
        assert_eq!(call(&mut key, 0, P, 5, false).to_array(), [0, 4, 4, -1, 0]);
    }

    #[test]
    fn a_rate_change_keeps_the_drain_time() {
        let mut key = SimKey::default();
        call(&mut key, 0, P, 3, false); // drains at 10 ms
        let faster = TokenParams { capacity: 4, rate: 7, period: 10 };
        // Backlog still 10 ms, which at 7 per 10 ms is 7 queued units: no room of 4. One unit
        // fits once 3 are left (30/7 ms), after 40/7 ms: 6 ms.
        assert_eq!(call(&mut key, 0, faster, 1, true).to_array(), [0, 4, 0, 6, 10]);
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        let m = i64::MAX as u64;
        let p = TokenParams { capacity: m, rate: m, period: m };
        let mut key = SimKey::default();
        assert!(call(&mut key, m - 1, p, m, false).allowed);
        assert!(!call(&mut key, m - 1, p, 1, false).allowed);
        let s = LeakyState { rate: 1, drain: u128::MAX };
        let d = decide(
            Some(Stored { state: s, expire_at: Some(u64::MAX) }),
            m,
            TokenParams { capacity: 1, rate: m, period: 1 },
            Request::take(1, false),
        );
        assert!(!d.reply.allowed);
    }

    /// Against a reference model kept in exact fractions: every admitted request's delay is its
    /// exact start time (the previous drain time, or now) rounded up, so consecutive requests
    /// are spaced by their cost times the interval; the queue never holds more than capacity;
    /// and every reply is honest (remaining exact, retry waits minimal).
    #[test]
    fn property_delays_follow_the_drain_rate_and_the_queue_stays_within_capacity() {
        let mut rng = Rng::new(0x1EA4);
        for _case in 0..300 {
            let p = TokenParams { capacity: rng.range(1, 20), rate: rng.range(1, 9), period: rng.range(1, 100) };
            let mut key = SimKey::default();
            let mut now = rng.range(0, 1 << 40);
            let clock_steps_back = rng.chance(3);
            // Reference: the drain time times rate (exact), or None before any admission.
            let mut reference: Option<u128> = None;
            let (rate, period, capacity) = (u128::from(p.rate), u128::from(p.period), u128::from(p.capacity));
            for _step in 0..300 {
                now = if clock_steps_back { rng.advance(now, p.period * 2) } else { rng.forward(now, p.period * 2) };
                let cost = rng.range(1, p.capacity + 2);
                let peek = rng.chance(10);
                let before = key.clone();
                // A key that has expired is gone for good, even if the clock then steps back.
                if before.clone().get(now).is_none() {
                    reference = None;
                }
                let reply = call(&mut key, now, p, cost, peek);
                let now_s = u128::from(now) * rate;
                let drain = reference.filter(|d| *d > now_s);
                let backlog = drain.map_or(0, |d| d - now_s);
                let admissible = backlog + u128::from(cost) * period <= capacity * period;
                assert_eq!(reply.allowed, admissible, "{p:?} now {now} cost {cost} backlog {backlog}");
                if reply.allowed {
                    // A PEEK reports the delay the request would be given, as the call would.
                    let start = drain.unwrap_or(now_s).max(now_s);
                    assert_eq!(reply.retry_after_ms as u128, (start - now_s).div_ceil(rate), "delay (peek: {peek})");
                    let new_drain = start + u128::from(cost) * period;
                    assert!(new_drain - now_s <= capacity * period, "queue over capacity");
                    if !peek {
                        reference = Some(new_drain);
                    }
                }
                check_reply(&before, now, cost, peek, reply, true, |k, t, c, pk| call(k, t, p, c, pk));
                if !peek {
                    // A clock stepped back leaves the drain time far ahead: a backlog beyond capacity is
                    // debt, from which a refund need not bring anything back.
                    check_refund_and_force(&key, now, p.capacity, rng.range(1, p.capacity + 1), !clock_steps_back, |k, t, r| {
                        call_req(k, t, p, r)
                    });
                }
            }
        }
    }
}
