//! One call, from the key's stored bytes to the reply and the write: the whole command minus
//! Redis. Pure, so the simulated store in tests runs exactly what the server runs.

use crate::algo::{self, Millis, Reply};
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
pub fn evaluate(call: &Call, found: Option<Found<'_>>, now: Millis) -> Result<Outcome, Error> {
    let kind = call.spec.kind();
    let unreadable = |e| Error::State(kind, e);
    let req = call.request;
    let has_ttl = found.is_some_and(|f| f.expire_at.is_some());
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
            let stored = found.map(|f| codec::sliding::decode(f.bytes)).transpose().map_err(unreadable)?;
            let d = algo::sliding::decide(stored.map(|s| (s, has_ttl)), now, p, req);
            Ok(Outcome {
                reply: d.reply,
                write: d.store.map(|s| Write::Value { bytes: codec::sliding::encode(&s.state), expire_at: s.expire_at }),
            })
        }
        Spec::Token(p) => {
            let stored = found.map(|f| codec::token::decode(f.bytes)).transpose().map_err(unreadable)?;
            let d = algo::token::decide(stored.map(|s| (s, has_ttl)), now, p, req);
            Ok(Outcome {
                reply: d.reply,
                write: d.store.map(|s| Write::Value { bytes: codec::token::encode(&s.state), expire_at: s.expire_at }),
            })
        }
        Spec::Leaky(p) => {
            let stored = found.map(|f| codec::leaky::decode(f.bytes)).transpose().map_err(unreadable)?;
            let d = algo::leaky::decide(stored.map(|s| (s, has_ttl)), now, p, req);
            Ok(Outcome {
                reply: d.reply,
                write: d.store.map(|s| Write::Value { bytes: codec::leaky::encode(&s.state), expire_at: s.expire_at }),
            })
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
            // The key keeps its expiry (still after the newest entry leaves); one without a TTL
            // gets the one an admission would give it.
            let newest = kept.last().map_or(now, |e| e.at);
            let expire_at = expire_at.unwrap_or_else(|| algo::clamp_time(u128::from(newest) + 2 * u128::from(p.window)));
            let summary = algo::log::LogSummary {
                total_units: kept.iter().map(|e| e.units).fold(0u64, u64::saturating_add),
                newest: Some(newest),
                expire_at: Some(expire_at),
            };
            let d =
                algo::log::decide(kept.iter().map(|e| Ok::<_, codec::StateError>(*e)), summary, now, p, algo::PEEK).map_err(unreadable)?;
            Ok(Outcome { reply: algo::refund_reply(d.reply), write: Some(codec::log::rebuild(&kept, expire_at)) })
        }
        Spec::Log(p) => {
            let view = found.map(|f| codec::log::LogView::parse(f.bytes)).transpose().map_err(unreadable)?;
            let summary = view.as_ref().map_or_else(Default::default, |v| v.summary(found.and_then(|f| f.expire_at)));
            let entries = view.as_ref().map(|v| v.entries()).into_iter().flatten();
            let d = algo::log::decide(entries, summary, now, p, req).map_err(unreadable)?;
            let write = d.change.map(|c| codec::log::write(view.as_ref(), &c)).transpose().map_err(unreadable)?;
            Ok(Outcome { reply: d.reply, write })
        }
    }
}
