//! RL.ALL: argv -> keys and specs -> every key read -> one all-or-nothing decision
//! (`limiter::evaluate_all`) -> every write applied and replicated -> six integers. Its keys'
//! positions are reported to Redis by the glue (`Keys::NumKeys`).

use crate::args::{self, MAX_ALL_ARGS};
use crate::command::Command;
use crate::error::Error;
use crate::limiter::{self, Found};
use crate::redis::call::{string_bytes, Invocation};
use crate::redis::key::Current;
use crate::stats::Outcome;

pub fn run(call: &Invocation<'_>) -> Result<Outcome, Error> {
    let [_, numkeys, rest @ ..] = call.argv else { return Err(Error::WrongArity) };
    if call.argv.len() > MAX_ALL_ARGS {
        return Err(Error::TooManyArguments);
    }
    let words = rest.iter().map(|a| string_bytes(*a)).collect::<Result<Vec<_>, _>>()?;
    let (keys, parsed) = args::all_call(string_bytes(*numkeys)?, &words)?;
    let key_names = rest.get(..keys).unwrap_or_default();
    let now = call.now_ms()?;

    let open = key_names.iter().map(|k| call.open(*k)).collect::<Result<Vec<_>, _>>()?;
    let found: Vec<Option<Found<'_>>> = open.iter().map(|k| k.read()).collect::<Result<_, _>>()?;
    let current: Vec<Option<Current>> = found.iter().map(|f| f.map(Current::from)).collect();
    let outcome = limiter::evaluate_all(&parsed.specs, &found, now, parsed.request)?;
    drop(found);
    // Several effects from one command: Redis wraps them in MULTI/EXEC for replicas and the
    // AOF, so they apply together there too.
    for (i, write) in &outcome.writes {
        let (Some(key), Some(name), Some(spec)) = (open.get(*i), key_names.get(*i), parsed.specs.get(*i)) else {
            return Err(Error::Server("RL.ALL wrote a key it did not open"));
        };
        call.commit(key, *name, current.get(*i).copied().flatten(), write, Command::of(spec.algorithm()))?;
    }
    drop(open);
    call.reply_integers(&outcome.reply)?;
    Ok(match (parsed.request.peek, outcome.reply[0]) {
        (true, _) => Outcome::Peeked,
        (false, 1) => Outcome::Allowed,
        (false, _) => Outcome::Denied,
    })
}
