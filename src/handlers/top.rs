//! RL.TOP: argv -> `[count]` or `RESET` -> the node's refused-most table (`top`) -> an array
//! of `[key, refusals, overcount]`, or OK. A replica answers empty: its table would hold only
//! the refusals of calls made to it directly (a writable replica), not what its primary
//! refused, so it shows none rather than a misleading part.

use crate::args::{self, TopCall};
use crate::error::Error;
use crate::redis::call::{argument_bytes, Invocation};
use crate::stats::Outcome;
use crate::top;

pub fn run(call: &Invocation<'_>) -> Result<Outcome, Error> {
    let [_, rest @ ..] = call.argv else { return Err(Error::WrongArity) };
    if rest.len() > 1 {
        return Err(Error::TooManyArguments);
    }
    let words: [&[u8]; 1] = argument_bytes(rest)?;
    match args::parse_top(words.get(..rest.len()).unwrap_or_default())? {
        TopCall::Reset => {
            top::reset();
            call.reply_ok()?;
        }
        TopCall::List(_) if call.is_replica()? => call.reply_top(&[])?,
        TopCall::List(count) => call.reply_top(&top::most_refused(count, call.now_ms()?))?,
    }
    Ok(Outcome::Answered)
}
