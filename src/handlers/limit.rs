//! RL.FIXED, RL.SLIDING, RL.LOG, RL.TOKEN and RL.LEAKY: argv -> typed call -> (stored state,
//! now) -> pure decision (`limiter::evaluate`) -> (write in place + replicate the effect) ->
//! five integers.

use crate::algo::Algorithm;
use crate::command::Command;
use crate::error::Error;
use crate::redis::call::{argument_bytes, Invocation};
use crate::redis::key::Current;
use crate::stats::Outcome;
use crate::{args, limiter};

/// More arguments than any valid call has: the rest cannot be valid options.
const MAX_ARGS: usize = 16;

pub fn run(call: &Invocation<'_>, algorithm: Algorithm) -> Result<Outcome, Error> {
    let [_, key_name, rest @ ..] = call.argv else { return Err(Error::WrongArity) };
    if rest.len() > MAX_ARGS {
        return Err(Error::TooManyArguments);
    }
    let words: [&[u8]; MAX_ARGS] = argument_bytes(rest)?;
    let parsed = args::parse(algorithm, words.get(..rest.len()).unwrap_or_default())?;
    let now = call.now_ms()?;

    let key = call.open(*key_name)?;
    let found = key.read()?;
    let current = found.map(Current::from);
    let outcome = limiter::evaluate(&parsed, found, now)?;
    if let Some(write) = &outcome.write {
        call.commit(&key, *key_name, current, write, Command::of(algorithm))?;
    }
    drop(key);
    call.reply_integers(&outcome.reply.to_array())?;
    Ok(match (parsed.request.peek, outcome.reply.allowed) {
        (true, _) => Outcome::Peeked,
        (false, true) => Outcome::Allowed,
        (false, false) => Outcome::Denied,
    })
}
