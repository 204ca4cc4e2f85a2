//! A key opened for one command, read and written in place through the low-level key API
//! (no command calls on the hot path).

use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleCtx, RedisModuleKey, RedisModuleString};

use super::server::{self, Expiry};
use crate::algo::Millis;
use crate::codec::Write;
use crate::error::Error;
use crate::limiter::Found;

/// Commands run only once the module has loaded, and loading resolves the expiry API.
const NOT_LOADED: Error = Error::Server("the module has not finished loading");

/// What `apply` needs to know of the key as it was read.
#[derive(Debug, Clone, Copy)]
pub struct Current {
    pub len: usize,
    pub expire_at: Option<Millis>,
}

impl From<Found<'_>> for Current {
    fn from(f: Found<'_>) -> Current {
        Current { len: f.bytes.len(), expire_at: f.expire_at }
    }
}

/// An open key, closed on drop.
pub struct OpenKey {
    pub(super) ctx: *mut RedisModuleCtx,
    pub(super) key: *mut RedisModuleKey,
}

impl OpenKey {
    pub fn open(ctx: *mut RedisModuleCtx, name: *mut RedisModuleString) -> Result<OpenKey, Error> {
        let open = api!(RedisModule_OpenKey);
        let mode = (raw::REDISMODULE_READ | raw::REDISMODULE_WRITE) as c_int;
        // SAFETY: ctx and name come from Redis for the command being run.
        let key = unsafe { open(ctx, name, mode) };
        if key.is_null() {
            return Err(Error::Server("could not open the key"));
        }
        Ok(OpenKey { ctx, key })
    }

    /// The string under the key and its expiry (None: no such key); WRONGTYPE for another type.
    pub fn read(&self) -> Result<Option<Found<'_>>, Error> {
        let key_type = api!(RedisModule_KeyType);
        // SAFETY: self.key is open until drop.
        match unsafe { key_type(self.key) } as isize {
            raw::REDISMODULE_KEYTYPE_EMPTY => return Ok(None),
            raw::REDISMODULE_KEYTYPE_STRING => {}
            _ => return Err(Error::WrongType),
        }
        let (ptr, len) = self.dma(raw::REDISMODULE_READ)?;
        // SAFETY: ptr/len describe the string's bytes (or len is 0), valid while the key is
        // open and unmodified: the returned borrow of self ends before any write below.
        let bytes: &[u8] = if len == 0 { &[] } else { unsafe { std::slice::from_raw_parts(ptr, len) } };
        let expire_at = self.expire_at()?;
        Ok(Some(Found { bytes, expire_at }))
    }

    /// The key's absolute expiry (None: no TTL).
    pub(super) fn expire_at(&self) -> Result<Option<Millis>, Error> {
        let expire = match server::expiry().ok_or(NOT_LOADED)? {
            // SAFETY: self.key is open until drop.
            Expiry::Absolute { get, .. } => unsafe { get(self.key) },
            // Redis 6.2 gives the time left, computed with its clock (`mstime`), which `clock`
            // reads too: when the clock shows the same millisecond before and after, the sum
            // is the exact expiry. Across a millisecond boundary, read again.
            Expiry::Relative { get, clock, .. } => {
                let mut expire = raw::REDISMODULE_NO_EXPIRE as i64;
                for _ in 0..3 {
                    // SAFETY: no arguments / self.key is open until drop.
                    let (before, left, after) = unsafe { (clock(), get(self.key), clock()) };
                    if left == raw::REDISMODULE_NO_EXPIRE as i64 {
                        return Ok(None);
                    }
                    expire = before.saturating_add(left);
                    if before == after {
                        break;
                    }
                }
                expire
            }
        };
        Ok((expire != raw::REDISMODULE_NO_EXPIRE as i64).then(|| expire.max(0) as Millis))
    }

    /// The string's bytes in place: a pointer Redis owns, valid until the key is next
    /// modified or closed.
    fn dma(&self, mode: u32) -> Result<(*mut u8, usize), Error> {
        let dma = api!(RedisModule_StringDMA);
        let mut len = 0usize;
        // SAFETY: self.key is an open string key.
        let ptr = unsafe { dma(self.key, &mut len, mode as c_int) };
        if ptr.is_null() {
            return Err(Error::WrongType);
        }
        Ok((ptr.cast::<u8>(), len))
    }

    /// Copies `bytes` into the value at `offset`; the value must already be long enough.
    fn write_at(&self, offset: usize, bytes: &[u8]) -> Result<(), Error> {
        let (ptr, len) = self.dma(raw::REDISMODULE_WRITE)?;
        let end = offset.checked_add(bytes.len()).filter(|end| *end <= len).ok_or(Error::Server("value shorter than written"))?;
        // SAFETY: [offset, end) lies within the `len` bytes DMA handed out (checked above), no
        // other reference to them is alive, and source and destination cannot overlap.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr.add(offset), end - offset) };
        Ok(())
    }

    fn resize(&self, len: usize) -> Result<(), Error> {
        let truncate = api!(RedisModule_StringTruncate);
        // SAFETY: self.key is open for writing; on an empty key this creates the string.
        if unsafe { truncate(self.key, len) } != raw::REDISMODULE_OK as c_int {
            return Err(Error::Server("could not resize the value"));
        }
        Ok(())
    }

    pub(super) fn set_expire(&self, at: Millis) -> Result<(), Error> {
        let at = at.min(i64::MAX as u64) as i64;
        let status = match server::expiry().ok_or(NOT_LOADED)? {
            // SAFETY: self.key is open for writing and holds a value.
            Expiry::Absolute { set, .. } => unsafe { set(self.key, at) },
            // Redis 6.2 adds its clock to the time left: exact when `clock` shows the same
            // millisecond before and after (else set it again; each call replaces the last).
            Expiry::Relative { set, clock, .. } => {
                let mut status = raw::REDISMODULE_ERR as c_int;
                for _ in 0..3 {
                    // SAFETY: no arguments.
                    let before = unsafe { clock() };
                    // SAFETY: self.key is open for writing and holds a value.
                    status = unsafe { set(self.key, at.saturating_sub(before).max(0)) };
                    // SAFETY: no arguments.
                    if status != raw::REDISMODULE_OK as c_int || before == unsafe { clock() } {
                        break;
                    }
                }
                status
            }
        };
        if status != raw::REDISMODULE_OK as c_int {
            return Err(Error::Server("could not set the expiry"));
        }
        Ok(())
    }

    /// Applies `write` to the key in place: the same result as the native commands
    /// `replicate` sends, so the replica holds the same bytes and expiry. `current` is the key
    /// as it was read (None: missing).
    pub fn apply(&self, write: &Write, current: Option<Current>) -> Result<(), Error> {
        let (offset, bytes, expire_at) = match write {
            Write::Value { bytes, expire_at } => (0, bytes.as_slice(), Some(*expire_at)),
            Write::Range { offset, bytes, expire_at } => (*offset, bytes.as_slice(), *expire_at),
            Write::Leases { id, change } => return self.apply_leases(id.as_slice(), change),
        };
        let end = offset.saturating_add(bytes.len());
        let resize = match (write, current) {
            (Write::Value { .. }, Some(c)) => c.len != end,
            (Write::Range { .. }, Some(c)) => end > c.len,
            (_, None) | (Write::Leases { .. }, _) => true,
        };
        if resize {
            self.resize(end)?;
        }
        self.write_at(offset, bytes)?;
        // In-place writes keep the expiry: set it only when it moves (a fixed window's stays put
        // for the whole window), saving two dictionary operations per call.
        match expire_at {
            Some(at) if current.is_none_or(|c| c.expire_at != Some(at)) => self.set_expire(at),
            _ => Ok(()),
        }
    }
}

impl Drop for OpenKey {
    fn drop(&mut self) {
        // SAFETY: the pointer is written once by RedisModule_Init and only read afterwards.
        if let Some(close) = unsafe { raw::RedisModule_CloseKey } {
            // SAFETY: self.key was opened by OpenKey::open and is closed exactly once, here.
            unsafe { close(self.key) };
        }
    }
}
