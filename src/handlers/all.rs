//! RL.ALL: argv -> keys and specs -> every key read for its spec -> one all-or-nothing
//! decision (`limiter::evaluate_all`) -> every write applied and replicated -> six integers.
//! Its keys' positions are reported to Redis by the glue (`Keys::NumKeys`).

use crate::algo::concurrent::Action;
use crate::args::{self, AllSpec, Call, ConcurrentCall, MAX_ALL_ARGS};
use crate::error::Error;
use crate::limiter::{self, Limit};
use crate::redis::call::{string_bytes, Invocation};
use crate::redis::key::Current;
use crate::stats::Outcome;
use crate::top;

pub fn run(call: &Invocation<'_>) -> Result<Outcome, Error> {
    let [_, numkeys, rest @ ..] = call.argv else { return Err(Error::WrongArity) };
    if call.argv.len() > MAX_ALL_ARGS {
        return Err(Error::TooManyArguments);
    }
    let words = rest.iter().map(|a| string_bytes(*a)).collect::<Result<Vec<_>, _>>()?;
    let (keys, parsed) = args::all_call(string_bytes(*numkeys)?, &words)?;
    let key_names = rest.get(..keys).unwrap_or_default();
    let id = parsed.id.as_deref().unwrap_or_default();
    let action = if parsed.request.peek { Action::Peek } else { Action::Acquire };
    let now = call.now_ms()?;

    let open = key_names.iter().map(|k| call.open(*k)).collect::<Result<Vec<_>, _>>()?;
    let mut limits = Vec::with_capacity(keys);
    let mut current: Vec<Option<Current>> = Vec::with_capacity(keys);
    for (key, spec) in open.iter().zip(&parsed.specs) {
        limits.push(match *spec {
            AllSpec::Rate(spec) => {
                let found = key.read()?;
                current.push(found.map(Current::from));
                Limit::Rate { call: Call { spec, request: parsed.request }, found }
            }
            AllSpec::Concurrent(params) => {
                current.push(None);
                let leases = key.read_leases(id)?;
                Limit::Concurrent { call: ConcurrentCall { params, action }, id, leases, expiries: Box::new(key.expiries()?) }
            }
        });
    }
    let outcome = limiter::evaluate_all(limits, now)?;
    // Several effects from one command: Redis wraps them in MULTI/EXEC for replicas and the
    // AOF, so they apply together there too.
    for (i, write) in &outcome.writes {
        let (Some(key), Some(name), Some(spec)) = (open.get(*i), key_names.get(*i), parsed.specs.get(*i)) else {
            return Err(Error::Server("RL.ALL wrote a key it did not open"));
        };
        call.commit(key, *name, current.get(*i).copied().flatten(), write, spec.command())?;
    }
    drop(open);
    call.reply_integers(&outcome.reply)?;
    Ok(match (parsed.request.peek, outcome.reply[0]) {
        (true, _) => Outcome::Peeked,
        (false, 1) => Outcome::Allowed,
        (false, _) => {
            // The refusal is the decisive limiter's: field 6, its 1-based index.
            let decisive = usize::try_from(outcome.reply[5]).ok().and_then(|i| i.checked_sub(1)).and_then(|i| key_names.get(i));
            if let Some(name) = decisive {
                top::refused(string_bytes(*name)?, now);
            }
            Outcome::Denied
        }
    })
}
