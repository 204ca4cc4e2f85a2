//! RL.FIXED: fixed window counter, windows aligned to the Unix epoch.
//!
//! The stored state is the count alone (a plain integer string, so `GET` shows it); the
//! window it belongs to is carried by the key's expiry. A count counts for as long as its key
//! lives: a key whose expiry lies beyond the current window (the clock went back, or the
//! window was shortened) keeps its count rather than being reset, so a clock step never
//! admits more; each admission moves the expiry to the current window's end.

use super::{refund_reply, wait_ms, window_start, Decision, Millis, Mode, Reply, Request, Store, Stored, NEVER, PEEK};

/// Parameters of a window-based limiter (RL.FIXED, RL.SLIDING, RL.LOG).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowParams {
    pub limit: u64,
    pub window: Millis,
}

/// Decides one RL.FIXED call on the stored count. The new state, if any, is the count to store.
pub fn decide(stored: Option<Stored<u64>>, now: Millis, p: WindowParams, req: Request) -> Decision<u64> {
    if req.mode == Mode::Refund {
        return refund(stored, now, p, req.cost);
    }
    let window_end = super::clamp_time(u128::from(window_start(now, p.window)) + u128::from(p.window));
    // A key past its expiry is gone (Redis never hands it out; the simulated store neither).
    let live = stored.filter(|s| s.expire_at.is_none_or(|at| at > now));
    let count = live.map_or(0, |s| s.state);
    // When the current count is forgotten if no one writes: the key's expiry, or for a key
    // without one, the expiry the next write gives it.
    let forgotten_at = live.and_then(|s| s.expire_at).unwrap_or(window_end);
    let until_forgotten = wait_ms(u128::from(forgotten_at.saturating_sub(now)));

    let fits = req.forced() || u128::from(count) + u128::from(req.cost) <= u128::from(p.limit);
    let retry_after_ms = if fits {
        0
    } else if req.cost > p.limit {
        NEVER
    } else {
        until_forgotten
    };

    if fits && !req.peek {
        // FORCE may go past the limit; the count stays readable (at most 2^63-1).
        let new_count = count.saturating_add(req.cost).min(i64::MAX as u64);
        return Decision {
            reply: Reply {
                allowed: true,
                limit: p.limit,
                remaining: p.limit.saturating_sub(new_count),
                retry_after_ms: 0,
                reset_after_ms: wait_ms(u128::from(window_end.saturating_sub(now))),
            },
            store: Some(Store { state: new_count, expire_at: window_end }),
        };
    }

    // PEEK, or denied: nothing counted. A hand-written key without a TTL gets one on a denial
    // (the only cleanup there is), so that no key outlives its window.
    let needs_ttl = !req.peek && live.is_some_and(|s| s.expire_at.is_none());
    Decision {
        reply: Reply {
            allowed: fits,
            limit: p.limit,
            remaining: p.limit.saturating_sub(count),
            retry_after_ms,
            reset_after_ms: if count == 0 { 0 } else { until_forgotten },
        },
        store: needs_ttl.then_some(Store { state: count, expire_at: window_end }),
    }
}

/// REFUND: gives back up to `units` of the current count. What is kept is the current
/// window's count under the current numbers, so the key expires at that window's end, as after
/// an admission: a REFUND after the window grew must not leave the old, shorter expiry (the
/// kept count would be forgotten early and more than `limit` admitted). A missing or empty
/// limiter has nothing to give back and nothing is written (but a hand-written key without a
/// TTL gets one, as on a denial).
fn refund(stored: Option<Stored<u64>>, now: Millis, p: WindowParams, units: u64) -> Decision<u64> {
    let live = stored.filter(|s| s.expire_at.is_none_or(|at| at > now));
    let window_end = super::clamp_time(u128::from(window_start(now, p.window)) + u128::from(p.window));
    let store =
        live.filter(|s| s.state > 0 || s.expire_at.is_none()).map(|s| Store { state: s.state - units.min(s.state), expire_at: window_end });
    let after = store.as_ref().map_or(live, |s| Some(s.stored()));
    Decision { reply: refund_reply(decide(after, now, p, PEEK).reply), store }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::{check_refund_and_force, check_reply, Rng, SimKey};

    const P: WindowParams = WindowParams { limit: 3, window: 1000 };

    fn call(key: &mut SimKey<u64>, now: Millis, p: WindowParams, cost: u64, peek: bool) -> Reply {
        call_req(key, now, p, Request::take(cost, peek))
    }

    fn call_req(key: &mut SimKey<u64>, now: Millis, p: WindowParams, req: Request) -> Reply {
        let stored = key.get(now).map(|(state, expire_at)| Stored { state, expire_at });
        let d = decide(stored, now, p, req);
        key.apply(d.store);
        d.reply
    }

    #[test]
    fn counts_up_to_the_limit_then_denies_until_the_window_ends() {
        let mut key = SimKey::default();
        let r = call(&mut key, 10_250, P, 1, false);
        assert_eq!(r.to_array(), [1, 3, 2, 0, 750]);
        assert_eq!(call(&mut key, 10_300, P, 2, false).to_array(), [1, 3, 0, 0, 700]);
        assert_eq!(call(&mut key, 10_999, P, 1, false).to_array(), [0, 3, 0, 1, 1]);
        assert_eq!(call(&mut key, 11_000, P, 1, false).to_array(), [1, 3, 2, 0, 1000]);
    }

    #[test]
    fn cost_above_limit_is_never_admissible() {
        let mut key = SimKey::default();
        assert_eq!(call(&mut key, 5, P, 4, false).to_array(), [0, 3, 3, NEVER, 0]);
        assert!(key.value.is_none());
    }

    #[test]
    fn peek_changes_nothing_and_describes_a_missing_key_as_full() {
        let mut key = SimKey::default();
        assert_eq!(call(&mut key, 100, P, 1, true).to_array(), [1, 3, 3, 0, 0]);
        assert!(key.value.is_none());
        call(&mut key, 100, P, 3, false);
        let before = key.clone();
        assert_eq!(call(&mut key, 200, P, 1, true).to_array(), [0, 3, 0, 800, 800]);
        assert_eq!(key, before);
    }

    #[test]
    fn limit_change_keeps_the_count() {
        let mut key = SimKey::default();
        call(&mut key, 0, P, 3, false);
        let raised = WindowParams { limit: 10, window: 1000 };
        assert_eq!(call(&mut key, 1, raised, 1, false).to_array(), [1, 10, 6, 0, 999]);
    }

    #[test]
    fn a_key_expiring_beyond_the_window_keeps_its_count_until_it_expires() {
        // Clock stepped back by 5 s: the stored count (expiring at 10 000) still counts.
        let stored = Some(Stored { state: 3, expire_at: Some(10_000) });
        let d = decide(stored, 5_000, P, Request::take(1, false));
        assert_eq!(d.reply.to_array(), [0, 3, 0, 5_000, 5_000]);
        assert_eq!(d.store, None);
    }

    #[test]
    fn a_key_without_ttl_gets_one_on_denial() {
        let stored = Some(Stored { state: 7, expire_at: None });
        let d = decide(stored, 1_500, P, Request::take(1, false));
        assert_eq!(d.reply.to_array(), [0, 3, 0, 500, 500]);
        assert_eq!(d.store, Some(Store { state: 7, expire_at: 2_000 }));
    }

    #[test]
    fn refund_and_force() {
        let req = |cost, mode| Request { cost, peek: false, mode };
        let mut key = SimKey::default();
        // Nothing to give back on a missing key: nothing written.
        assert_eq!(call_req(&mut key, 100, P, req(2, crate::algo::Mode::Refund)).to_array(), [1, 3, 3, 0, 0]);
        assert_eq!(key.value, None);
        // FORCE goes past the limit: in debt, remaining 0 until refunded below the limit.
        assert_eq!(call_req(&mut key, 100, P, req(5, crate::algo::Mode::Force)).to_array(), [1, 3, 0, 0, 900]);
        assert_eq!(call_req(&mut key, 100, P, req(1, crate::algo::Mode::Refund)).to_array(), [1, 3, 0, 0, 900]);
        assert_eq!(call_req(&mut key, 100, P, req(3, crate::algo::Mode::Refund)).to_array(), [1, 3, 2, 0, 900]);
        assert_eq!(key.value, Some((1, Some(1000))));
    }

    #[test]
    fn huge_numbers_do_not_overflow() {
        let p = WindowParams { limit: i64::MAX as u64, window: i64::MAX as u64 };
        let d = decide(Some(Stored { state: u64::MAX, expire_at: None }), u64::MAX, p, Request::take(p.limit, false));
        assert!(!d.reply.allowed);
        let d = decide(None, 1_700_000_000_000, p, Request::take(p.limit, false));
        assert_eq!(d.reply.to_array(), [1, i64::MAX, 0, 0, i64::MAX - 1_700_000_000_000]);
    }

    /// Property: against a reference model that keeps every admitted request with its time,
    /// no epoch-aligned window ever holds more than `limit` units, `remaining` is the largest
    /// cost admitted now, and `retry_after_ms` is honest and minimal.
    #[test]
    fn property_never_more_than_limit_per_window_and_honest_replies() {
        let mut rng = Rng::new(0xF1C5ED);
        for _case in 0..400 {
            let p = WindowParams { limit: rng.range(1, 20), window: rng.range(1, 200) };
            let mut key = SimKey::default();
            let mut now = rng.range(0, 1 << 40);
            let mut admitted: Vec<(Millis, u64)> = Vec::new();
            // Half the cases let the clock step back: replies must stay honest, but a window
            // revisited after a step back is no longer comparable with the model.
            let clock_steps_back = rng.chance(2);
            for _step in 0..200 {
                now = if clock_steps_back { rng.advance(now, p.window * 3) } else { rng.forward(now, p.window * 3) };
                let cost = rng.range(1, p.limit + 2);
                let peek = rng.chance(10);
                let before = key.clone();
                let reply = call(&mut key, now, p, cost, peek);
                let in_window: u64 =
                    admitted.iter().filter(|(t, _)| window_start(*t, p.window) == window_start(now, p.window)).map(|e| e.1).sum();
                if reply.allowed && !peek {
                    admitted.push((now, cost));
                    assert!(clock_steps_back || in_window + cost <= p.limit, "window over limit");
                }
                check_reply(&before, now, cost, peek, reply, true, |k, t, c, pk| call(k, t, p, c, pk));
                if !peek {
                    check_refund_and_force(&key, now, p.limit, rng.range(1, p.limit + 1), true, |k, t, r| call_req(k, t, p, r));
                }
            }
        }
    }
}
