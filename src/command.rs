//! The path of every RL command: argv -> typed call -> (stored state, now) -> pure decision
//! -> (write in place + replicate the effect) -> reply.

use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};

use crate::algo::Millis;
use crate::codec::Kind;
use crate::error::Error;
use crate::store::key::{Current, OpenKey};
use crate::store::replicate::replicate;
use crate::{args, limiter, reply, stats};

/// More arguments than any valid call has: the rest cannot be valid options.
const MAX_ARGS: usize = 16;

/// The entry point Redis calls. A panic here would abort the whole server, so the body runs
/// under `catch_unwind` and a panic becomes an error reply (and a line in the server log).
pub fn entry(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int, kind: Kind) -> c_int {
    guarded(ctx, argv, argc, kind, |argv| run(ctx, argv, kind))
}

/// Runs `body` on the call's arguments under `catch_unwind`, counts the outcome under `kind`
/// in INFO, and answers an error reply for an error or a panic.
pub(crate) fn guarded(
    ctx: *mut RedisModuleCtx,
    argv: *mut *mut RedisModuleString,
    argc: c_int,
    kind: Kind,
    body: impl FnOnce(&[*mut RedisModuleString]) -> Result<stats::Outcome, Error>,
) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let argv: &[*mut RedisModuleString] = match usize::try_from(argc) {
            // SAFETY: Redis passes argc valid string pointers in argv for this call.
            Ok(n) if !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, n) },
            _ => &[],
        };
        body(argv)
    }));
    match outcome {
        Ok(Ok(ended)) => {
            stats::record(kind, ended);
            raw::REDISMODULE_OK as c_int
        }
        Ok(Err(e)) => {
            stats::record(kind, stats::Outcome::Error);
            reply::send_error(ctx, &e)
        }
        Err(_) => {
            stats::record(kind, stats::Outcome::Error);
            reply::send_error(ctx, &Error::Server("internal error in the ratelimit module (see the server log)"))
        }
    }
}

fn run(ctx: *mut RedisModuleCtx, argv: &[*mut RedisModuleString], kind: Kind) -> Result<stats::Outcome, Error> {
    let [_, key_name, rest @ ..] = argv else { return Err(Error::WrongArity) };
    if rest.len() > MAX_ARGS {
        return Err(Error::TooManyArguments);
    }
    let args: [&[u8]; MAX_ARGS] = argument_bytes(rest)?;
    let call = args::parse(kind, args.get(..rest.len()).unwrap_or_default())?;
    let now = now()?;

    let key = OpenKey::open(ctx, *key_name)?;
    let found = key.read()?;
    let current = found.map(Current::from);
    let outcome = limiter::evaluate(&call, found, now)?;
    if let Some(write) = &outcome.write {
        key.apply(write, current)?;
        replicate(ctx, *key_name, write)?;
        signal(ctx, *key_name, kind)?;
    }
    drop(key);
    reply::send(ctx, &outcome.reply)?;
    Ok(match (call.request.peek, outcome.reply.allowed) {
        (true, _) => stats::Outcome::Peeked,
        (false, true) => stats::Outcome::Allowed,
        (false, false) => stats::Outcome::Denied,
    })
}

/// The bytes of the first `N` of `args` (the callers check there are no more), without
/// allocating: the slots after `args.len()` stay empty.
pub(crate) fn argument_bytes<'a, const N: usize>(args: &[*mut RedisModuleString]) -> Result<[&'a [u8]; N], Error> {
    let mut bytes: [&[u8]; N] = [&[]; N];
    for (slot, arg) in bytes.iter_mut().zip(args) {
        *slot = string_bytes(*arg)?;
    }
    Ok(bytes)
}

/// The bytes of a command argument, valid for the whole call.
pub(crate) fn string_bytes<'a>(s: *mut RedisModuleString) -> Result<&'a [u8], Error> {
    let ptr_len = api!(RedisModule_StringPtrLen);
    let mut len = 0usize;
    // SAFETY: s is an argument of the running command; Redis keeps it alive for the call.
    let ptr = unsafe { ptr_len(s, &mut len) };
    if ptr.is_null() || len == 0 {
        return Ok(&[]);
    }
    // SAFETY: ptr points at len bytes owned by the argument, alive for the call.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) })
}

/// The server's clock, in Unix milliseconds.
pub(crate) fn now() -> Result<Millis, Error> {
    let milliseconds = api!(RedisModule_Milliseconds);
    // SAFETY: no arguments; reads the server's clock.
    Ok(unsafe { milliseconds() }.max(0) as Millis)
}

/// What a built-in write does after changing a key: invalidate WATCH and client-side caches,
/// and publish a keyspace event (`rl.fixed`, ...) to those who subscribed.
pub(crate) fn signal(ctx: *mut RedisModuleCtx, key: *mut RedisModuleString, kind: Kind) -> Result<(), Error> {
    let modified = api!(RedisModule_SignalModifiedKey);
    let notify = api!(RedisModule_NotifyKeyspaceEvent);
    let event: &[u8] = match kind {
        Kind::Fixed => b"rl.fixed\0",
        Kind::Sliding => b"rl.sliding\0",
        Kind::Log => b"rl.log\0",
        Kind::Token => b"rl.token\0",
        Kind::Leaky => b"rl.leaky\0",
        Kind::Throttle => b"rl.throttle\0",
    };
    // SAFETY: ctx and key belong to the running command; event is NUL-terminated.
    unsafe {
        modified(ctx, key);
        notify(ctx, raw::REDISMODULE_NOTIFY_STRING, event.as_ptr().cast(), key);
    }
    Ok(())
}
