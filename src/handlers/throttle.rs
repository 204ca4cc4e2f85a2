//! CL.THROTTLE: argv -> redis-cell's arguments -> (stored TAT, now) -> GCRA (`algo::gcra`) ->
//! (write in place + replicate as `SET key tat PXAT t`) -> five integers.

use crate::algo::gcra::{self, ThrottleError};
use crate::args;
use crate::codec::{self, Write};
use crate::command::Command;
use crate::error::Error;
use crate::redis::call::{argument_bytes, string_bytes, Invocation};
use crate::redis::key::Current;
use crate::stats::Outcome;
use crate::top;

const NANOS_PER_MICRO: i128 = 1000;

pub fn run(call: &Invocation<'_>) -> Result<Outcome, Error> {
    let [_, key_name, rest @ ..] = call.argv else { return Err(Error::WrongArity) };
    if rest.len() > 4 {
        return Err(Error::WrongArity);
    }
    let words: [&[u8]; 4] = argument_bytes(rest)?;
    let parsed = args::parse_throttle(words.get(..rest.len()).unwrap_or_default())?;
    // redis-cell stamps its TATs in nanoseconds: read the clock as finely as the server can,
    // once, so that a TAT redis-cell wrote a moment ago is continued, not answered one step
    // behind (to the microsecond on Redis 7.2+ and Valkey, the millisecond before).
    let now_us = call.now_us()?;
    let now_ms = now_us / 1000;

    let key = call.open(*key_name)?;
    let found = key.read()?;
    let stored = found
        .and_then(|f| f.live_at(now_ms))
        .map(|f| codec::tat::decode(f.bytes).map(|tat| (tat, f.expire_at.is_some())))
        .transpose()
        .map_err(|e| Error::State(Command::Throttle, e))?;
    let now_ns = i128::from(now_us) * NANOS_PER_MICRO;
    let decision = gcra::decide(stored, now_ns, parsed.params, parsed.quantity).map_err(|e| match e {
        ThrottleError::ZeroInterval => Error::ZeroInterval,
        ThrottleError::TatTooLarge => Error::TatTooLarge,
    })?;
    if let Some(s) = decision.store {
        let write = Write::Value { bytes: codec::tat::encode(s.tat), expire_at: s.expire_at };
        call.commit(&key, *key_name, found.map(Current::from), &write, Command::Throttle)?;
    }
    drop(key);
    call.reply_integers(&decision.reply.to_array())?;
    Ok(match (parsed.quantity, decision.reply.limited) {
        (0, _) => Outcome::Peeked,
        (_, false) => Outcome::Allowed,
        (_, true) => {
            top::refused(string_bytes(*key_name)?, now_ms);
            Outcome::Denied
        }
    })
}
