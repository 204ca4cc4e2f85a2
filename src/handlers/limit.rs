//! RL.FIXED, RL.SLIDING, RL.LOG, RL.TOKEN and RL.LEAKY: argv -> typed call -> (stored state,
//! now) -> pure decision (`limiter::evaluate`) -> (write in place + replicate the effect) ->
//! five integers.

use crate::algo::{Algorithm, Mode};
use crate::command::Command;
use crate::error::Error;
use crate::redis::call::{argument_bytes, string_bytes, Invocation};
use crate::redis::key::Current;
use crate::stats::{self, Outcome};
use crate::{args, limiter, top};

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
    let reply = &outcome.reply;
    Ok(match (parsed.request.peek, reply.allowed) {
        (true, _) => Outcome::Peeked,
        (false, true) => {
            // A REFUND is admitted but makes no one wait.
            if algorithm == Algorithm::Leaky && parsed.request.mode != Mode::Refund {
                stats::record_wait(u64::try_from(reply.retry_after_ms).unwrap_or(0));
            }
            Outcome::Allowed
        }
        (false, false) => {
            top::refused(string_bytes(*key_name)?, now);
            Outcome::Denied
        }
    })
}
