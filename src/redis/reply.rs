//! Replies: arrays of integers, and errors.

use std::ffi::CString;
use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleCtx};

use crate::algo::top::Entry;
use crate::error::Error;

/// An array of integers: the five of an RL command or CL.THROTTLE, RL.ALL's six.
pub fn send_integers(ctx: *mut RedisModuleCtx, fields: &[i64]) -> Result<(), Error> {
    let array = api!(RedisModule_ReplyWithArray);
    let integer = api!(RedisModule_ReplyWithLongLong);
    // SAFETY: ctx is the context of the running command; an array of n is followed by
    // exactly n elements.
    unsafe {
        array(ctx, fields.len() as _);
        for v in fields {
            integer(ctx, *v);
        }
    }
    Ok(())
}

/// RL.TOP's reply: an array of `[key, refusals, overcount]`.
pub fn send_top(ctx: *mut RedisModuleCtx, entries: &[Entry]) -> Result<(), Error> {
    let array = api!(RedisModule_ReplyWithArray);
    let integer = api!(RedisModule_ReplyWithLongLong);
    let bulk = api!(RedisModule_ReplyWithStringBuffer);
    let as_integer = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    // SAFETY: ctx is the context of the running command; each array of n is followed by
    // exactly n elements; the key bytes outlive the call, and Redis copies them.
    unsafe {
        array(ctx, entries.len() as _);
        for e in entries {
            array(ctx, 3);
            bulk(ctx, e.key.as_ptr().cast(), e.key.len());
            integer(ctx, as_integer(e.refusals));
            integer(ctx, as_integer(e.overcount));
        }
    }
    Ok(())
}

/// `+OK`.
pub fn send_ok(ctx: *mut RedisModuleCtx) -> Result<(), Error> {
    let simple = api!(RedisModule_ReplyWithSimpleString);
    // SAFETY: ctx is the context of the running command; the string is NUL-terminated.
    unsafe { simple(ctx, c"OK".as_ptr()) };
    Ok(())
}

/// Replies with `err`; Redis's own arity error for WrongArity.
pub fn send_error(ctx: *mut RedisModuleCtx, err: &Error) -> c_int {
    // SAFETY: ctx is the running command's context; the strings outlive the calls.
    unsafe {
        if *err == Error::WrongArity {
            if let Some(wrong_arity) = raw::RedisModule_WrongArity {
                return wrong_arity(ctx);
            }
        }
        let message = CString::new(err.message().replace('\0', "?")).unwrap_or_default();
        if let Some(reply_error) = raw::RedisModule_ReplyWithError {
            reply_error(ctx, message.as_ptr());
        }
    }
    raw::REDISMODULE_OK as c_int
}
