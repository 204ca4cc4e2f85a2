//! What the server offers, resolved once while the module loads: the oldest server that keeps
//! the contract, every module API a command calls, and how keys' expiries are read and set.
//! A call must never find an API missing half way (a value written, its expiry not), so a
//! server that lacks one is refused at load with one clear line.

use std::os::raw::c_int;
use std::sync::OnceLock;

use redis_module::raw::{self, mstime_t, RedisModuleKey};

/// Redis 6.2 (0x00MMmmpp): the first with `SET ... PXAT`, which replicates an expiry exactly.
const OLDEST: c_int = 0x00_06_02_00;

/// How keys' expiries are read and set.
#[derive(Clone, Copy)]
pub enum Expiry {
    /// `RedisModule_GetAbsExpire` / `SetAbsExpire` (Redis 7.0+, Valkey).
    Absolute {
        get: unsafe extern "C" fn(*mut RedisModuleKey) -> mstime_t,
        set: unsafe extern "C" fn(*mut RedisModuleKey, mstime_t) -> c_int,
    },
    /// Redis 6.2: `GetExpire` / `SetExpire`, relative to the server's clock, which `clock`
    /// (`RedisModule_Milliseconds`) reads the same way; see `store::key`.
    Relative {
        get: unsafe extern "C" fn(*mut RedisModuleKey) -> mstime_t,
        set: unsafe extern "C" fn(*mut RedisModuleKey, mstime_t) -> c_int,
        clock: unsafe extern "C" fn() -> mstime_t,
    },
}

static EXPIRY: OnceLock<Expiry> = OnceLock::new();

/// The expiry API chosen at load (None only before the module has loaded).
pub fn expiry() -> Option<Expiry> {
    EXPIRY.get().copied()
}

/// Checks the server at load; Err is the line to log before refusing to load.
pub fn resolve() -> Result<Expiry, String> {
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let version = unsafe { raw::RedisModule_GetServerVersion }.map(|f| unsafe { f() });
    supported(version)?;
    let missing: Vec<&str> = required().iter().filter(|(_, present)| !present).map(|(name, _)| *name).collect();
    if !missing.is_empty() {
        return Err(format!("the server lacks module APIs every RL command needs: {}", missing.join(", ")));
    }
    // SAFETY: as above.
    let expiry = unsafe {
        match (raw::RedisModule_GetAbsExpire, raw::RedisModule_SetAbsExpire, raw::RedisModule_GetExpire, raw::RedisModule_SetExpire) {
            (Some(get), Some(set), _, _) => Expiry::Absolute { get, set },
            (_, _, Some(get), Some(set)) => match raw::RedisModule_Milliseconds {
                Some(clock) => Expiry::Relative { get, set, clock },
                None => return Err("the server lacks RedisModule_Milliseconds".to_owned()),
            },
            _ => return Err("the server has no module API to read and set a key's expiry".to_owned()),
        }
    };
    Ok(*EXPIRY.get_or_init(|| expiry))
}

/// Whether a server of `version` (None: too old to say) keeps the contract.
fn supported(version: Option<c_int>) -> Result<(), String> {
    match version {
        Some(v) if v >= OLDEST => Ok(()),
        Some(v) => Err(format!(
            "Redis 6.2 or newer is required (SET ... PXAT replicates the limiters' expiries); this server is {}.{}.{}",
            (v >> 16) & 0xff,
            (v >> 8) & 0xff,
            v & 0xff
        )),
        None => Err("Redis 6.2 or newer is required (SET ... PXAT replicates the limiters' expiries); this server is older".to_owned()),
    }
}

/// `(name, whether the server has it)` for a `RedisModule_*` function pointer.
macro_rules! present {
    ($name:ident) => {
        // SAFETY: the pointer is copied, not borrowed, after RedisModule_Init wrote it (commands
        // and the load run on the main thread).
        (stringify!($name), unsafe { raw::$name }.is_some())
    };
}

/// Every module API a call uses besides the expiry pair, and whether the server has it.
fn required() -> [(&'static str, bool); 29] {
    [
        present!(RedisModule_OpenKey),
        present!(RedisModule_CloseKey),
        present!(RedisModule_KeyType),
        present!(RedisModule_StringDMA),
        present!(RedisModule_StringTruncate),
        present!(RedisModule_StringPtrLen),
        present!(RedisModule_Replicate),
        present!(RedisModule_Milliseconds),
        present!(RedisModule_ReplyWithArray),
        present!(RedisModule_ReplyWithLongLong),
        present!(RedisModule_ReplyWithError),
        present!(RedisModule_SignalModifiedKey),
        present!(RedisModule_NotifyKeyspaceEvent),
        present!(RedisModule_CreateCommand),
        present!(RedisModule_IsKeysPositionRequest),
        present!(RedisModule_KeyAtPos),
        // RL.CONCURRENT's sorted sets.
        present!(RedisModule_ValueLength),
        present!(RedisModule_CreateString),
        present!(RedisModule_FreeString),
        present!(RedisModule_ZsetAdd),
        present!(RedisModule_ZsetRem),
        present!(RedisModule_ZsetScore),
        present!(RedisModule_ZsetFirstInScoreRange),
        present!(RedisModule_ZsetLastInScoreRange),
        present!(RedisModule_ZsetRangeCurrentElement),
        present!(RedisModule_ZsetRangeNext),
        present!(RedisModule_ZsetRangePrev),
        present!(RedisModule_ZsetRangeEndReached),
        present!(RedisModule_ZsetRangeStop),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_older_than_redis_6_2_are_refused_with_their_version() {
        assert!(supported(Some(0x00_06_02_00)).is_ok());
        assert!(supported(Some(0x00_07_00_0f)).is_ok());
        assert!(supported(Some(0x00_09_01_02)).is_ok());
        let old = supported(Some(0x00_06_00_09)).expect_err("6.0.9 is refused");
        assert!(old.contains("Redis 6.2 or newer is required") && old.ends_with("this server is 6.0.9"), "{old}");
        assert!(supported(None).is_err());
    }
}
