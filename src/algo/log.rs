//! RL.LOG: sliding window log, exact. A request logged at `t` counts for every request at
//! `now` with `t <= now < t + window`; entries logged "in the future" (by a clock that has
//! since gone back) count until they leave, so a clock step never admits more.
//!
//! The log is seen through an iterator of entries, oldest first, so the pure decision does
//! not depend on how the store encodes them.

use super::fixed::WindowParams;
use super::{clamp_time, refund_reply, wait_ms, Millis, Reply, Request, NEVER, PEEK};

/// One logged request: when, and how many units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub at: Millis,
    pub units: u64,
}

/// What the decision needs to know of a stored log besides its entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LogSummary {
    /// Units of all entries, expired or not.
    pub total_units: u64,
    /// Time of the newest entry.
    pub newest: Option<Millis>,
    /// The key's expiry (None: no TTL).
    pub expire_at: Option<Millis>,
}

/// What one call changes in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogChange {
    /// Entries at the head that have left the window and may be dropped.
    pub expired_entries: usize,
    pub expired_units: u64,
    /// The entry to log (at `now`, or at the newest entry's time if that is later, so the log
    /// stays ordered).
    pub append: Entry,
    /// The key's expiry after the call, and whether the call moves it.
    pub expire_at: Millis,
    pub expire_moves: bool,
}

/// A log whose entries do not add up to the total its header claims: only a hand-edited or
/// damaged value can be like this (every write keeps the total exact).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damaged;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogDecision {
    pub reply: Reply,
    /// None: nothing to write.
    pub change: Option<LogChange>,
}

/// Decides one RL.LOG call over the stored entries (oldest first; an error from the iterator
/// is a stored log that cannot be read, and is returned as is; so is [`Damaged`]).
pub fn decide<E, I>(entries: I, summary: LogSummary, now: Millis, p: WindowParams, req: Request) -> Result<LogDecision, E>
where
    I: IntoIterator<Item = Result<Entry, E>>,
    E: From<Damaged>,
{
    let window = u128::from(p.window);
    let leaves_at = |e: &Entry| u128::from(e.at) + window;
    let mut entries = entries.into_iter();

    // Skip the entries that have left the window (they are dropped at the next write).
    let mut expired_entries = 0usize;
    let mut expired_units = 0u64;
    let mut first_live = None;
    for entry in entries.by_ref() {
        let entry = entry?;
        if leaves_at(&entry) > u128::from(now) {
            first_live = Some(entry);
            break;
        }
        expired_entries += 1;
        expired_units = expired_units.saturating_add(entry.units);
    }
    let live = summary.total_units.saturating_sub(expired_units);
    let remaining_now = p.limit.saturating_sub(live);
    let fits = req.forced() || req.cost <= remaining_now;
    let until_empty = |newest: Option<Millis>, live: u64| -> i64 {
        match newest {
            Some(t) if live > 0 => wait_ms((u128::from(t) + window).saturating_sub(u128::from(now))),
            _ => 0,
        }
    };

    if fits && !req.peek {
        let at = summary.newest.map_or(now, |t| t.max(now));
        // FORCE may go past the limit; the stored total stays readable (at most 2^63-1).
        let units = req.cost.min((i64::MAX as u64).saturating_sub(summary.total_units.saturating_sub(expired_units)));
        let live_after = live.saturating_add(units);
        let (expire_at, expire_moves) = expiry_after_write(at, p.window, summary.expire_at, true);
        return Ok(LogDecision {
            reply: Reply {
                allowed: true,
                limit: p.limit,
                remaining: remaining_now.saturating_sub(req.cost),
                retry_after_ms: 0,
                reset_after_ms: until_empty(Some(at), live_after),
            },
            change: Some(LogChange { expired_entries, expired_units, append: Entry { at, units }, expire_at, expire_moves }),
        });
    }

    let retry_after_ms = if fits {
        0
    } else if req.cost > p.limit {
        NEVER
    } else {
        // Wait for the oldest units to leave until `live - freed + cost <= limit`.
        let must_free = live - (p.limit - req.cost);
        let mut freed = 0u64;
        let mut leaves = None;
        for entry in first_live.map(Ok).into_iter().chain(entries) {
            let entry = entry?;
            freed = freed.saturating_add(entry.units);
            if freed >= must_free {
                leaves = Some(leaves_at(&entry));
                break;
            }
        }
        // The live entries hold fewer units than the header claims: no wait would ever admit.
        let at = leaves.ok_or(Damaged)?;
        wait_ms(at.saturating_sub(u128::from(now)))
    };
    Ok(LogDecision {
        reply: Reply {
            allowed: fits,
            limit: p.limit,
            remaining: remaining_now,
            retry_after_ms,
            reset_after_ms: until_empty(summary.newest, live),
        },
        change: None,
    })
}

/// The key's expiry after a write that leaves `newest` as the newest entry, and whether it
/// moves from `current`. The log must live until its newest units leave the window
/// (`newest + window`; only when `counts`, i.e. some unit is left), and the contract lets it
/// live up to one window longer: an expiry in that range is kept, so it is rewritten about
/// once a window rather than on every call; any other (left by a shorter or longer window, or
/// by units since refunded) moves to the far end of the range.
pub fn expiry_after_write(newest: Millis, window: Millis, current: Option<Millis>, counts: bool) -> (Millis, bool) {
    let must_live_until = if counts { u128::from(newest) + u128::from(window) } else { 0 };
    let may_live_until = u128::from(newest) + 2 * u128::from(window);
    match current {
        Some(at) if (must_live_until..=may_live_until).contains(&u128::from(at)) => (at, false),
        _ => (clamp_time(may_live_until), true),
    }
}

/// What a REFUND on a log decided: the reply, and the log to write (None: nothing changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRefund {
    pub reply: Reply,
    pub rewrite: Option<LogRewrite>,
}

/// A log rewritten whole: the entries kept, oldest first, and the key's expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogRewrite {
    pub entries: Vec<Entry>,
    pub expire_at: Millis,
}

/// Decides a REFUND of `units` on the stored log. `walk` gives the stored entries, oldest
/// first, from the start each time it is called (empty for a missing key); `summary` is the
/// stored log's. The reply is the limiter after the refund (a PEEK of it). The log is
/// rewritten when units were given back, or when a hand-written log lacks a TTL; its expiry
/// follows what is kept under the current numbers: the kept units count until the newest
/// leaves the current window.
pub fn refund<E, I>(walk: impl Fn() -> I, summary: LogSummary, now: Millis, p: WindowParams, units: u64) -> Result<LogRefund, E>
where
    I: IntoIterator<Item = Result<Entry, E>>,
    E: From<Damaged>,
{
    let (kept, changed) = give_back(walk(), now, p, units)?;
    // Kept entries mean a stored key: one without a TTL must get one.
    let needs_ttl = summary.expire_at.is_none() && !kept.is_empty();
    if !changed && !needs_ttl {
        let d = decide(walk(), summary, now, p, PEEK)?;
        return Ok(LogRefund { reply: refund_reply(d.reply), rewrite: None });
    }
    let newest = kept.last().map_or(now, |e| e.at);
    let total_units = kept.iter().map(|e| e.units).fold(0u64, u64::saturating_add);
    let (expire_at, _) = expiry_after_write(newest, p.window, summary.expire_at, total_units > 0);
    let after = LogSummary { total_units, newest: Some(newest), expire_at: Some(expire_at) };
    let d = decide(kept.iter().map(|e| Ok::<_, E>(*e)), after, now, p, PEEK)?;
    Ok(LogRefund { reply: refund_reply(d.reply), rewrite: Some(LogRewrite { entries: kept, expire_at }) })
}

/// The entries still in the window after giving back up to `units`, the
/// newest first, and whether anything was given back. Emptied entries are dropped from the
/// end, but one entry always stays (with 0 units if need be): an empty log is not a stored
/// value. (No entry at all when none is in the window.)
fn give_back<E, I>(entries: I, now: Millis, p: WindowParams, units: u64) -> Result<(Vec<Entry>, bool), E>
where
    I: IntoIterator<Item = Result<Entry, E>>,
{
    let mut live = Vec::new();
    for entry in entries {
        let entry = entry?;
        if u128::from(entry.at) + u128::from(p.window) > u128::from(now) {
            live.push(entry);
        }
    }
    if live.iter().all(|e| e.units == 0) {
        return Ok((live, false));
    }
    let mut left = units;
    for entry in live.iter_mut().rev() {
        let taken = left.min(entry.units);
        entry.units -= taken;
        left -= taken;
        if left == 0 {
            break;
        }
    }
    while live.len() > 1 && live.last().is_some_and(|e| e.units == 0) {
        live.pop();
    }
    Ok((live, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::{check_refund_and_force, check_reply, Rng};
    use crate::algo::Mode;

    /// The vector log cannot fail to read; it can only be damaged.
    #[derive(Debug)]
    struct Infallible;

    impl From<Damaged> for Infallible {
        fn from(_: Damaged) -> Self {
            Infallible
        }
    }

    /// The simplest log: a vector of entries, and a key expiry.
    #[derive(Debug, Clone, Default)]
    struct VecLog {
        entries: Vec<Entry>,
        expire_at: Option<Millis>,
    }

    impl VecLog {
        fn call(&mut self, now: Millis, p: WindowParams, cost: u64, peek: bool) -> Reply {
            self.call_req(now, p, Request::take(cost, peek))
        }

        fn call_req(&mut self, now: Millis, p: WindowParams, req: Request) -> Reply {
            if self.expire_at.is_some_and(|at| at <= now) {
                *self = VecLog::default();
            }
            let summary = LogSummary {
                total_units: self.entries.iter().map(|e| e.units).sum(),
                newest: self.entries.last().map(|e| e.at),
                expire_at: self.expire_at,
            };
            if req.mode == Mode::Refund {
                let walk = || self.entries.iter().map(|e| Ok::<_, Infallible>(*e));
                let r = refund(walk, summary, now, p, req.cost).expect("a vector log reads");
                if let Some(rewrite) = r.rewrite {
                    self.entries = rewrite.entries;
                    self.expire_at = Some(rewrite.expire_at);
                }
                return r.reply;
            }
            let d = decide(self.entries.iter().map(|e| Ok::<_, Infallible>(*e)), summary, now, p, req).expect("a vector log adds up");
            if let Some(c) = d.change {
                self.entries.drain(..c.expired_entries);
                self.entries.push(c.append);
                self.expire_at = Some(c.expire_at);
            }
            d.reply
        }
    }

    const P: WindowParams = WindowParams { limit: 3, window: 1000 };

    #[test]
    fn counts_exactly_what_was_logged_in_the_last_window() {
        let mut log = VecLog::default();
        assert_eq!(log.call(100, P, 1, false).to_array(), [1, 3, 2, 0, 1000]);
        assert_eq!(log.call(600, P, 2, false).to_array(), [1, 3, 0, 0, 1000]);
        // The unit at 100 leaves at 1100.
        assert_eq!(log.call(700, P, 1, false).to_array(), [0, 3, 0, 400, 900]);
        assert_eq!(log.call(1100, P, 1, false).to_array(), [1, 3, 0, 0, 1000]);
        // Two more need the two units logged at 600 to leave, at 1600.
        assert_eq!(log.call(1200, P, 2, false).to_array(), [0, 3, 0, 400, 900]);
    }

    #[test]
    fn refund_gives_back_the_newest_units_first() {
        let refund = |units| Request { cost: units, peek: false, mode: Mode::Refund };
        let mut log = VecLog::default();
        log.call(100, P, 1, false);
        log.call(600, P, 2, false);
        // The 2 units of 600 go back: what is left leaves with the unit of 100, at 1100.
        assert_eq!(log.call_req(700, P, refund(2)).to_array(), [1, 3, 2, 0, 400]);
        assert_eq!(log.entries, [Entry { at: 100, units: 1 }]);
        // Everything back: one empty entry stays (an empty log is not a stored value).
        assert_eq!(log.call_req(700, P, refund(5)).to_array(), [1, 3, 3, 0, 0]);
        assert_eq!(log.entries, [Entry { at: 100, units: 0 }]);
        // Nothing left to give back: nothing changes.
        assert_eq!(log.call_req(700, P, refund(1)).to_array(), [1, 3, 3, 0, 0]);
    }

    #[test]
    fn expiry_is_rewritten_about_once_a_window() {
        let mut log = VecLog::default();
        log.call(0, P, 1, false);
        assert_eq!(log.expire_at, Some(2000));
        log.call(900, P, 1, false);
        assert_eq!(log.expire_at, Some(2000));
        log.call(1001, P, 1, false);
        // 1001 + window is past 2000: the expiry moves to one window beyond that.
        assert_eq!(log.expire_at, Some(3001));
    }

    #[test]
    fn a_log_claiming_more_units_than_it_holds_is_damaged() {
        let entries = [Entry { at: 100, units: 1 }];
        let summary = LogSummary { total_units: 50, newest: Some(100), expire_at: Some(5000) };
        let d = decide(entries.iter().map(|e| Ok::<_, Infallible>(*e)), summary, 200, P, Request::take(1, false));
        assert!(d.is_err());
    }

    #[test]
    fn entries_logged_in_the_future_count_until_they_leave() {
        let mut log = VecLog::default();
        log.call(5000, P, 3, false);
        // The clock steps back 3 s: the entries at 5000 count until 6000.
        assert_eq!(log.call(2000, P, 1, false).to_array(), [0, 3, 0, 4000, 4000]);
    }

    /// Property: against a reference model that counts admitted requests per sliding window,
    /// the log never admits more than `limit` in any window of `window` ms, admits exactly
    /// when the model has room, and remaining / retry_after are exact.
    #[test]
    fn property_exact_sliding_window() {
        let mut rng = Rng::new(0x1061);
        for _case in 0..400 {
            let p = WindowParams { limit: rng.range(1, 20), window: rng.range(1, 300) };
            let mut log = VecLog::default();
            let mut now = rng.range(0, 1 << 40);
            let clock_steps_back = rng.chance(2);
            let mut admitted: Vec<Entry> = Vec::new();
            for _step in 0..200 {
                now = if clock_steps_back { rng.advance(now, p.window * 3) } else { rng.forward(now, p.window * 3) };
                let cost = rng.range(1, p.limit + 2);
                let peek = rng.chance(10);
                let before = log.clone();
                let reply = log.call(now, p, cost, peek);
                if !clock_steps_back {
                    let in_window: u64 = admitted.iter().filter(|e| e.at <= now && now < e.at + p.window).map(|e| e.units).sum();
                    assert_eq!(reply.allowed, in_window + cost <= p.limit, "model disagrees");
                }
                if reply.allowed && !peek {
                    admitted.push(Entry { at: now, units: cost });
                }
                check_reply(&before, now, cost, peek, reply, true, |log: &mut VecLog, t, c, pk| log.call(t, p, c, pk));
                if !peek {
                    check_refund_and_force(&log, now, p.limit, rng.range(1, p.limit + 1), true, |l: &mut VecLog, t, r| l.call_req(t, p, r));
                }
            }
        }
    }
}
