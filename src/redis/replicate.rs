//! Effects replication. RL commands depend on the clock, so they are never replicated
//! verbatim: each change goes to replicas and the AOF as the deterministic native command
//! that produces the same bytes and expiry (`SET ... PXAT`, `SETRANGE`, `PEXPIREAT`). A
//! replica then needs neither the module nor a clock in step with the primary's.

use std::os::raw::{c_char, c_longlong};

use redis_module::raw::{self, RedisModuleCtx, RedisModuleString};

use crate::codec::Write;
use crate::error::Error;

const SET: &[u8] = b"SET\0";
const SETRANGE: &[u8] = b"SETRANGE\0";
const PEXPIREAT: &[u8] = b"PEXPIREAT\0";
const PXAT: &[u8] = b"PXAT\0";

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
