//! One call, from the key's stored bytes to the reply and the write: the whole command minus
//! Redis. Pure, so the simulated store in tests runs exactly what the server runs.

use crate::algo::{self, wait_ms, Millis, Reply, Request};
use crate::args::{Call, Spec};
use crate::codec::{self, Kind, Write};
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

impl Spec {
    pub fn kind(&self) -> Kind {
        match self {
            Spec::Fixed(_) => Kind::Fixed,
            Spec::Sliding(_) => Kind::Sliding,
            Spec::Log(_) => Kind::Log,
            Spec::Token(_) => Kind::Token,
            Spec::Leaky(_) => Kind::Leaky,
        }
    }
}

/// Decides `call` at `now` on the key as `found` (None: missing).
///
/// A key whose expiry has come is gone ([`Found::live_at`]). A call that writes nothing leaves
/// the key to expire when it was set to, perhaps under other numbers: the limiter is empty from
/// then on, so the waits it reports (fields 4 and 5) never exceed the time until then.
pub fn evaluate(call: &Call, found: Option<Found<'_>>, now: Millis) -> Result<Outcome, Error> {
    let found = found.and_then(|f| f.live_at(now));
    let mut outcome = decide(call, found, now)?;
    if let (None, Some(at)) = (&outcome.write, found.and_then(|f| f.expire_at)) {
        outcome.reply = outcome.reply.waits_at_most(wait_ms(u128::from(at - now)));
    }
    Ok(outcome)
}

fn decide(call: &Call, found: Option<Found<'_>>, now: Millis) -> Result<Outcome, Error> {
    let kind = call.spec.kind();
    let unreadable = |e| Error::State(kind, e);
    let req = call.request;
    match call.spec {
        Spec::Fixed(p) => {
            let stored = match found {
                Some(f) => Some(algo::fixed::Stored { count: codec::fixed::decode(f.bytes).map_err(unreadable)?, expire_at: f.expire_at }),
                None => None,
            };
            let d = algo::fixed::decide(stored, now, p, req);
            Ok(Outcome {
                reply: d.reply,
                write: d.store.map(|s| Write::Value { bytes: codec::fixed::encode(s.state), expire_at: s.expire_at }),
            })
        }
        Spec::Sliding(p) => {
            one_value(found, codec::sliding::decode, |s| algo::sliding::decide(s, now, p, req), codec::sliding::encode).map_err(unreadable)
        }
        Spec::Token(p) => {
            one_value(found, codec::token::decode, |s| algo::token::decide(s, now, p, req), codec::token::encode).map_err(unreadable)
        }
        Spec::Leaky(p) => {
            one_value(found, codec::leaky::decode, |s| algo::leaky::decide(s, now, p, req), codec::leaky::encode).map_err(unreadable)
        }
        Spec::Log(p) if req.mode == algo::Mode::Refund => {
            let view = found.map(|f| codec::log::LogView::parse(f.bytes)).transpose().map_err(unreadable)?;
            let expire_at = found.and_then(|f| f.expire_at);
            let (kept, changed) = match &view {
                Some(v) => algo::log::refund(v.entries(), now, p, req.cost).map_err(unreadable)?,
                None => (Vec::new(), false),
            };
            // Nothing given back, and nothing to do, unless a hand-written log lacks a TTL.
            let needs_ttl = found.is_some_and(|f| f.expire_at.is_none()) && !kept.is_empty();
            if !changed && !needs_ttl {
                // Nothing to give back: the reply is a PEEK of the log as it is.
                let summary = view.as_ref().map_or_else(Default::default, |v| v.summary(expire_at));
                let entries = view.as_ref().map(|v| v.entries()).into_iter().flatten();
                let d = algo::log::decide(entries, summary, now, p, algo::PEEK).map_err(unreadable)?;
                return Ok(Outcome { reply: algo::refund_reply(d.reply), write: None });
            }
            // The expiry follows what is kept under the current numbers: the kept units count
            // until the newest leaves the current window.
            let newest = kept.last().map_or(now, |e| e.at);
            let total_units = kept.iter().map(|e| e.units).fold(0u64, u64::saturating_add);
            let (expire_at, _) = algo::log::expiry_after_write(newest, p.window, expire_at, total_units > 0);
            let summary = algo::log::LogSummary { total_units, newest: Some(newest), expire_at: Some(expire_at) };
            let d =
                algo::log::decide(kept.iter().map(|e| Ok::<_, codec::StateError>(*e)), summary, now, p, algo::PEEK).map_err(unreadable)?;
            Ok(Outcome { reply: algo::refund_reply(d.reply), write: Some(codec::log::rebuild(&kept, expire_at)) })
        }
        Spec::Log(p) => {
            let view = found.map(|f| codec::log::LogView::parse(f.bytes)).transpose().map_err(unreadable)?;
            let summary = view.as_ref().map_or_else(Default::default, |v| v.summary(found.and_then(|f| f.expire_at)));
            let mut walk = view.as_ref().map_or_else(codec::log::Entries::empty, |v| v.entries());
            let d = algo::log::decide(&mut walk, summary, now, p, req).map_err(unreadable)?;
            let write = d.change.map(|c| codec::log::write(view.as_ref(), &c, Some(&walk))).transpose().map_err(unreadable)?;
            Ok(Outcome { reply: d.reply, write })
        }
    }
}

/// A call of an algorithm whose state is one encoded value (RL.SLIDING, RL.TOKEN, RL.LEAKY):
/// decode what is stored, decide on it (with whether the key has a TTL), encode what to store.
fn one_value<S>(
    found: Option<Found<'_>>,
    decode: fn(&[u8]) -> Result<S, codec::StateError>,
    decide: impl FnOnce(Option<(S, bool)>) -> algo::Decision<S>,
    encode: fn(&S) -> codec::Buf,
) -> Result<Outcome, codec::StateError> {
    let stored = found.map(|f| decode(f.bytes).map(|s| (s, f.expire_at.is_some()))).transpose()?;
    let d = decide(stored);
    Ok(Outcome { reply: d.reply, write: d.store.map(|s| Write::Value { bytes: encode(&s.state), expire_at: s.expire_at }) })
}

/// What an RL.ALL call decided: the six integers of its reply, and the writes, by key index
/// (all of them or none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllOutcome {
    pub reply: [i64; 6],
    pub writes: Vec<(usize, Write)>,
}

/// Decides an RL.ALL call: `specs[i]` on the key as `found[i]`. Each limiter decides as a call
/// of its own would; nothing is applied here, so if one refuses, every write is dropped (a
/// refusal's reply is the same whether or not it would have written a cleanup). The reply is
/// the decisive limiter's: the first that refused, or the one with the least remaining (ties
/// to the lowest index), with its 1-based index; when admitted, field 4 is the longest
/// RL.LEAKY delay, the wait before proceeding.
pub fn evaluate_all(specs: &[Spec], found: &[Option<Found<'_>>], now: Millis, req: Request) -> Result<AllOutcome, Error> {
    let mut replies = Vec::with_capacity(specs.len());
    let mut writes = Vec::new();
    for (i, (spec, found)) in specs.iter().zip(found).enumerate() {
        let outcome = evaluate(&Call { spec: *spec, request: req }, *found, now)?;
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
    let delay = specs.iter().zip(&replies).filter(|(s, _)| matches!(s, Spec::Leaky(_))).map(|(_, r)| r.retry_after_ms).max().unwrap_or(0);
    Ok(AllOutcome { reply: six(i, decisive, delay), writes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algo::testkit::Rng;
    use crate::sim::{random_spec, RedisKey};

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
                let out = evaluate_all(&specs, &founds, now, req).expect("states written by the module read back");
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
