//! The Redis path of RL.ALL: argv -> keys and specs -> every key read -> one all-or-nothing
//! decision (`limiter::evaluate_all`) -> every write applied and replicated -> six integers.

use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};

use crate::args::{self, MAX_ALL_ARGS};
use crate::command::{now, signal, string_bytes};
use crate::error::Error;
use crate::limiter::{self, Found};
use crate::store::key::{Current, OpenKey};
use crate::store::replicate::replicate;
use crate::{reply, stats};

/// The entry point Redis calls; a panic becomes an error reply, as for the other commands.
/// Redis also calls it to learn the keys (the `getkeys-api` flag): Redis 7.0's cluster slot
/// check finds a module command's keys only that way, not through its key spec.
pub fn entry(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let argv: &[*mut RedisModuleString] = match usize::try_from(argc) {
            // SAFETY: Redis passes argc valid string pointers in argv for this call.
            Ok(n) if !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, n) },
            _ => &[],
        };
        if is_keys_request(ctx) {
            report_keys(ctx, argv);
            return Ok(None);
        }
        run(ctx, argv).map(Some)
    }));
    match outcome {
        Ok(Ok(None)) => raw::REDISMODULE_OK as c_int,
        Ok(Ok(Some(ended))) => {
            stats::record_all(ended);
            raw::REDISMODULE_OK as c_int
        }
        Ok(Err(e)) => {
            stats::record_all(stats::Outcome::Error);
            reply::send_error(ctx, &e)
        }
        Err(_) => {
            stats::record_all(stats::Outcome::Error);
            reply::send_error(ctx, &Error::Server("internal error in the ratelimit module (see the server log)"))
        }
    }
}

fn is_keys_request(ctx: *mut RedisModuleCtx) -> bool {
    // SAFETY: the pointer is written once by RedisModule_Init and only read afterwards; ctx is
    // the context of this call.
    unsafe { raw::RedisModule_IsKeysPositionRequest.is_some_and(|f| f(ctx) != 0) }
}

/// Tells Redis where the keys are: positions 2 .. 2 + numkeys. A numkeys that is not valid
/// reports no keys; the call itself then fails with the numkeys error.
fn report_keys(ctx: *mut RedisModuleCtx, argv: &[*mut RedisModuleString]) {
    let Some(numkeys) = argv.get(1).and_then(|a| string_bytes(*a).ok()) else { return };
    let Ok(keys) = args::numkeys(numkeys, argv.len().saturating_sub(2)) else { return };
    // SAFETY: as above.
    let Some(key_at) = (unsafe { raw::RedisModule_KeyAtPos }) else { return };
    for pos in 2..2 + keys {
        // SAFETY: ctx is a keys-position request context; pos is within argv.
        unsafe { key_at(ctx, pos as c_int) };
    }
}

fn run(ctx: *mut RedisModuleCtx, argv: &[*mut RedisModuleString]) -> Result<stats::Outcome, Error> {
    let [_, numkeys, rest @ ..] = argv else { return Err(Error::WrongArity) };
    if argv.len() > MAX_ALL_ARGS {
        return Err(Error::TooManyArguments);
    }
    let words = rest.iter().map(|a| string_bytes(*a)).collect::<Result<Vec<_>, _>>()?;
    let (keys, call) = args::all_call(string_bytes(*numkeys)?, &words)?;
    let key_names = rest.get(..keys).unwrap_or_default();
    let now = now()?;

    let open = key_names.iter().map(|k| OpenKey::open(ctx, *k)).collect::<Result<Vec<_>, _>>()?;
    let found: Vec<Option<Found<'_>>> = open.iter().map(OpenKey::read).collect::<Result<_, _>>()?;
    let current: Vec<Option<Current>> = found.iter().map(|f| f.map(Current::from)).collect();
    let outcome = limiter::evaluate_all(&call.specs, &found, now, call.request)?;
    drop(found);
    // Several effects from one command: Redis wraps them in MULTI/EXEC for replicas and the
    // AOF, so they apply together there too.
    for (i, write) in &outcome.writes {
        let (Some(key), Some(name), Some(spec)) = (open.get(*i), key_names.get(*i), call.specs.get(*i)) else {
            return Err(Error::Server("RL.ALL wrote a key it did not open"));
        };
        key.apply(write, current.get(*i).copied().flatten())?;
        replicate(ctx, *name, write)?;
        signal(ctx, *name, spec.kind())?;
    }
    drop(open);
    reply::send_integers(ctx, &outcome.reply)?;
    Ok(match (call.request.peek, outcome.reply[0]) {
        (true, _) => stats::Outcome::Peeked,
        (false, 1) => stats::Outcome::Allowed,
        (false, _) => stats::Outcome::Denied,
    })
}
