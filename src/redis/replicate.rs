//! Effects replication. RL commands depend on the clock, so they are never replicated
//! verbatim: each change goes to replicas and the AOF as the deterministic native command
//! that produces the same bytes and expiry (`SET ... PXAT`, `SETRANGE`, `PEXPIREAT`). A
//! replica then needs neither the module nor a clock in step with the primary's.

use std::os::raw::{c_char, c_longlong};

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};

use crate::algo::concurrent::{Holder, LeaseChange, PRUNE_ALL};
use crate::algo::Millis;
use crate::codec::Write;
use crate::error::Error;

const SET: &[u8] = b"SET\0";
const SETRANGE: &[u8] = b"SETRANGE\0";
const PEXPIREAT: &[u8] = b"PEXPIREAT\0";
const PXAT: &[u8] = b"PXAT\0";
const ZADD: &[u8] = b"ZADD\0";
const ZREM: &[u8] = b"ZREM\0";
const ZREMRANGEBYSCORE: &[u8] = b"ZREMRANGEBYSCORE\0";
const MINUS_INF: &[u8] = b"-inf\0";
const PLUS_INF: &[u8] = b"+inf\0";

fn c(s: &[u8]) -> *const c_char {
    s.as_ptr().cast()
}

pub fn replicate(ctx: *mut RedisModuleCtx, key: *mut RedisModuleString, write: &Write) -> Result<(), Error> {
    let replicate = api!(RedisModule_Replicate);
    let status = match write {
        Write::Value { bytes, expire_at } => {
            let b = bytes.as_slice();
            let at = (*expire_at).min(i64::MAX as u64) as c_longlong;
            // SAFETY: the format "sbcl" matches the arguments: a RedisModuleString, a buffer
            // with its length, a NUL-terminated C string and a long long.
            unsafe { replicate(ctx, c(SET), c(b"sbcl\0"), key, b.as_ptr().cast::<c_char>(), b.len(), c(PXAT), at) }
        }
        Write::Leases { id, change } => leases(ctx, key, id.as_slice(), change),
        Write::Range { offset, bytes, expire_at } => {
            let b = bytes.as_slice();
            let off = (*offset).min(i64::MAX as usize) as c_longlong;
            // SAFETY: "slb": a RedisModuleString, a long long, a buffer with its length.
            let s = unsafe { replicate(ctx, c(SETRANGE), c(b"slb\0"), key, off, b.as_ptr().cast::<c_char>(), b.len()) };
            match expire_at {
                // SAFETY: "sl": a RedisModuleString and a long long.
                Some(at) if s == raw::REDISMODULE_OK as i32 => unsafe {
                    replicate(ctx, c(PEXPIREAT), c(b"sl\0"), key, (*at).min(i64::MAX as u64) as c_longlong)
                },
                _ => s,
            }
        }
    };
    if status != raw::REDISMODULE_OK as i32 {
        return Err(Error::Server("could not replicate the change"));
    }
    Ok(())
}

/// RL.CONCURRENT's change as `ZREMRANGEBYSCORE key -inf t`, `ZADD key t id` or `ZREM key id`,
/// `PEXPIREAT key t`: explicit scores and times, so a replica needs no clock.
fn leases(ctx: *mut RedisModuleCtx, key: *mut RedisModuleString, id: &[u8], change: &LeaseChange) -> i32 {
    // SAFETY: the pointer is written once by RedisModule_Init and only read afterwards.
    let Some(replicate) = (unsafe { raw::RedisModule_Replicate }) else { return raw::REDISMODULE_ERR as i32 };
    let time = |t: Millis| t.min(i64::MAX as u64) as c_longlong;
    let ok = raw::REDISMODULE_OK as i32;
    let mut status = ok;
    match change.prune_through {
        // SAFETY: "scc": a RedisModuleString and two NUL-terminated C strings.
        Some(PRUNE_ALL) => status = unsafe { replicate(ctx, c(ZREMRANGEBYSCORE), c(b"scc\0"), key, c(MINUS_INF), c(PLUS_INF)) },
        // SAFETY: "scl": a RedisModuleString, a NUL-terminated C string, a long long.
        Some(through) => status = unsafe { replicate(ctx, c(ZREMRANGEBYSCORE), c(b"scl\0"), key, c(MINUS_INF), time(through)) },
        None => {}
    }
    if status == ok {
        status = match change.holder {
            // SAFETY: "slb": a RedisModuleString, a long long, a buffer with its length.
            Holder::Set(at) => unsafe { replicate(ctx, c(ZADD), c(b"slb\0"), key, time(at), id.as_ptr().cast::<c_char>(), id.len()) },
            // SAFETY: "sb": a RedisModuleString, a buffer with its length.
            Holder::Remove => unsafe { replicate(ctx, c(ZREM), c(b"sb\0"), key, id.as_ptr().cast::<c_char>(), id.len()) },
        };
    }
    match change.expire_at {
        // SAFETY: "sl": a RedisModuleString and a long long.
        Some(at) if status == ok && change.expire_moves => unsafe { replicate(ctx, c(PEXPIREAT), c(b"sl\0"), key, time(at)) },
        _ => status,
    }
}
