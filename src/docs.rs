//! What `COMMAND DOCS` and `COMMAND INFO` show: summary, complexity, arity, arguments and key
//! specs, declared with `RedisModule_SetCommandInfo` (a Redis 7.0 API), so redis-cli shows
//! argument hints and client generators see the arguments, as for built-in commands.

use std::ffi::CStr;
use std::mem::size_of;
use std::os::raw::{c_char, c_int};
use std::ptr::null;

use redis_module::raw::{
    self, RedisModuleCommandArg, RedisModuleCommandHistoryEntry, RedisModuleCommandInfo, RedisModuleCommandInfoVersion,
    RedisModuleCommandKeySpec, RedisModuleCtx,
};

use crate::codec::Kind;

const SINCE: &CStr = c"0.1.0";

struct Doc {
    summary: &'static CStr,
    complexity: &'static CStr,
    /// (name, type) of the positional arguments after the key.
    params: &'static [(&'static CStr, raw::RedisModuleCommandArgType)],
}

const INTEGER: raw::RedisModuleCommandArgType = raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER;
const STRING: raw::RedisModuleCommandArgType = raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING;

fn doc(kind: Kind) -> Doc {
    const WINDOW: &[(&CStr, raw::RedisModuleCommandArgType)] = &[(c"limit", INTEGER), (c"window", STRING)];
    match kind {
        Kind::Fixed => Doc {
            summary: c"Fixed window rate limit (epoch-aligned): admits a request of COST units if the window's count allows it.",
            complexity: c"O(1)",
            params: WINDOW,
        },
        Kind::Sliding => Doc {
            summary: c"Sliding window counter rate limit: the previous window weighted by its overlap, compared exactly.",
            complexity: c"O(1)",
            params: WINDOW,
        },
        Kind::Log => Doc {
            summary: c"Exact sliding window log rate limit: counts every request of the last window.",
            complexity: c"O(1) amortized when admitted; O(N) when denied, N the requests logged in the window.",
            params: WINDOW,
        },
        Kind::Token => Doc {
            summary: c"Token bucket rate limit: CAPACITY tokens, refilled continuously with RATE tokens per PERIOD.",
            complexity: c"O(1)",
            params: &[(c"capacity", INTEGER), (c"rate", INTEGER), (c"period", STRING)],
        },
        Kind::Throttle => Doc {
            summary: c"redis-cell's CL.THROTTLE (GCRA): admits QUANTITY (default 1) if a burst of MAX_BURST + 1 at COUNT_PER_PERIOD per PERIOD seconds allows it. Replies 0 when admitted, 1 when limited.",
            complexity: c"O(1)",
            params: &[(c"max_burst", INTEGER), (c"count_per_period", INTEGER), (c"period", INTEGER)],
        },
        Kind::Leaky => Doc {
            summary: c"Leaky bucket as a queue (traffic shaping): admits up to CAPACITY queued units draining at RATE per PERIOD, and replies with the delay before the request may proceed.",
            complexity: c"O(1)",
            params: &[(c"capacity", INTEGER), (c"rate", INTEGER), (c"period", STRING)],
        },
    }
}

static VERSION: RedisModuleCommandInfoVersion = RedisModuleCommandInfoVersion {
    version: 1,
    sizeof_historyentry: size_of::<RedisModuleCommandHistoryEntry>(),
    sizeof_keyspec: size_of::<RedisModuleCommandKeySpec>(),
    sizeof_arg: size_of::<RedisModuleCommandArg>(),
};

fn arg(name: &'static CStr, type_: raw::RedisModuleCommandArgType) -> RedisModuleCommandArg {
    // SAFETY: RedisModuleCommandArg is a C struct of pointers and integers: all zeroes is its
    // "unset" value, and a zeroed entry is also the array terminator Redis expects.
    let mut a: RedisModuleCommandArg = unsafe { std::mem::zeroed() };
    a.name = name.as_ptr();
    a.type_ = type_;
    a.key_spec_index = -1;
    a
}

/// An optional argument introduced by `token` (`COST n`, or a bare `PEEK`).
fn optional(name: &'static CStr, token: &'static CStr, type_: raw::RedisModuleCommandArgType) -> RedisModuleCommandArg {
    let mut a = arg(name, type_);
    a.token = token.as_ptr();
    a.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
    a
}

const PURE_TOKEN: raw::RedisModuleCommandArgType = raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN;

/// A read-write key spec (RW, ACCESS, UPDATE) whose keys start at argument `pos`; `find` fills
/// in how many there are.
fn key_spec(pos: c_int, find: impl FnOnce(&mut RedisModuleCommandKeySpec)) -> RedisModuleCommandKeySpec {
    // SAFETY: as in `arg`: zeroed is unset.
    let mut spec: RedisModuleCommandKeySpec = unsafe { std::mem::zeroed() };
    spec.flags = u64::from(raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_ACCESS | raw::REDISMODULE_CMD_KEY_UPDATE);
    spec.begin_search_type = raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INDEX;
    spec.bs.index.pos = pos;
    find(&mut spec);
    spec
}

/// Hands `info` to Redis for the command `name` (Redis copies it). Err when the server lacks
/// the API (before 7.0) or refuses.
fn set(ctx: *mut RedisModuleCtx, name: &CStr, info: &RedisModuleCommandInfo) -> Result<(), String> {
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let (Some(get_command), Some(set_info)) = (unsafe { raw::RedisModule_GetCommand }, unsafe { raw::RedisModule_SetCommandInfo }) else {
        return Err("the server lacks RedisModule_SetCommandInfo (Redis 7.0+)".to_owned());
    };
    // SAFETY: ctx is the load context; name is NUL-terminated; info and everything it points
    // to are valid for the call, and Redis keeps copies, not pointers.
    unsafe {
        let command = get_command(ctx, name.as_ptr());
        if command.is_null() {
            return Err(format!("no command {}", name.to_string_lossy()));
        }
        if set_info(command, info) != raw::REDISMODULE_OK as c_int {
            return Err(format!("the server refused the command info of {}", name.to_string_lossy()));
        }
    }
    Ok(())
}

/// Whether the server takes command info and key specs (`RedisModule_SetCommandInfo`, Redis
/// 7.0+ and Valkey).
pub fn key_specs_supported() -> bool {
    // SAFETY: the pointer is copied after RedisModule_Init wrote it.
    unsafe { raw::RedisModule_SetCommandInfo }.is_some()
}

/// Declares `name`'s documentation and its key at position 1.
pub fn declare(ctx: *mut RedisModuleCtx, name: &CStr, kind: Kind) -> Result<(), String> {
    let d = doc(kind);
    let single = key_spec(1, |k| {
        k.find_keys_type = raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE;
        k.fk.range.lastkey = 0;
        k.fk.range.keystep = 1;
        k.fk.range.limit = 0;
    });
    // SAFETY: zeroed terminator, as in `arg`.
    let mut key_specs = [single, unsafe { std::mem::zeroed() }];
    let mut args =
        vec![RedisModuleCommandArg { key_spec_index: 0, ..arg(c"key", raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY) }];
    args.extend(d.params.iter().map(|(n, t)| arg(n, *t)));
    if kind == Kind::Throttle {
        // redis-cell's optional positional quantity.
        let mut quantity = arg(c"quantity", INTEGER);
        quantity.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
        args.push(quantity);
    } else {
        // REFUND n stands alone (the parser enforces it); listed as one more optional argument.
        args.extend([
            optional(c"cost", c"COST", INTEGER),
            optional(c"peek", c"PEEK", PURE_TOKEN),
            optional(c"force", c"FORCE", PURE_TOKEN),
            optional(c"refund", c"REFUND", INTEGER),
        ]);
    }
    // SAFETY: zeroed terminator.
    args.push(unsafe { std::mem::zeroed() });
    let info = RedisModuleCommandInfo {
        version: &VERSION,
        summary: d.summary.as_ptr(),
        complexity: d.complexity.as_ptr(),
        since: SINCE.as_ptr(),
        history: std::ptr::null_mut(),
        tips: null::<c_char>(),
        // key + the parameters at least; options may follow.
        arity: -(2 + d.params.len() as c_int),
        key_specs: key_specs.as_mut_ptr(),
        args: args.as_mut_ptr(),
    };
    set(ctx, name, &info)
}

/// RL.ALL's documentation and, above all, its keys: a key spec that finds them by `numkeys`
/// (argument 1, keys from argument 2), so that ACL key patterns apply to every one. Unlike
/// the docs of the other commands this must succeed: without it Redis would see no keys.
pub fn declare_all(ctx: *mut RedisModuleCtx, name: &CStr) -> Result<(), String> {
    let by_numkeys = key_spec(1, |k| {
        k.find_keys_type = raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_KEYNUM;
        k.fk.keynum.keynumidx = 0;
        k.fk.keynum.firstkey = 1;
        k.fk.keynum.keystep = 1;
    });
    // SAFETY: zeroed terminator, as in `arg`.
    let mut key_specs = [by_numkeys, unsafe { std::mem::zeroed() }];
    let mut keys = RedisModuleCommandArg { key_spec_index: 0, ..arg(c"key", raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY) };
    keys.flags = raw::REDISMODULE_CMD_ARG_MULTIPLE as c_int;
    let mut spec = arg(c"spec", STRING);
    spec.flags = raw::REDISMODULE_CMD_ARG_MULTIPLE as c_int;
    spec.display_text = c"FIXED|SLIDING|LOG limit window | TOKEN|LEAKY capacity rate period".as_ptr();
    let mut args = [
        arg(c"numkeys", INTEGER),
        keys,
        spec,
        optional(c"cost", c"COST", INTEGER),
        optional(c"peek", c"PEEK", PURE_TOKEN),
        // SAFETY: zeroed terminator.
        unsafe { std::mem::zeroed() },
    ];
    let info = RedisModuleCommandInfo {
        version: &VERSION,
        summary:
            c"Several rate limits, all or nothing: admitted only if every limiter admits, then every one is charged; otherwise none is."
                .as_ptr(),
        complexity: c"O(N) for N keys, plus each algorithm's own cost.".as_ptr(),
        since: SINCE.as_ptr(),
        history: std::ptr::null_mut(),
        tips: null::<c_char>(),
        // numkeys, a key and a spec of at least 3 words.
        arity: -6,
        key_specs: key_specs.as_mut_ptr(),
        args: args.as_mut_ptr(),
    };
    set(ctx, name, &info)
}
