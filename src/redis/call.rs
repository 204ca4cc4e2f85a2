//! The one Redis path every handler takes: the panic guard and the INFO count around the
//! call, the arguments' bytes, the server's clock, and "apply the write, replicate its effect,
//! signal the key".

use std::os::raw::c_int;
use std::panic::{catch_unwind, AssertUnwindSafe};

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};

use super::key::{Current, OpenKey};
use super::replicate::replicate;
use super::reply;
use crate::algo::top::Entry;
use crate::algo::Millis;
use crate::args;
use crate::codec::Write;
use crate::command::{Command, Event, Keys};
use crate::error::Error;
use crate::stats::{self, Outcome};

/// One call of a command, as a handler sees it.
pub struct Invocation<'a> {
    ctx: *mut RedisModuleCtx,
    /// The words of the call, the command's name first.
    pub argv: &'a [*mut RedisModuleString],
}

/// The entry point Redis calls for every command. A panic here would abort the whole server,
/// so `run` goes under `catch_unwind` and a panic becomes an error reply (and a line in the
/// server log); the outcome is counted under `command` in INFO. A command whose keys come from
/// `numkeys` is also called to report them (the getkeys API): that call is not counted.
pub fn entry(
    ctx: *mut RedisModuleCtx,
    argv: *mut *mut RedisModuleString,
    argc: c_int,
    command: Command,
    run: impl FnOnce(&Invocation<'_>) -> Result<Outcome, Error>,
) -> c_int {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let argv: &[*mut RedisModuleString] = match usize::try_from(argc) {
            // SAFETY: Redis passes argc valid string pointers in argv for this call.
            Ok(n) if !argv.is_null() => unsafe { std::slice::from_raw_parts(argv, n) },
            _ => &[],
        };
        if command.describe().keys == Keys::NumKeys && is_keys_request(ctx) {
            report_numkeys(ctx, argv);
            return Ok(None);
        }
        run(&Invocation { ctx, argv }).map(Some)
    }));
    match outcome {
        Ok(Ok(None)) => raw::REDISMODULE_OK as c_int,
        Ok(Ok(Some(ended))) => {
            stats::record(command, ended);
            raw::REDISMODULE_OK as c_int
        }
        Ok(Err(e)) => {
            stats::record(command, Outcome::Error);
            reply::send_error(ctx, &e)
        }
        Err(_) => {
            stats::record(command, Outcome::Error);
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
fn report_numkeys(ctx: *mut RedisModuleCtx, argv: &[*mut RedisModuleString]) {
    let Some(numkeys) = argv.get(1).and_then(|a| string_bytes(*a).ok()) else { return };
    let Ok(keys) = args::numkeys(numkeys, argv.len().saturating_sub(2)) else { return };
    // SAFETY: as above.
    let Some(key_at) = (unsafe { raw::RedisModule_KeyAtPos }) else { return };
    for pos in 2..2 + keys {
        // SAFETY: ctx is a keys-position request context; pos is within argv.
        unsafe { key_at(ctx, pos as c_int) };
    }
}

impl Invocation<'_> {
    /// The server's clock, in Unix milliseconds.
    pub fn now_ms(&self) -> Result<Millis, Error> {
        let milliseconds = api!(RedisModule_Milliseconds);
        // SAFETY: no arguments; reads the server's clock.
        Ok(unsafe { milliseconds() }.max(0) as Millis)
    }

    /// The server's clock at the finest resolution it offers, in Unix microseconds: its
    /// microsecond clock on Redis 7.2+ and Valkey, else milliseconds (Redis 6.2, 7.0). One
    /// reading.
    pub fn now_us(&self) -> Result<u64, Error> {
        // SAFETY: the pointer is written once by RedisModule_Init and only read afterwards.
        match unsafe { raw::RedisModule_Microseconds } {
            // SAFETY: no arguments; reads the server's clock.
            Some(microseconds) => Ok(unsafe { microseconds() }.max(0) as u64),
            None => Ok(self.now_ms()?.saturating_mul(1000)),
        }
    }

    /// Opens the key `name` (one of `argv`) for reading and writing.
    pub fn open(&self, name: *mut RedisModuleString) -> Result<OpenKey, Error> {
        OpenKey::open(self.ctx, name)
    }

    /// What every write does: apply `write` to `key` (named `name`, read as `current`),
    /// replicate its effect as native commands, and signal the key with `command`'s event.
    pub fn commit(
        &self,
        key: &OpenKey,
        name: *mut RedisModuleString,
        current: Option<Current>,
        write: &Write,
        command: Command,
    ) -> Result<(), Error> {
        key.apply(write, current)?;
        replicate(self.ctx, name, write)?;
        signal(self.ctx, name, command.describe().event.ok_or(Error::Server("a command without a keyspace event wrote a key"))?)
    }

    /// Whether this server is a replica.
    pub fn is_replica(&self) -> Result<bool, Error> {
        let flags = api!(RedisModule_GetContextFlags);
        // SAFETY: ctx is the context of the running command.
        Ok(unsafe { flags(self.ctx) } as u32 & raw::REDISMODULE_CTX_FLAGS_SLAVE != 0)
    }

    /// RL.TOP's reply.
    pub fn reply_top(&self, entries: &[Entry]) -> Result<(), Error> {
        reply::send_top(self.ctx, entries)
    }

    /// `+OK`.
    pub fn reply_ok(&self) -> Result<(), Error> {
        reply::send_ok(self.ctx)
    }

    /// Replies with an array of integers.
    pub fn reply_integers(&self, fields: &[i64]) -> Result<(), Error> {
        reply::send_integers(self.ctx, fields)
    }
}

/// The bytes of `args` (at most `N`: the callers check there are no more), without
/// allocating; the slots after `args.len()` stay empty.
pub fn argument_bytes<'a, const N: usize>(args: &[*mut RedisModuleString]) -> Result<[&'a [u8]; N], Error> {
    let mut bytes: [&[u8]; N] = [&[]; N];
    for (slot, arg) in bytes.iter_mut().zip(args) {
        *slot = string_bytes(*arg)?;
    }
    Ok(bytes)
}

/// The bytes of a command argument, valid for the whole call.
pub fn string_bytes<'a>(s: *mut RedisModuleString) -> Result<&'a [u8], Error> {
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

/// What a built-in write does after changing a key: invalidate WATCH and client-side caches,
/// and publish the keyspace event `event` (`rl.fixed`, ...) to those who subscribed.
fn signal(ctx: *mut RedisModuleCtx, key: *mut RedisModuleString, event: Event) -> Result<(), Error> {
    let modified = api!(RedisModule_SignalModifiedKey);
    let notify = api!(RedisModule_NotifyKeyspaceEvent);
    // SAFETY: ctx and key belong to the running command; event is NUL-terminated.
    unsafe {
        modified(ctx, key);
        let class = if event.sorted_set { raw::REDISMODULE_NOTIFY_ZSET } else { raw::REDISMODULE_NOTIFY_STRING };
        notify(ctx, class as c_int, event.name.as_ptr(), key);
    }
    Ok(())
}
