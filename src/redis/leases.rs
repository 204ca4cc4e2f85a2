//! RL.CONCURRENT's sorted set through the low-level key API: the summary and the ascending
//! walk of expiries the decision reads, and a `Write::Leases` applied in place (the same result
//! as the `ZREMRANGEBYSCORE`, `ZADD`/`ZREM` and `PEXPIREAT` that `replicate` sends).

use std::os::raw::c_int;
use std::ptr::null_mut;

use redis_module::raw::{self, RedisModuleKey, RedisModuleString};

use super::key::OpenKey;
use crate::algo::concurrent::{Holder, LeaseChange, LeaseSummary, PRUNE_ALL};
use crate::algo::Millis;
use crate::codec::leases::{expiry, score};
use crate::codec::StateError;
use crate::command::Command;
use crate::error::Error;

/// A string the module creates (an id, a member read back), freed on drop.
struct OwnedString {
    ctx: *mut raw::RedisModuleCtx,
    s: *mut RedisModuleString,
}

impl OwnedString {
    fn new(key: &OpenKey, bytes: &[u8]) -> Result<OwnedString, Error> {
        let create = api!(RedisModule_CreateString);
        // SAFETY: ctx is the running command's; bytes is valid for its length.
        let s = unsafe { create(key.ctx, bytes.as_ptr().cast(), bytes.len()) };
        if s.is_null() {
            return Err(Error::Server("could not create a string"));
        }
        Ok(OwnedString { ctx: key.ctx, s })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the pointer is written once by RedisModule_Init and only read afterwards.
        let Some(ptr_len) = (unsafe { raw::RedisModule_StringPtrLen }) else { return &[] };
        let mut len = 0usize;
        // SAFETY: self.s is alive until drop.
        let ptr = unsafe { ptr_len(self.s, &mut len) };
        if ptr.is_null() || len == 0 {
            return &[];
        }
        // SAFETY: ptr points at len bytes owned by self.s, alive while self is borrowed.
        unsafe { std::slice::from_raw_parts(ptr.cast::<u8>(), len) }
    }
}

impl Drop for OwnedString {
    fn drop(&mut self) {
        // SAFETY: the pointer is written once by RedisModule_Init and only read afterwards;
        // self.s was created for this command and is freed exactly once, here.
        if let (Some(free), false) = (unsafe { raw::RedisModule_FreeString }, self.s.is_null()) {
            // SAFETY: as above.
            unsafe { free(self.ctx, self.s) };
        }
    }
}

/// The zset range API a walk uses, resolved once.
#[derive(Clone, Copy)]
struct RangeApi {
    current: unsafe extern "C" fn(*mut RedisModuleKey, *mut f64) -> *mut RedisModuleString,
    next: unsafe extern "C" fn(*mut RedisModuleKey) -> c_int,
    prev: unsafe extern "C" fn(*mut RedisModuleKey) -> c_int,
    end_reached: unsafe extern "C" fn(*mut RedisModuleKey) -> c_int,
    stop: unsafe extern "C" fn(*mut RedisModuleKey),
}

impl RangeApi {
    fn get() -> Result<RangeApi, Error> {
        Ok(RangeApi {
            current: api!(RedisModule_ZsetRangeCurrentElement),
            next: api!(RedisModule_ZsetRangeNext),
            prev: api!(RedisModule_ZsetRangePrev),
            end_reached: api!(RedisModule_ZsetRangeEndReached),
            stop: api!(RedisModule_ZsetRangeStop),
        })
    }
}

fn not_leases(e: StateError) -> Error {
    Error::State(Command::Concurrent, e)
}

impl OpenKey {
    /// The leases under the key as the decision reads them, for the holder `id` (None: no
    /// key); WRONGTYPE for a key of another type.
    pub fn read_leases(&self, id: &[u8]) -> Result<Option<LeaseSummary>, Error> {
        let key_type = api!(RedisModule_KeyType);
        // SAFETY: self.key is open until drop.
        match unsafe { key_type(self.key) } as isize {
            raw::REDISMODULE_KEYTYPE_EMPTY => return Ok(None),
            raw::REDISMODULE_KEYTYPE_ZSET => {}
            _ => return Err(Error::WrongType),
        }
        let length = api!(RedisModule_ValueLength);
        let zscore = api!(RedisModule_ZsetScore);
        let last_in_range = api!(RedisModule_ZsetLastInScoreRange);
        let range = RangeApi::get()?;
        let id = OwnedString::new(self, id)?;
        let mut own = 0f64;
        // SAFETY: self.key is an open sorted set; id is alive; own is written on success.
        let own = (unsafe { zscore(self.key, id.s, &mut own) } == raw::REDISMODULE_OK as c_int).then_some(own);
        // The latest lease of another holder: the last member, or the one before it when the
        // last is the caller's.
        let mut latest_other = None;
        // SAFETY: self.key is an open sorted set; the range is stopped before return.
        unsafe {
            if last_in_range(self.key, f64::NEG_INFINITY, f64::INFINITY, 0, 0) == raw::REDISMODULE_OK as c_int {
                for _ in 0..2 {
                    if (range.end_reached)(self.key) != 0 {
                        break;
                    }
                    let mut at = 0f64;
                    let member = OwnedString { ctx: self.ctx, s: (range.current)(self.key, &mut at) };
                    if member.s.is_null() {
                        break;
                    }
                    if member.bytes() != id.bytes() {
                        latest_other = Some(at);
                        break;
                    }
                    (range.prev)(self.key);
                }
            }
            (range.stop)(self.key);
        }
        Ok(Some(LeaseSummary {
            // SAFETY: self.key is an open sorted set.
            count: unsafe { length(self.key) } as u64,
            own: own.map(expiry).transpose().map_err(not_leases)?,
            latest_other: latest_other.map(expiry).transpose().map_err(not_leases)?,
            expire_at: self.expire_at()?,
        }))
    }

    /// Every lease's expiry, ascending, read as the walk goes (on an empty key: none).
    pub fn expiries(&self) -> Result<Expiries<'_>, Error> {
        let first_in_range = api!(RedisModule_ZsetFirstInScoreRange);
        let range = RangeApi::get()?;
        // SAFETY: self.key is open; on an empty key or another type the call fails and the
        // walk is empty.
        let started = unsafe { first_in_range(self.key, f64::NEG_INFINITY, f64::INFINITY, 0, 0) } == raw::REDISMODULE_OK as c_int;
        Ok(Expiries { key: self, range, started })
    }

    /// Applies a `Write::Leases` for the holder `id`.
    pub(super) fn apply_leases(&self, id: &[u8], change: &LeaseChange) -> Result<(), Error> {
        let zadd = api!(RedisModule_ZsetAdd);
        let zrem = api!(RedisModule_ZsetRem);
        let first_in_range = api!(RedisModule_ZsetFirstInScoreRange);
        let range = RangeApi::get()?;
        if let Some(through) = change.prune_through {
            // The members to drop first (a walk cannot run while the set changes), then drop
            // them: ZREMRANGEBYSCORE key -inf through.
            let mut expired = Vec::new();
            // SAFETY: self.key is an open sorted set; the range is stopped before any change.
            unsafe {
                let bound = if through == PRUNE_ALL { f64::INFINITY } else { score(through) };
                if first_in_range(self.key, f64::NEG_INFINITY, bound, 0, 0) == raw::REDISMODULE_OK as c_int {
                    while (range.end_reached)(self.key) == 0 {
                        let mut at = 0f64;
                        let member = OwnedString { ctx: self.ctx, s: (range.current)(self.key, &mut at) };
                        if member.s.is_null() {
                            break;
                        }
                        expired.push(member);
                        (range.next)(self.key);
                    }
                }
                (range.stop)(self.key);
            }
            for member in &expired {
                let mut deleted = 0;
                // SAFETY: self.key is open for writing; member is alive.
                if unsafe { zrem(self.key, member.s, &mut deleted) } != raw::REDISMODULE_OK as c_int {
                    return Err(Error::Server("could not remove an expired lease"));
                }
            }
        }
        let id = OwnedString::new(self, id)?;
        let status = match change.holder {
            // SAFETY: self.key is open for writing (an emptied key is created anew); id is alive.
            Holder::Set(at) => unsafe { zadd(self.key, score(at), id.s, null_mut()) },
            Holder::Remove => {
                let mut deleted = 0;
                // SAFETY: as above.
                unsafe { zrem(self.key, id.s, &mut deleted) }
            }
        };
        if status != raw::REDISMODULE_OK as c_int {
            return Err(Error::Server("could not write the lease"));
        }
        match change.expire_at {
            Some(at) if change.expire_moves => self.set_expire(at),
            _ => Ok(()),
        }
    }
}

/// The ascending walk over a set's expiries; the range is stopped on drop.
pub struct Expiries<'a> {
    key: &'a OpenKey,
    range: RangeApi,
    started: bool,
}

impl Iterator for Expiries<'_> {
    type Item = Result<Millis, StateError>;

    fn next(&mut self) -> Option<Self::Item> {
        // SAFETY: the range was started on this open key and is not stopped until drop.
        unsafe {
            if !self.started || (self.range.end_reached)(self.key.key) != 0 {
                return None;
            }
            let mut at = 0f64;
            let member = OwnedString { ctx: self.key.ctx, s: (self.range.current)(self.key.key, &mut at) };
            if member.s.is_null() {
                return None;
            }
            (self.range.next)(self.key.key);
            Some(expiry(at))
        }
    }
}

impl Drop for Expiries<'_> {
    fn drop(&mut self) {
        // SAFETY: stopping a range that was not started, or already ended, is allowed.
        unsafe { (self.range.stop)(self.key.key) };
    }
}
