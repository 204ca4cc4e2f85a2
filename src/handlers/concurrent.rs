//! RL.CONCURRENT: argv -> (limit, lease, id, action) -> (the stored leases, now) -> pure
//! decision (`limiter::evaluate_concurrent`) -> (the sorted set changed in place + the effects
//! replicated) -> five integers.

use crate::algo::concurrent::Action;
use crate::command::Command;
use crate::error::Error;
use crate::redis::call::{argument_bytes, string_bytes, Invocation};
use crate::stats::Outcome;
use crate::{args, limiter, top};

/// `limit lease id` and at most one option. A fifth word is never valid either, but is left to
/// the parser, so `PEEK RELEASE` or a repeated option gets its own error rather than a count.
const MAX_ARGS: usize = 5;

pub fn run(call: &Invocation<'_>) -> Result<Outcome, Error> {
    let [_, key_name, rest @ ..] = call.argv else { return Err(Error::WrongArity) };
    if rest.len() > MAX_ARGS {
        return Err(Error::TooManyArguments);
    }
    let words: [&[u8]; MAX_ARGS] = argument_bytes(rest)?;
    let words = words.get(..rest.len()).unwrap_or_default();
    let parsed = args::parse_concurrent(words)?;
    let id = words.get(2).copied().unwrap_or_default();
    let now = call.now_ms()?;

    let key = call.open(*key_name)?;
    let summary = key.read_leases(id)?;
    let outcome = limiter::evaluate_concurrent(&parsed, id, summary, key.expiries()?, now)?;
    if let Some(write) = &outcome.write {
        call.commit(&key, *key_name, None, write, Command::Concurrent)?;
    }
    drop(key);
    call.reply_integers(&outcome.reply.to_array())?;
    Ok(match (parsed.action, outcome.reply.allowed) {
        (Action::Peek, _) => Outcome::Peeked,
        (Action::Release, _) => Outcome::Released,
        (Action::Acquire, true) => Outcome::Allowed,
        (Action::Acquire, false) => {
            top::refused(string_bytes(*key_name)?, now);
            Outcome::Denied
        }
    })
}
