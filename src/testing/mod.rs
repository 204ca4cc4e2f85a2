//! Test support above the pure core: one Redis string key as Redis keeps it, written by the
//! same `Write`s the module applies and replicates, and expired exactly as Redis expires keys.
//! Used by the property tests, the codec tests, the benches and the fuzz targets (feature
//! `testing`); never part of the module Redis loads. Here too live the tests that span the
//! layers: the transition property tests and the script library's differential tests.
// Test support may panic: a broken expectation is a finding.
#![cfg_attr(not(test), allow(clippy::indexing_slicing, clippy::panic))]

#[cfg(test)]
mod differential;
#[cfg(test)]
mod script;
#[cfg(test)]
mod transitions;

use std::collections::BTreeMap;

use crate::algo::concurrent::{Holder, LeaseSummary};
use crate::algo::Millis;
use crate::codec::Write;
use crate::limiter::Found;

/// A string key: bytes and absolute expiry (None: no TTL), or nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisKey(pub Option<(Vec<u8>, Option<Millis>)>);

impl RedisKey {
    /// The key as Redis hands it out at `now`: Redis deletes a key once its clock is past the
    /// expiry (`now > expire_at`), so in the millisecond of its expiry it is still there.
    pub fn found(&mut self, now: Millis) -> Option<Found<'_>> {
        if self.0.as_ref().is_some_and(|(_, at)| at.is_some_and(|at| now > at)) {
            self.0 = None;
        }
        self.0.as_ref().map(|(bytes, expire_at)| Found { bytes, expire_at: *expire_at })
    }

    /// The expiry of a key that is there at `now`, from the module's point of view (a key in
    /// the millisecond of its expiry is gone for it).
    pub fn live_expiry(&self, now: Millis) -> Option<Option<Millis>> {
        self.0.as_ref().map(|(_, at)| *at).filter(|at| at.is_none_or(|at| at > now))
    }

    /// What `SET ... PXAT`, `SETRANGE` and `PEXPIREAT` leave. Panics on a `SETRANGE` that ends
    /// before the value does: Redis would keep the old bytes after it, which no codec means to.
    pub fn apply(&mut self, write: &Write) {
        match write {
            // The value's buffer is reused, as Redis reuses the string's (the benches time no
            // allocation the module does not make).
            Write::Value { bytes, expire_at } => match &mut self.0 {
                Some((value, expiry)) => {
                    value.clear();
                    value.extend_from_slice(bytes.as_slice());
                    *expiry = Some(*expire_at);
                }
                None => self.0 = Some((bytes.as_slice().to_vec(), Some(*expire_at))),
            },
            Write::Range { offset, bytes, expire_at } => {
                let (value, expiry) = self.0.get_or_insert((Vec::new(), None));
                let end = offset + bytes.as_slice().len();
                assert!(end >= value.len(), "SETRANGE would leave {} stale bytes after the write", value.len() - end);
                value.resize(end, 0);
                value[*offset..end].copy_from_slice(bytes.as_slice());
                if let Some(at) = expire_at {
                    *expiry = Some(*at);
                }
            }
            Write::Leases { .. } => panic!("a sorted set's write on a string key: {write:?}"),
        }
    }
}

/// RL.CONCURRENT's sorted set as Redis keeps it: member -> score (a lease's expiry), and the
/// key's expiry; written by the same `Write::Leases` the module applies and replicates, and
/// expired, or deleted when emptied, as Redis does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RedisSortedSet {
    pub members: BTreeMap<Vec<u8>, Millis>,
    pub expire_at: Option<Millis>,
}

impl RedisSortedSet {
    /// What the module reads for the holder `id` at `now`: the summary, and every expiry in
    /// ascending order (None: no key). Redis hands out a key in the millisecond of its expiry.
    pub fn read(&mut self, id: &[u8], now: Millis) -> Option<(LeaseSummary, Vec<Millis>)> {
        if self.expire_at.is_some_and(|at| now > at) {
            *self = RedisSortedSet::default();
        }
        if self.members.is_empty() {
            return None;
        }
        let mut expiries: Vec<Millis> = self.members.values().copied().collect();
        expiries.sort_unstable();
        let summary = LeaseSummary {
            count: self.members.len() as u64,
            own: self.members.get(id).copied(),
            latest_other: self.members.iter().filter(|(m, _)| m.as_slice() != id).map(|(_, at)| *at).max(),
            expire_at: self.expire_at,
        };
        Some((summary, expiries))
    }

    /// What `ZREMRANGEBYSCORE key -inf t`, `ZADD key t id` or `ZREM key id`, and `PEXPIREAT`
    /// leave: an emptied set is a deleted key, its expiry gone with it.
    pub fn apply(&mut self, write: &Write) {
        let Write::Leases { id, change } = write else { panic!("a string's write on a sorted set: {write:?}") };
        if let Some(through) = change.prune_through {
            self.members.retain(|_, at| *at > through);
            if self.members.is_empty() {
                self.expire_at = None;
            }
        }
        match change.holder {
            Holder::Set(at) => {
                self.members.insert(id.as_slice().to_vec(), at);
            }
            Holder::Remove => {
                self.members.remove(id.as_slice());
            }
        }
        if self.members.is_empty() {
            *self = RedisSortedSet::default();
        } else if let (Some(at), true) = (change.expire_at, change.expire_moves) {
            self.expire_at = Some(at);
        }
    }
}

/// A spec of any of the five algorithms, numbers up to `max` and durations up to `span` ms.
#[cfg(test)]
pub fn random_spec(rng: &mut crate::algo::testkit::Rng, max: u64, span: u64) -> crate::args::Spec {
    use crate::algo::fixed::WindowParams;
    use crate::algo::token::TokenParams;
    use crate::args::Spec;
    let w = WindowParams { limit: rng.range(1, max), window: rng.range(1, span) };
    let t = TokenParams { capacity: rng.range(1, max), rate: rng.range(1, max / 2), period: rng.range(1, span) };
    match rng.range(0, 4) {
        0 => Spec::Fixed(w),
        1 => Spec::Sliding(w),
        2 => Spec::Log(w),
        3 => Spec::Token(t),
        _ => Spec::Leaky(t),
    }
}
