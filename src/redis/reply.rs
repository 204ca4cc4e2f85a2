//! Replies: arrays of integers, and errors.

use std::ffi::CString;
use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleCtx};

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
