//! RL.CONCURRENT: how many at once. Each holder (`id`) takes a slot as a lease that ends
//! `lease` ms after it was taken or last renewed, so a holder that crashes gives its slot back
//! by itself. A lease whose expiry is at or before `now` holds no slot.
//!
//! The leases are seen through their expiries in ascending order (a sorted set's scores), plus
//! a summary: so a call reads only the expired leases (dropped at the next write) and, when it
//! is refused, the live ones up to the one whose expiry frees a slot.

use super::{wait_ms, Millis, Reply};

/// The latest expiry a lease can have: a sorted set's score is a double, exact for whole
/// numbers up to 2^53 (ms since the epoch: the year 287,396); later expiries are clamped.
pub const MAX_EXPIRY: Millis = 1 << 53;

/// `prune_through` that removes every member: for a key in the millisecond of its expiry,
/// which Redis still hands out but the module takes for gone, so its members, whatever their
/// scores, must not outlive it.
pub const PRUNE_ALL: Millis = Millis::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcurrentParams {
    /// Slots: how many holders at once.
    pub limit: u64,
    /// How long a lease lasts unless renewed.
    pub lease: Millis,
}

/// What the caller asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Take a slot, or renew the one held.
    Acquire,
    /// Would an acquire be allowed? Changes nothing.
    Peek,
    /// Give the slot back.
    Release,
}

/// What the decision needs of the stored leases besides their expiries in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LeaseSummary {
    /// Leases stored, live or not.
    pub count: u64,
    /// The expiry of the caller's lease (None: it has none stored, live or not).
    pub own: Option<Millis>,
    /// The latest expiry among the other holders' leases (None: there are none).
    pub latest_other: Option<Millis>,
    /// The key's expiry (None: no TTL, or no key).
    pub expire_at: Option<Millis>,
}

/// What happens to the caller's lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    /// Its lease now expires at this time (taken or renewed): `ZADD key t id`.
    Set(Millis),
    /// Its lease is gone: `ZREM key id`.
    Remove,
}

/// What one call changes, in the order it is applied and replicated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseChange {
    /// Every lease expired by this time (score <= it) is removed first:
    /// `ZREMRANGEBYSCORE key -inf t`. None: none has expired. [`PRUNE_ALL`]: every member,
    /// whatever its score (`-inf +inf`).
    pub prune_through: Option<Millis>,
    pub holder: Holder,
    /// The key's expiry after the change, its latest lease's (None: no lease is left, so the
    /// set, and the key, are gone), and whether it moves (`PEXPIREAT`).
    pub expire_at: Option<Millis>,
    pub expire_moves: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConcurrentDecision {
    pub reply: Reply,
    /// None: nothing to write.
    pub change: Option<LeaseChange>,
}

/// Decides one RL.CONCURRENT call at `now`. `expiries` are every stored lease's expiry,
/// ascending (an error from the iterator is a stored set that cannot be read, returned as is).
pub fn decide<E, I>(expiries: I, s: LeaseSummary, now: Millis, p: ConcurrentParams, action: Action) -> Result<ConcurrentDecision, E>
where
    I: IntoIterator<Item = Result<Millis, E>>,
{
    let mut expiries = expiries.into_iter();
    // The expired leases come first in expiry order; they hold no slot.
    let mut expired = 0u64;
    let mut first_live = None;
    for at in expiries.by_ref() {
        let at = at?;
        if at > now {
            first_live = Some(at);
            break;
        }
        expired += 1;
    }
    let live = s.count.saturating_sub(expired);
    let own_live = s.own.filter(|at| *at > now);
    let others_latest = s.latest_other.filter(|at| *at > now);
    let until = |at: Option<Millis>| at.map_or(0, |at| wait_ms(u128::from(at.saturating_sub(now))));
    let prune_through = (expired > 0).then_some(now);
    let reply = |allowed: bool, live_after: u64, retry_after_ms: i64, latest: Option<Millis>| Reply {
        allowed,
        limit: p.limit,
        remaining: p.limit.saturating_sub(live_after),
        retry_after_ms,
        reset_after_ms: until(latest),
    };

    match action {
        Action::Release => {
            if own_live.is_none() {
                // Nothing held (never taken, released, or expired): nothing to write.
                return Ok(ConcurrentDecision { reply: reply(false, live, 0, others_latest), change: None });
            }
            let change = LeaseChange {
                prune_through,
                holder: Holder::Remove,
                expire_at: others_latest,
                expire_moves: others_latest.is_some() && others_latest != s.expire_at,
            };
            Ok(ConcurrentDecision { reply: reply(true, live.saturating_sub(1), 0, others_latest), change: Some(change) })
        }
        // A live holder is always renewed: it is running, and refusing it would free a slot
        // while its work goes on. A new holder needs a free slot.
        _ if own_live.is_some() || live < p.limit => {
            let live_after = if own_live.is_some() { live } else { live.saturating_add(1) };
            if action == Action::Peek {
                return Ok(ConcurrentDecision { reply: reply(true, live, 0, others_latest.max(own_live)), change: None });
            }
            // At least a millisecond, and at most the latest expiry a score holds exactly.
            let lease_ends = now.saturating_add(p.lease).max(now.saturating_add(1)).min(MAX_EXPIRY);
            let expire_at = others_latest.map_or(lease_ends, |at| at.max(lease_ends));
            // Dropping every expired lease may empty the set: Redis then deletes the key, and the
            // ZADD that follows creates it anew, without an expiry.
            let emptied = prune_through.is_some() && expired >= s.count;
            let change = LeaseChange {
                prune_through,
                holder: Holder::Set(lease_ends),
                expire_at: Some(expire_at),
                expire_moves: emptied || s.expire_at != Some(expire_at),
            };
            Ok(ConcurrentDecision { reply: reply(true, live_after, 0, Some(expire_at)), change: Some(change) })
        }
        _ => {
            // Refused: a slot frees up when the (live - limit + 1)-th live lease expires, if
            // none is released before.
            let must_end = live - p.limit + 1;
            let mut ended = 0u64;
            let mut frees_at = None;
            for at in first_live.map(Ok).into_iter().chain(expiries) {
                let at = at?;
                ended += 1;
                if ended >= must_end {
                    frees_at = Some(at);
                    break;
                }
            }
            // The set holds fewer leases than it counts only if the count is wrong: wait for all.
            let retry = until(frees_at.or(others_latest));
            Ok(ConcurrentDecision { reply: reply(false, live, retry, others_latest), change: None })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::Rng;
    use std::collections::BTreeMap;

    /// A sorted set of leases (id -> expiry) in a key that expires as Redis expires keys:
    /// gone once the clock is past its expiry.
    #[derive(Debug, Clone, Default)]
    struct SimSet {
        members: BTreeMap<u64, Millis>,
        expire_at: Option<Millis>,
    }

    impl SimSet {
        fn call(&mut self, now: Millis, p: ConcurrentParams, id: u64, action: Action) -> ConcurrentDecision {
            // Gone once expired (for the module, already in the millisecond of its expiry).
            if self.expire_at.is_some_and(|at| at <= now) {
                *self = SimSet::default();
            }
            let mut expiries: Vec<Millis> = self.members.values().copied().collect();
            expiries.sort_unstable();
            let summary = LeaseSummary {
                count: self.members.len() as u64,
                own: self.members.get(&id).copied(),
                latest_other: self.members.iter().filter(|(m, _)| **m != id).map(|(_, at)| *at).max(),
                expire_at: self.expire_at,
            };
            let d = decide(expiries.into_iter().map(Ok::<_, ()>), summary, now, p, action).expect("reads");
            if let Some(c) = d.change {
                // As Redis does: a set emptied is a key deleted, its expiry with it.
                if let Some(t) = c.prune_through {
                    self.members.retain(|_, at| *at > t);
                    if self.members.is_empty() {
                        self.expire_at = None;
                    }
                }
                match c.holder {
                    Holder::Set(at) => {
                        self.members.insert(id, at);
                    }
                    Holder::Remove => {
                        self.members.remove(&id);
                    }
                }
                if self.members.is_empty() {
                    *self = SimSet::default();
                } else if c.expire_moves {
                    self.expire_at = c.expire_at;
                }
            }
            d
        }
    }

    const P: ConcurrentParams = ConcurrentParams { limit: 2, lease: 1000 };

    #[test]
    fn two_slots_then_a_wait_for_the_first_lease_to_end() {
        let mut set = SimSet::default();
        assert_eq!(set.call(100, P, 1, Action::Acquire).reply.to_array(), [1, 2, 1, 0, 1000]);
        assert_eq!(set.call(300, P, 2, Action::Acquire).reply.to_array(), [1, 2, 0, 0, 1000]);
        // The first lease ends at 1100.
        assert_eq!(set.call(400, P, 3, Action::Acquire).reply.to_array(), [0, 2, 0, 700, 900]);
        assert_eq!(set.call(400, P, 3, Action::Peek).reply.to_array(), [0, 2, 0, 700, 900]);
        // At 1100 it holds no slot.
        assert_eq!(set.call(1100, P, 3, Action::Acquire).reply.to_array(), [1, 2, 0, 0, 1000]);
        assert_eq!(set.members.len(), 2, "the expired lease was pruned by the write");
        assert_eq!(set.expire_at, Some(2100));
    }

    #[test]
    fn a_live_holder_is_renewed_even_past_a_lowered_limit() {
        let mut set = SimSet::default();
        for id in 1..=3 {
            assert!(set.call(0, ConcurrentParams { limit: 3, lease: 1000 }, id, Action::Acquire).reply.allowed);
        }
        let lowered = ConcurrentParams { limit: 1, lease: 1000 };
        // Holders keep running: renewed, with nothing left over.
        assert_eq!(set.call(500, lowered, 2, Action::Acquire).reply.to_array(), [1, 1, 0, 0, 1000]);
        // No new holder until the live leases are below the limit: all three must end, the
        // renewed one last (at 1500).
        assert_eq!(set.call(600, lowered, 9, Action::Acquire).reply.to_array(), [0, 1, 0, 900, 900]);
        assert_eq!(set.call(1000, lowered, 9, Action::Acquire).reply.to_array(), [0, 1, 0, 500, 500]);
        assert_eq!(set.call(1500, lowered, 9, Action::Acquire).reply.to_array(), [1, 1, 0, 0, 1000]);
    }

    #[test]
    fn release_tells_whether_the_lease_was_still_live() {
        let mut set = SimSet::default();
        set.call(0, P, 1, Action::Acquire);
        set.call(0, P, 2, Action::Acquire);
        let released = set.call(10, P, 1, Action::Release);
        assert_eq!(released.reply.to_array(), [1, 2, 1, 0, 990]);
        assert_eq!(released.change.map(|c| c.holder), Some(Holder::Remove));
        let again = set.call(20, P, 1, Action::Release);
        assert_eq!((again.reply.to_array(), again.change), ([0, 2, 1, 0, 980], None));
        // A lease that outlived itself: the holder learns its work ran past it.
        let late = set.call(1000, P, 2, Action::Release);
        assert_eq!((late.reply.to_array(), late.change), ([0, 2, 2, 0, 0], None));
        // The last release empties the set: no expiry left to set.
        set.call(2000, P, 5, Action::Acquire);
        let last = set.call(2001, P, 5, Action::Release).change.expect("a write");
        assert_eq!((last.expire_at, last.expire_moves), (None, false));
    }

    #[test]
    fn peek_changes_nothing() {
        let mut set = SimSet::default();
        assert_eq!(set.call(5, P, 1, Action::Peek).change, None);
        set.call(5, P, 1, Action::Acquire);
        let peek = set.call(6, P, 1, Action::Peek);
        assert_eq!((peek.reply.to_array(), peek.change), ([1, 2, 1, 0, 999], None));
    }

    #[test]
    fn expiries_clamp_at_2_53() {
        let mut set = SimSet::default();
        let long = ConcurrentParams { limit: 1, lease: i64::MAX as u64 };
        let d = set.call(1_700_000_000_000, long, 1, Action::Acquire);
        assert_eq!(d.change.map(|c| c.holder), Some(Holder::Set(MAX_EXPIRY)));
        assert_eq!(d.reply.reset_after_ms, (MAX_EXPIRY - 1_700_000_000_000) as i64);
    }

    /// Holders that crash (never release), renew late, release twice; limits raised and
    /// lowered, leases changed, clock steps both ways. Against a model of who holds what,
    /// kept apart from the decision:
    /// - a new holder is admitted only while the live leases are below the limit, so never
    ///   more live leases than the limit admitted new holders for;
    /// - a live holder's renewal is never refused;
    /// - a release answers whether the lease was still live;
    /// - after every write the key's expiry is its latest lease's, covering every member;
    /// - remaining, and the waits, are what the model says.
    #[test]
    fn property_leases_under_crashes_renewals_and_changing_numbers() {
        let mut rng = Rng::new(0xC0C);
        let (mut admitted, mut refused, mut renewed, mut released) = (0, 0, 0, 0);
        for _case in 0..1500 {
            let mut set = SimSet::default();
            let mut model: BTreeMap<u64, Millis> = BTreeMap::new();
            let mut p = ConcurrentParams { limit: rng.range(1, 6), lease: rng.range(1, 500) };
            let mut now = rng.range(0, 1 << 40);
            for _step in 0..80 {
                if rng.chance(15) {
                    p = ConcurrentParams { limit: rng.range(1, 8), lease: rng.range(1, 2000) };
                }
                now = rng.advance(now, 300);
                let id = rng.range(1, 10);
                let action = match rng.range(0, 9) {
                    0 | 1 => Action::Release,
                    2 => Action::Peek,
                    _ => Action::Acquire,
                };
                // The key expires with its last lease: then nothing is held, whatever the clock
                // does next.
                if model.values().all(|at| *at <= now) {
                    model.clear();
                }
                // What the model says, from who holds a live lease (expiry > now).
                let live: Vec<Millis> = model.values().copied().filter(|at| *at > now).collect();
                let holds = model.get(&id).is_some_and(|at| *at > now);
                let d = set.call(now, p, id, action);
                let r = d.reply;
                assert_eq!(r.limit, p.limit);
                match action {
                    Action::Acquire | Action::Peek => {
                        let admit = holds || (live.len() as u64) < p.limit;
                        assert_eq!(r.allowed, admit, "{action:?} {id} at {now}: live {live:?}, limit {}", p.limit);
                        if holds {
                            renewed += 1;
                        }
                        if admit && action == Action::Acquire {
                            admitted += 1;
                            model.insert(id, now + p.lease);
                            let after = model.values().filter(|at| **at > now).count() as u64;
                            assert!(after <= p.limit || holds, "a new holder past the limit");
                            assert_eq!(r.remaining, p.limit.saturating_sub(after));
                        } else if !admit {
                            refused += 1;
                            let mut sorted = live.clone();
                            sorted.sort_unstable();
                            let kth = sorted[live.len() - p.limit as usize];
                            assert_eq!(r.retry_after_ms, (kth - now) as i64, "retry: {sorted:?}");
                            assert_eq!(d.change, None, "a refusal wrote");
                        }
                    }
                    Action::Release => {
                        assert_eq!(r.allowed, holds, "release of {id} at {now}");
                        if holds {
                            released += 1;
                            model.remove(&id);
                        } else {
                            assert_eq!(d.change, None);
                        }
                    }
                }
                if action == Action::Peek {
                    assert_eq!(d.change, None);
                }
                // Every write drops the expired leases.
                if d.change.is_some() {
                    model.retain(|_, at| *at > now);
                }
                let live_after: Vec<Millis> = model.values().copied().filter(|at| *at > now).collect();
                let expected_reset = live_after.iter().max().map_or(0, |at| (at - now) as i64);
                assert_eq!(r.reset_after_ms, expected_reset, "reset");
                if action != Action::Acquire || !r.allowed {
                    assert_eq!(r.remaining, p.limit.saturating_sub(live_after.len() as u64));
                }
                // The stored set: the live leases are the model's, and the key's expiry covers
                // every member.
                let stored_live: BTreeMap<u64, Millis> = set.members.iter().filter(|(_, at)| **at > now).map(|(m, at)| (*m, *at)).collect();
                let model_live: BTreeMap<u64, Millis> = model.iter().filter(|(_, at)| **at > now).map(|(m, at)| (*m, *at)).collect();
                assert_eq!(stored_live, model_live, "at {now}");
                if d.change.is_some() {
                    assert_eq!(set.expire_at, set.members.values().max().copied(), "the key expires with its last lease");
                }
            }
        }
        assert!(
            admitted > 20_000 && refused > 5_000 && renewed > 5_000 && released > 5_000,
            "coverage: {admitted} admitted, {refused} refused, {renewed} renewed, {released} released"
        );
    }
}
