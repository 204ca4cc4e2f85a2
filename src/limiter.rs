//! One call, from the key's stored bytes to the reply and the write: the whole command minus
//! Redis. Pure, so the simulated store in tests runs exactly what the server runs.

use crate::algo::concurrent::{LeaseSummary, PRUNE_ALL};
use crate::algo::fixed::WindowParams;
use crate::algo::{self, wait_ms, Millis, Mode, Reply, Request, Stored};
use crate::args::{Call, ConcurrentCall, Spec};
use crate::codec::log::{Entries, LogView};
use crate::codec::{self, StateError, Write};
use crate::command::Command;
use crate::error::Error;

/// A string key as the call finds it.
#[derive(Debug, Clone, Copy)]
pub struct Found<'a> {
    pub bytes: &'a [u8],
    /// Absolute expiry; None when the key has no TTL.
    pub expire_at: Option<Millis>,
}

impl<'a> Found<'a> {
    /// The key as the module sees it at `now`: gone once its expiry has come. Redis still hands
    /// it out in the millisecond of its expiry (it deletes a key once its clock, read when the
    /// command started, is past it), but the module's clock may already be there.
    pub fn live_at(self, now: Millis) -> Option<Found<'a>> {
        self.expire_at.is_none_or(|at| at > now).then_some(self)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub reply: Reply,
    pub write: Option<Write>,
}

/// Decides `call` at `now` on the key as `found` (None: missing).
///
/// A key whose expiry has come is gone ([`Found::live_at`]). The limiter is empty once its key
/// expires, whether this call set that expiry or an earlier one did (perhaps under other
/// numbers), so the waits a reply reports (fields 4 and 5) never exceed the time until then.
pub fn evaluate(call: &Call, found: Option<Found<'_>>, now: Millis) -> Result<Outcome, Error> {
    let found = found.and_then(|f| f.live_at(now));
    let mut outcome = decide(call, found, now).map_err(|e| Error::State(Command::of(call.spec.algorithm()), e))?;
    let expires_at = match &outcome.write {
        Some(Write::Value { expire_at, .. } | Write::Range { expire_at: Some(expire_at), .. }) => Some(*expire_at),
        Some(Write::Leases { change, .. }) => change.expire_at,
        Some(Write::Range { expire_at: None, .. }) | None => found.and_then(|f| f.expire_at),
    };
    outcome.reply = waits_until(outcome.reply, expires_at, now);
    Ok(outcome)
}

/// `reply` with waits no longer than until the key expires at `expires_at` (None: no expiry).
fn waits_until(reply: Reply, expires_at: Option<Millis>, now: Millis) -> Reply {
    match expires_at {
        Some(at) => reply.waits_at_most(wait_ms(u128::from(at.saturating_sub(now)))),
        None => reply,
    }
}

/// Decides an RL.CONCURRENT call for the holder `id` at `now`, on the stored leases as
/// `summary` describes them (None: no key) and `expiries` walks them, ascending. A key whose
/// expiry has come is gone; waits stop at the key's expiry, as for every command.
pub fn evaluate_concurrent<I>(
    call: &ConcurrentCall,
    id: &[u8],
    summary: Option<LeaseSummary>,
    expiries: I,
    now: Millis,
) -> Result<Outcome, Error>
where
    I: IntoIterator<Item = Result<Millis, StateError>>,
{
    // A key in the millisecond of its expiry is gone, but Redis still holds it: a write first
    // empties it (the ZADD that follows creates it anew, without an expiry).
    let gone = summary.is_some_and(|s| s.expire_at.is_some_and(|at| at <= now));
    let summary = summary.filter(|_| !gone);
    let walk = summary.is_some().then_some(expiries).into_iter().flatten();
    let mut d = algo::concurrent::decide(walk, summary.unwrap_or_default(), now, call.params, call.action)
        .map_err(|e| Error::State(Command::Concurrent, e))?;
    if let (Some(change), true) = (&mut d.change, gone) {
        change.prune_through = Some(PRUNE_ALL);
        change.expire_moves = change.expire_at.is_some();
    }
    let expires_at = match &d.change {
        Some(c) => c.expire_at,
        None => summary.and_then(|s| s.expire_at),
    };
    let write = d.change.map(|change| {
        let mut bytes = codec::Buf::default();
        bytes.extend(id);
        Write::Leases { id: bytes, change }
    });
    Ok(Outcome { reply: waits_until(d.reply, expires_at, now), write })
}

/// Routes the call to its algorithm: decode what is stored, decide, encode what to store.
fn decide(call: &Call, found: Option<Found<'_>>, now: Millis) -> Result<Outcome, StateError> {
    let req = call.request;
    match call.spec {
        Spec::Fixed(p) => one_value(found, codec::fixed::decode, |s| algo::fixed::decide(s, now, p, req), |c| codec::fixed::encode(*c)),
        Spec::Sliding(p) => one_value(found, codec::sliding::decode, |s| algo::sliding::decide(s, now, p, req), codec::sliding::encode),
        Spec::Token(p) => one_value(found, codec::token::decode, |s| algo::token::decide(s, now, p, req), codec::token::encode),
        Spec::Leaky(p) => one_value(found, codec::leaky::decode, |s| algo::leaky::decide(s, now, p, req), codec::leaky::encode),
        Spec::Log(p) => log(found, now, p, req),
    }
}

/// A call of an algorithm whose state is one encoded value (all but RL.LOG).
fn one_value<S>(
    found: Option<Found<'_>>,
    decode: fn(&[u8]) -> Result<S, StateError>,
    decide: impl FnOnce(Option<Stored<S>>) -> algo::Decision<S>,
    encode: fn(&S) -> codec::Buf,
) -> Result<Outcome, StateError> {
    let stored = found.map(|f| decode(f.bytes).map(|state| Stored { state, expire_at: f.expire_at })).transpose()?;
    let d = decide(stored);
    Ok(Outcome { reply: d.reply, write: d.store.map(|s| Write::Value { bytes: encode(&s.state), expire_at: s.expire_at }) })
}

/// A call of RL.LOG, whose entries are walked in place rather than decoded.
fn log(found: Option<Found<'_>>, now: Millis, p: WindowParams, req: Request) -> Result<Outcome, StateError> {
    let view = found.map(|f| LogView::parse(f.bytes)).transpose()?;
    let summary = view.as_ref().map_or_else(Default::default, |v| v.summary(found.and_then(|f| f.expire_at)));
    let walk = || view.as_ref().map_or_else(Entries::empty, |v| v.entries());
    if req.mode == Mode::Refund {
        let r = algo::log::refund(walk, summary, now, p, req.cost)?;
        return Ok(Outcome { reply: r.reply, write: r.rewrite.map(|w| codec::log::rebuild(&w.entries, w.expire_at)) });
    }
    let mut entries = walk();
    let d = algo::log::decide(&mut entries, summary, now, p, req)?;
    let write = d.change.map(|c| codec::log::write(view.as_ref(), &c, Some(&entries))).transpose()?;
    Ok(Outcome { reply: d.reply, write })
}

/// What an RL.ALL call decided: the six integers of its reply, and the writes, by key index
/// (all of them or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllOutcome {
    pub reply: [i64; 6],
    pub writes: Vec<(usize, Write)>,
}

/// One limiter of an RL.ALL call, with its key as read for it.
pub enum Limit<'a> {
    /// A rate limit on its string (None: no key).
    Rate { call: Call, found: Option<Found<'a>> },
    /// CONCURRENT for the call's holder `id`, on its leases (`leases` None: no key) and their
    /// expiries, ascending.
    Concurrent {
        call: ConcurrentCall,
        id: &'a [u8],
        leases: Option<LeaseSummary>,
        expiries: Box<dyn Iterator<Item = Result<Millis, StateError>> + 'a>,
    },
}

impl Limit<'_> {
    /// The limiter decided as a call of its own would.
    fn evaluate(self, now: Millis) -> Result<Outcome, Error> {
        match self {
            Limit::Rate { call, found } => evaluate(&call, found, now),
            Limit::Concurrent { call, id, leases, expiries } => evaluate_concurrent(&call, id, leases, expiries, now),
        }
    }

    /// Whether its reply's field 4 is a delay before proceeding when admitted (RL.LEAKY).
    fn delays(&self) -> bool {
        matches!(self, Limit::Rate { call: Call { spec: Spec::Leaky(_), .. }, .. })
    }
}

/// Decides an RL.ALL call, each limiter on its key. Each decides as a call of its own would;
/// nothing is applied here, so if one refuses, every write is dropped (a refusal's reply is
/// the same whether or not it would have written a cleanup), and a CONCURRENT lease is taken or
/// renewed only when every other limiter admits. The reply is the decisive limiter's: the first
/// that refused, or the one with the least remaining (ties to the lowest index), with its
/// 1-based index; when admitted, field 4 is the longest RL.LEAKY delay, the wait before
/// proceeding.
pub fn evaluate_all(limits: Vec<Limit<'_>>, now: Millis) -> Result<AllOutcome, Error> {
    let mut replies = Vec::with_capacity(limits.len());
    let mut writes = Vec::new();
    let mut delay = 0;
    for (i, limit) in limits.into_iter().enumerate() {
        let delays = limit.delays();
        let outcome = limit.evaluate(now)?;
        if delays {
            delay = delay.max(outcome.reply.retry_after_ms);
        }
        replies.push(outcome.reply);
        writes.extend(outcome.write.map(|w| (i, w)));
    }
    let six = |i: usize, r: &Reply, retry: i64| {
        let [allowed, limit, remaining, _, reset] = r.to_array();
        [allowed, limit, remaining, retry, reset, i64::try_from(i + 1).unwrap_or(i64::MAX)]
    };
    if let Some((i, refused)) = replies.iter().enumerate().find(|(_, r)| !r.allowed) {
        return Ok(AllOutcome { reply: six(i, refused, refused.retry_after_ms), writes: Vec::new() });
    }
    // The least remaining decides; `min_by_key` keeps the first of equals.
    let Some((i, decisive)) = replies.iter().enumerate().min_by_key(|(_, r)| r.remaining) else {
        return Err(Error::NumKeys);
    };
    Ok(AllOutcome { reply: six(i, decisive, delay), writes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::Rng;
    use crate::testing::{random_spec, RedisKey};

    /// A forced deficit past the last representable instant: the key expires at 2^63-1 ms, and
    /// every reply, the writing one and those after it, waits no longer than until then.
    #[test]
    fn waits_stop_at_the_key_expiry_whether_the_call_wrote_or_not() {
        let parse = |words: &[&str]| {
            let words: Vec<&[u8]> = words.iter().map(|w| w.as_bytes()).collect();
            crate::args::parse(crate::algo::Algorithm::Token, &words).expect("parses")
        };
        let now = 1_700_000_000_000;
        let mut key = RedisKey::default();
        let forced = evaluate(&parse(&["10", "5", "73", "COST", "1537855996158995929", "FORCE"]), key.found(now), now).expect("decides");
        let Some(write @ Write::Value { expire_at, .. }) = &forced.write else { panic!("FORCE writes: {forced:?}") };
        assert_eq!(*expire_at, i64::MAX as u64);
        let until_expiry = (i64::MAX as u64 - now) as i64;
        assert_eq!(forced.reply.reset_after_ms, until_expiry);
        key.apply(write);
        let next = evaluate(&parse(&["10", "5", "73"]), key.found(now + 1), now + 1).expect("decides");
        assert_eq!(next.write, None);
        assert_eq!((next.reply.retry_after_ms, next.reply.reset_after_ms), (until_expiry - 1, until_expiry - 1));
    }

    /// A set in the millisecond of its expiry is gone for the module, though Redis still holds
    /// it: a write empties it first, so a hand-written member with a later score does not live
    /// on beside the new lease (two holders under a limit of 1).
    #[test]
    fn a_set_in_the_millisecond_of_its_expiry_is_emptied_before_a_lease() {
        use crate::algo::concurrent::{Action, ConcurrentParams};
        use crate::testing::RedisSortedSet;
        let now = 1_700_000_000_000;
        let mut set = RedisSortedSet { members: [(b"x".to_vec(), now + 10_000)].into(), expire_at: Some(now) };
        let (summary, expiries) = set.read(b"y", now).expect("Redis still hands it out");
        let call = ConcurrentCall { params: ConcurrentParams { limit: 1, lease: 3_600_000 }, action: Action::Acquire };
        let out = evaluate_concurrent(&call, b"y", Some(summary), expiries.into_iter().map(Ok), now).expect("decides");
        assert_eq!(out.reply.to_array(), [1, 1, 0, 0, 3_600_000]);
        set.apply(out.write.as_ref().expect("a lease"));
        assert_eq!(set, RedisSortedSet { members: [(b"y".to_vec(), now + 3_600_000)].into(), expire_at: Some(now + 3_600_000) });
    }

    /// RL.ALL with a CONCURRENT spec: the lease is taken or renewed only when every limiter
    /// admits; a refusal, the lease's or another limiter's, charges nothing and takes no slot.
    #[test]
    fn property_all_takes_a_lease_only_when_every_limiter_admits() {
        use crate::algo::concurrent::{Action, ConcurrentParams};
        use crate::testing::RedisSortedSet;
        let mut rng = Rng::new(0xA1C);
        let (mut leased, mut lease_refused, mut rate_refused) = (0, 0, 0);
        for _case in 0..300 {
            let rate = random_spec(&mut rng, 8, 300);
            let params = ConcurrentParams { limit: rng.range(1, 3), lease: rng.range(1, 400) };
            let (mut set, mut key) = (RedisSortedSet::default(), RedisKey::default());
            let mut now = rng.range(0, 1 << 40);
            for _step in 0..60 {
                now = rng.advance(now, 200);
                let id = [b'a' + rng.range(0, 3) as u8];
                let req = Request::take(rng.range(1, 3), rng.chance(10));
                let read = set.read(&id, now);
                let held_before = read.as_ref().is_some_and(|(s, _)| s.own.is_some_and(|at| at > now));
                let mut string = key.clone();
                let found = string.found(now);
                let limits = || {
                    let (leases, expiries) = read.clone().map_or((None, Vec::new()), |(s, e)| (Some(s), e));
                    let action = if req.peek { Action::Peek } else { Action::Acquire };
                    vec![
                        Limit::Concurrent {
                            call: ConcurrentCall { params, action },
                            id: &id,
                            leases,
                            expiries: Box::new(expiries.into_iter().map(Ok)),
                        },
                        Limit::Rate { call: Call { spec: rate, request: req }, found },
                    ]
                };
                // Each alone, as a PEEK: what they would answer.
                let alone: Vec<bool> = limits()
                    .into_iter()
                    .map(|l| match l {
                        Limit::Concurrent { call, id, leases, expiries } => {
                            let peek = ConcurrentCall { action: Action::Peek, ..call };
                            evaluate_concurrent(&peek, id, leases, expiries, now).expect("reads").reply.allowed
                        }
                        Limit::Rate { call, found } => {
                            evaluate(&Call { request: Request { peek: true, ..call.request }, ..call }, found, now)
                                .expect("reads")
                                .reply
                                .allowed
                        }
                    })
                    .collect();
                let out = evaluate_all(limits(), now).expect("reads");
                assert_eq!(out.reply[0] == 1, alone.iter().all(|a| *a), "all or nothing");
                if out.reply[0] == 0 {
                    assert!(out.writes.is_empty(), "a refusal charged something: {out:?}");
                    if alone[0] {
                        rate_refused += 1;
                    } else {
                        lease_refused += 1;
                        assert_eq!(out.reply[5], 1, "the lease decides");
                    }
                }
                for (i, w) in &out.writes {
                    match i {
                        0 => set.apply(w),
                        _ => key.apply(w),
                    }
                }
                let held_after = set.read(&id, now).is_some_and(|(s, _)| s.own.is_some_and(|at| at > now));
                let expected = if req.peek { held_before } else { out.reply[0] == 1 || held_before };
                assert_eq!(held_after, expected, "lease of {id:?} at {now}");
                leased += usize::from(held_after && !held_before);
            }
        }
        assert!(
            leased > 1000 && lease_refused > 500 && rate_refused > 500,
            "coverage: {leased} leased, {lease_refused} lease refused, {rate_refused} rate refused"
        );
    }

    /// RL.ALL charges every limiter or none; when all admit, it writes exactly what running
    /// each spec alone would; the reply is the decisive limiter's, with its index.
    #[test]
    fn property_all_or_nothing_and_equal_to_one_by_one() {
        let mut rng = Rng::new(0xA11);
        let (mut admitted, mut refused) = (0, 0);
        for _case in 0..200 {
            let specs: Vec<Spec> = (0..rng.range(1, 5)).map(|_| random_spec(&mut rng, 12, 200)).collect();
            let mut keys: Vec<RedisKey> = vec![RedisKey::default(); specs.len()];
            let mut now = rng.range(0, 1 << 40);
            for _step in 0..100 {
                now = rng.forward(now, 150);
                let req = Request::take(rng.range(1, 6), rng.chance(8));
                let founds: Vec<Option<Found<'_>>> = keys.iter_mut().map(|k| k.found(now)).collect();
                let limits =
                    specs.iter().zip(&founds).map(|(s, f)| Limit::Rate { call: Call { spec: *s, request: req }, found: *f }).collect();
                let out = evaluate_all(limits, now).expect("states written by the module read back");
                // One by one, as separate calls would see the same state.
                let alone: Vec<Outcome> =
                    specs.iter().zip(&founds).map(|(s, f)| evaluate(&Call { spec: *s, request: req }, *f, now).expect("reads")).collect();
                let asked: Vec<Reply> = specs
                    .iter()
                    .zip(&founds)
                    .map(|(s, f)| evaluate(&Call { spec: *s, request: Request { peek: true, ..req } }, *f, now).expect("reads").reply)
                    .collect();
                let all_admit = asked.iter().all(|r| r.allowed);
                let index = usize::try_from(out.reply[5] - 1).expect("index >= 1");
                if all_admit {
                    admitted += 1;
                    assert_eq!(out.reply[0], 1);
                    let min = alone.iter().map(|o| o.reply.remaining).min().expect("a spec");
                    assert_eq!(index, alone.iter().position(|o| o.reply.remaining == min).expect("the least"), "decisive");
                    if req.peek {
                        assert!(out.writes.is_empty(), "PEEK wrote");
                    } else {
                        let expected: Vec<(usize, Write)> =
                            alone.iter().enumerate().filter_map(|(i, o)| o.write.clone().map(|w| (i, w))).collect();
                        assert_eq!(out.writes, expected, "not what the specs alone write");
                    }
                } else {
                    refused += 1;
                    assert_eq!(out.reply[0], 0);
                    assert!(out.writes.is_empty(), "a refusal charged something");
                    assert_eq!(index, asked.iter().position(|r| !r.allowed).expect("a refusal"), "first refusal decides");
                    assert_eq!(out.reply[..5], asked[index].to_array(), "the refusing limiter's reply");
                }
                drop(founds);
                for (i, w) in &out.writes {
                    keys[*i].apply(w);
                }
            }
        }
        assert!(admitted > 1000 && refused > 1000, "coverage: {admitted} admitted, {refused} refused");
    }
}
