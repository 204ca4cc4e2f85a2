//! RL.SLIDING: sliding window counter. Two adjacent epoch-aligned windows; the previous one is
//! weighted by how much of it the sliding window still overlaps:
//! `estimate = cur + prev * (window - elapsed) / window`, compared exactly by multiplying
//! through by `window` in 128-bit integers (no floating point).

use super::fixed::WindowParams;
use super::{clamp_time, refund_reply, wait_ms, window_start, Decision, Millis, Mode, Reply, Request, Store, Stored, NEVER, PEEK};

/// What is stored: the window length the counters were kept with, the start of the window
/// `cur` counts, and the two counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlidingState {
    pub window: Millis,
    pub start: Millis,
    pub prev: u64,
    pub cur: u64,
}

/// The stored counters as two events, each placed at the latest instant its requests could
/// have happened (the last millisecond of its window). With unchanged numbers and a forward
/// clock, counting these events in the current windows is exactly the two-window rotation;
/// when the window length changed it errs towards counting, never towards admitting.
/// (start, window <= 2^63-1, so the instants fit in 64 bits.)
fn events(s: &SlidingState) -> [(u64, u64); 2] {
    let cur_at = s.start.saturating_add(s.window) - 1;
    // A previous window before the epoch held nothing.
    let prev = if s.start > 0 { (s.start - 1, s.prev) } else { (0, 0) };
    [prev, (cur_at, s.cur)]
}

/// The (fading, full) counters at `t`: events in the window containing `t` (or later: an
/// event in the future, left by a clock that has since gone back, is treated as now) count
/// fully; events in the window before fade; older ones are gone.
fn counters_at(events: &[(u64, u64); 2], t: u64, w: u64) -> (u64, u64) {
    counters_in(events, t, window_start(t, w), w)
}

/// [`counters_at`] with `start`, the start of the window containing `t`, already known (a
/// division fewer on the hot path).
fn counters_in(events: &[(u64, u64); 2], t: u64, start: u64, w: u64) -> (u64, u64) {
    let mut fading = 0u64;
    let mut full = 0u64;
    for &(at, count) in events {
        let at = at.min(t);
        if at >= start {
            full = full.saturating_add(count);
        } else if u128::from(at) + u128::from(w) >= u128::from(start) {
            fading = fading.saturating_add(count);
        }
    }
    (fading, full)
}

/// Decides one RL.SLIDING call. `stored` is the state as read (None: missing key) and
/// whether the key has a TTL.
pub fn decide(stored: Option<Stored<SlidingState>>, now: Millis, p: WindowParams, req: Request) -> Decision<SlidingState> {
    if req.mode == Mode::Refund {
        return refund(stored, now, p, req.cost);
    }
    let w = u128::from(p.window);
    let start = window_start(now, p.window);
    let end = u128::from(start) + w;
    let events = stored.map_or([(0, 0); 2], |s| events(&s.state));
    let (prev, cur) = counters_in(&events, now, start, p.window);
    let elapsed = u128::from(now - start);
    // estimate * window, exactly.
    let weighted = u128::from(cur) * w + u128::from(prev) * (w - elapsed);
    let capacity = u128::from(p.limit) * w;
    let room = capacity.saturating_sub(weighted);
    // Both fit in 64 bits in every realistic call: divide there (128-bit division is a call).
    let remaining_now = match (u64::try_from(room), u64::try_from(w)) {
        (Ok(room), Ok(w)) => room / w,
        _ => u64::try_from(room / w).unwrap_or(u64::MAX),
    };
    let fits = req.forced() || req.cost <= remaining_now;

    if fits && !req.peek {
        let new_cur = cur.saturating_add(req.cost);
        return Decision {
            reply: Reply {
                allowed: true,
                limit: p.limit,
                // 0 when FORCE went past the limit.
                remaining: remaining_now.saturating_sub(req.cost),
                retry_after_ms: 0,
                // Both counters are gone once the next window has passed too.
                reset_after_ms: wait_ms(end + w - u128::from(now)),
            },
            store: Some(Store { state: SlidingState { window: p.window, start, prev, cur: new_cur }, expire_at: clamp_time(end + w) }),
        };
    }

    let retry_after_ms = if fits {
        0
    } else if req.cost > p.limit {
        NEVER
    } else {
        wait_ms(admitted_at(&events, now, w, p.limit, req.cost) - u128::from(now))
    };
    let reset_after_ms = wait_ms(empty_at(&events, now, w) - u128::from(now));
    // A hand-written state without TTL gets one on a denial, so it cannot outlive its use.
    let needs_ttl = !req.peek && stored.is_some_and(|s| !s.has_ttl());
    Decision {
        reply: Reply { allowed: fits, limit: p.limit, remaining: remaining_now, retry_after_ms, reset_after_ms },
        store: needs_ttl.then(|| Store {
            state: SlidingState { window: p.window, start, prev, cur },
            expire_at: clamp_time(u128::from(now) + u128::from(reset_after_ms.max(1) as u64)),
        }),
    }
}

/// REFUND: gives back up to `units`, from the current window first, then the previous one.
/// Nothing to give back (a missing key, empty counters): nothing is written.
fn refund(stored: Option<Stored<SlidingState>>, now: Millis, p: WindowParams, units: u64) -> Decision<SlidingState> {
    let store = stored.and_then(|Stored { state: s, expire_at }| {
        let has_ttl = expire_at.is_some();
        let (prev, cur) = counters_at(&events(&s), now, p.window);
        let from_cur = units.min(cur);
        let from_prev = (units - from_cur).min(prev);
        let start = window_start(now, p.window);
        let end = u128::from(start) + u128::from(p.window);
        // A hand-written state without TTL gets one, as on a denial.
        (from_cur > 0 || from_prev > 0 || !has_ttl).then(|| Store {
            state: SlidingState { window: p.window, start, prev: prev - from_prev, cur: cur - from_cur },
            expire_at: clamp_time(end + u128::from(p.window)),
        })
    });
    let after = store.as_ref().map_or(stored, |s| Some(s.stored()));
    Decision { reply: refund_reply(decide(after, now, p, PEEK).reply), store }
}

/// The instant from which no event counts any more (`now` if none does).
fn empty_at(events: &[(u64, u64); 2], now: Millis, w: u128) -> u128 {
    let now = u128::from(now);
    let gone_at = |at: u64| u128::from(at) - u128::from(at) % w + 2 * w;
    events.iter().filter(|(_, count)| *count > 0).map(|&(at, _)| gone_at(at)).filter(|gone| *gone > now).max().unwrap_or(now)
}

/// The first instant `t >= now` at which a request of `cost` (<= limit) is admitted if no
/// other traffic comes.
///
/// Within one window the counters are fixed and the estimate only fades:
/// `full*w + fading*(window_end - t) + cost*w <= limit*w` solves for `t` directly. The
/// counters change only where an event starts to fade or is gone, so the current window and
/// those two windows per event are the only ones to try, earliest first.
fn admitted_at(events: &[(u64, u64); 2], now: Millis, w: u128, limit: u64, cost: u64) -> u128 {
    let now = u128::from(now);
    let current = now - now % w;
    let own = |i: usize| events.get(i).map_or(current, |&(at, _)| u128::from(at) - u128::from(at) % w);
    let mut candidates = [current, own(0) + w, own(0) + 2 * w, own(1) + w, own(1) + 2 * w];
    candidates.sort_unstable();
    for &window_start in candidates.iter().filter(|s| **s >= current) {
        let t0 = now.max(window_start);
        // t0 <= now + 3 windows and w <= 2^63-1; clamp rather than wrap for the u64 helper.
        let (fading, full) = counters_at(events, u64::try_from(t0).unwrap_or(u64::MAX), u64::try_from(w).unwrap_or(u64::MAX));
        let Some(room) = u128::from(limit).checked_sub(u128::from(full) + u128::from(cost)) else {
            continue;
        };
        if fading == 0 {
            return t0;
        }
        // fading * (window_end - t) <= room * w
        let window_end = window_start + w;
        let t = t0.max(window_end.saturating_sub(room * w / u128::from(fading)));
        if t < window_end {
            return t;
        }
    }
    // Unreachable for cost <= limit: past the last candidate no event counts.
    empty_at(events, now as Millis, w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::{check_refund_and_force, check_reply, Rng, SimKey};

    fn call(key: &mut SimKey<SlidingState>, now: Millis, p: WindowParams, cost: u64, peek: bool) -> Reply {
        call_req(key, now, p, Request::take(cost, peek))
    }

    fn call_req(key: &mut SimKey<SlidingState>, now: Millis, p: WindowParams, req: Request) -> Reply {
        key.call(now, |stored| decide(stored, now, p, req))
    }

    const P: WindowParams = WindowParams { limit: 10, window: 1000 };

    #[test]
    fn refund_comes_off_the_current_window_first() {
        let refund = |units| Request { cost: units, peek: false, mode: crate::algo::Mode::Refund };
        let mut key = SimKey::default();
        call(&mut key, 500, P, 8, false);
        call(&mut key, 1250, P, 4, false);
        // cur 4 -> 1, prev 8 untouched: estimate 1 + 8 * 750/1000 = 7, 3 left (off prev: 2).
        assert_eq!(call_req(&mut key, 1250, P, refund(3)).to_array(), [1, 10, 3, 0, 1750]);
        // cur 1 -> 0, then prev 8 -> 6: estimate 6 * 750/1000 = 4.5, 5 left.
        assert_eq!(call_req(&mut key, 1250, P, refund(3)).to_array(), [1, 10, 5, 0, 750]);
    }

    #[test]
    fn previous_window_is_weighted_by_its_overlap() {
        let mut key = SimKey::default();
        call(&mut key, 500, P, 8, false);
        // At 1250: estimate = 0 + 8 * 750/1000 = 6 -> 4 left.
        assert_eq!(call(&mut key, 1250, P, 1, true).to_array(), [1, 10, 4, 0, 750]);
        assert_eq!(call(&mut key, 1250, P, 4, false).to_array(), [1, 10, 0, 0, 2000 - 250]);
        // estimate = 4 + 8 * 750/1000 = 10: full; 1 more fits once 8*(2000-t) <= 5*1000,
        // i.e. t >= 1375.
        assert_eq!(call(&mut key, 1250, P, 1, false).to_array(), [0, 10, 0, 125, 1750]);
        assert!(call(&mut key, 1375, P, 1, true).allowed);
        assert!(!call(&mut key, 1374, P, 1, true).allowed);
    }

    #[test]
    fn remaining_is_the_floor_of_what_is_left() {
        let mut key = SimKey::default();
        call(&mut key, 0, P, 3, false);
        // At 1001: estimate = 3 * 999/1000 = 2.997 -> 7 left (7.003 floored).
        assert_eq!(call(&mut key, 1001, P, 1, true).remaining, 7);
    }

    #[test]
    fn retry_after_crosses_into_the_next_window() {
        let mut key = SimKey::default();
        call(&mut key, 100, P, 10, false);
        // Denied until cur (10) has faded: 10 * (2000 - t) <= 9 * 1000 -> t >= 1100.
        assert_eq!(call(&mut key, 200, P, 1, false).to_array(), [0, 10, 0, 900, 1800]);
        assert!(call(&mut key, 1100, P, 1, true).allowed);
        assert!(!call(&mut key, 1099, P, 1, true).allowed);
    }

    #[test]
    fn key_expires_when_neither_counter_matters() {
        let d = decide(None, 1234, P, Request::take(1, false));
        assert_eq!(d.store.map(|s| s.expire_at), Some(3000));
    }

    #[test]
    fn a_future_window_is_treated_as_now() {
        // Stored by a clock 5 s ahead: both counters count fully in the current window.
        let s = SlidingState { window: 1000, start: 6000, prev: 4, cur: 5 };
        assert_eq!(counters_at(&events(&s), 1500, 1000), (0, 9));
        // ...and keep counting until the clock has passed them: cur (5) is gone at 8000.
        let d = decide(Some(Stored { state: s, expire_at: Some(u64::MAX) }), 1500, P, Request::take(6, true));
        // 6 fit once cur (5, fading over [7000, 8000)) is down to 4: 5 * (8000 - t) <= 4000.
        assert_eq!(d.reply.to_array(), [0, 10, 1, 7200 - 1500, 8000 - 1500]);
    }

    #[test]
    fn window_change_rebases_without_reset() {
        // 1 s windows -> 10 s windows: both old windows fall in the current 10 s one.
        let s = SlidingState { window: 1000, start: 12_000, prev: 4, cur: 5 };
        assert_eq!(counters_at(&events(&s), 12_500, 10_000), (0, 9));
        // 10 s windows -> 1 s: the old current window's latest instant is still to come.
        let s = SlidingState { window: 10_000, start: 10_000, prev: 4, cur: 5 };
        assert_eq!(counters_at(&events(&s), 12_500, 1000), (0, 5));
    }

    /// Property: with an unchanged window and a forward clock, the decision equals the
    /// formula computed from a reference model that keeps every admitted request; replies are
    /// honest (remaining exact, waiting retry_after admits) under any clock.
    #[test]
    fn property_equals_the_formula_and_replies_are_honest() {
        let mut rng = Rng::new(0x51D1);
        for _case in 0..400 {
            let p = WindowParams { limit: rng.range(1, 30), window: rng.range(1, 300) };
            let mut key = SimKey::default();
            let mut now = rng.range(0, 1 << 40);
            let clock_steps_back = rng.chance(2);
            let mut admitted: Vec<(Millis, u64)> = Vec::new();
            for _step in 0..200 {
                now = if clock_steps_back { rng.advance(now, p.window * 3) } else { rng.forward(now, p.window * 3) };
                let cost = rng.range(1, p.limit + 2);
                let peek = rng.chance(10);
                let before = key.clone();
                let reply = call(&mut key, now, p, cost, peek);
                if !clock_steps_back {
                    let start = window_start(now, p.window);
                    let units = |from: u64, to: u64| -> u128 {
                        admitted.iter().filter(|(t, _)| *t >= from && *t < to).map(|e| u128::from(e.1)).sum()
                    };
                    let cur = units(start, start + p.window);
                    let prev = units(start.saturating_sub(p.window), start);
                    let prev = if start >= p.window { prev } else { 0 };
                    let w = u128::from(p.window);
                    let weighted = cur * w + prev * (w - u128::from(now - start));
                    let expect = weighted + u128::from(cost) * w <= u128::from(p.limit) * w;
                    assert_eq!(reply.allowed, expect, "formula disagrees");
                }
                if reply.allowed && !peek {
                    admitted.push((now, cost));
                }
                // The formula only fixes minimal waits while the clock runs forward.
                check_reply(&before, now, cost, peek, reply, !clock_steps_back, |k, t, c, pk| call(k, t, p, c, pk));
                if !peek {
                    check_refund_and_force(&key, now, p.limit, rng.range(1, p.limit + 1), false, |k, t, r| call_req(k, t, p, r));
                }
            }
        }
    }
}
