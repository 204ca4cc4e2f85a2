//! The Redis path of CL.THROTTLE: argv -> redis-cell's arguments -> (stored TAT, now) -> GCRA
//! (`algo::gcra`) -> (write in place + replicate as `SET key tat PXAT t`) -> five integers.

use std::os::raw::c_int;

use redis_module::raw::{RedisModuleCtx, RedisModuleString};

use crate::algo::gcra::{self, ThrottleError, NANOS_PER_MILLI};
use crate::codec::{self, Kind, Write};
use crate::command::{argument_bytes, guarded, now, signal};
use crate::error::Error;
use crate::store::key::{Current, OpenKey};
use crate::store::replicate::replicate;
use crate::{args, reply, stats};

pub fn entry(ctx: *mut RedisModuleCtx, argv: *mut *mut RedisModuleString, argc: c_int) -> c_int {
    guarded(ctx, argv, argc, Kind::Throttle, |argv| run(ctx, argv))
}

fn run(ctx: *mut RedisModuleCtx, argv: &[*mut RedisModuleString]) -> Result<stats::Outcome, Error> {
    let [_, key_name, rest @ ..] = argv else { return Err(Error::WrongArity) };
    if rest.len() > 4 {
        return Err(Error::WrongArity);
    }
    let args: [&[u8]; 4] = argument_bytes(rest)?;
    let call = args::parse_throttle(args.get(..rest.len()).unwrap_or_default())?;
    let now_ms = now()?;

    let key = OpenKey::open(ctx, *key_name)?;
    let found = key.read()?;
    let stored = found
        .and_then(|f| f.live_at(now_ms))
        .map(|f| codec::tat::decode(f.bytes).map(|tat| (tat, f.expire_at.is_some())))
        .transpose()
        .map_err(|e| Error::State(Kind::Throttle, e))?;
    let decision = gcra::decide(stored, i128::from(now_ms) * NANOS_PER_MILLI, call.params, call.quantity).map_err(|e| match e {
        ThrottleError::ZeroInterval => Error::ZeroInterval,
        ThrottleError::TatTooLarge => Error::TatTooLarge,
    })?;
    if let Some(s) = decision.store {
        let write = Write::Value { bytes: codec::tat::encode(s.tat), expire_at: s.expire_at };
        key.apply(&write, found.map(Current::from))?;
        replicate(ctx, *key_name, &write)?;
        signal(ctx, *key_name, Kind::Throttle)?;
    }
    drop(key);
    reply::send_integers(ctx, &decision.reply.to_array())?;
    Ok(match (call.quantity, decision.reply.limited) {
        (0, _) => stats::Outcome::Peeked,
        (_, false) => stats::Outcome::Allowed,
        (_, true) => stats::Outcome::Denied,
    })
}
