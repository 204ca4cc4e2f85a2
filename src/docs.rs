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

/// Declares `name`'s documentation; logs and carries on where the server cannot take it.
pub fn declare(ctx: *mut RedisModuleCtx, name: &CStr, kind: Kind) -> Result<(), String> {
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let (Some(get_command), Some(set_info)) = (unsafe { raw::RedisModule_GetCommand }, unsafe { raw::RedisModule_SetCommandInfo }) else {
        return Ok(()); // Before Redis 7.0: no COMMAND DOCS to fill.
    };
    let d = doc(kind);

    // SAFETY: as in `arg`: zeroed is unset, and the terminator.
    let mut key_spec: RedisModuleCommandKeySpec = unsafe { std::mem::zeroed() };
    key_spec.flags = u64::from(raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_ACCESS | raw::REDISMODULE_CMD_KEY_UPDATE);
    key_spec.begin_search_type = raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INDEX;
    key_spec.bs.index.pos = 1;
    key_spec.find_keys_type = raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE;
    key_spec.fk.range.lastkey = 0;
    key_spec.fk.range.keystep = 1;
    key_spec.fk.range.limit = 0;
    // SAFETY: zeroed terminator, as above.
    let mut key_specs: [RedisModuleCommandKeySpec; 2] = [key_spec, unsafe { std::mem::zeroed() }];

    let mut args =
        vec![RedisModuleCommandArg { key_spec_index: 0, ..arg(c"key", raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY) }];
    args.extend(d.params.iter().map(|(n, t)| arg(n, *t)));
    let mut cost = arg(c"cost", INTEGER);
    cost.token = c"COST".as_ptr();
    cost.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
    let mut peek = arg(c"peek", raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN);
    peek.token = c"PEEK".as_ptr();
    peek.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
    let mut force = arg(c"force", raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN);
    force.token = c"FORCE".as_ptr();
    force.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
    // REFUND n stands alone (the parser enforces it); listed as one more optional argument.
    let mut refund = arg(c"refund", INTEGER);
    refund.token = c"REFUND".as_ptr();
    refund.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
    args.extend([cost, peek, force, refund]);
    // SAFETY: zeroed terminator.
    args.push(unsafe { std::mem::zeroed() });
    // Redis copies all of it (strings, arguments, key specs): it may be freed after the call.
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
    // SAFETY: ctx is the load context; name is NUL-terminated; info and everything it points
    // to are valid for the call, and Redis keeps copies, not pointers.
    unsafe {
        let command = get_command(ctx, name.as_ptr());
        if command.is_null() {
            return Err(format!("no command {}", name.to_string_lossy()));
        }
        if set_info(command, &info) != raw::REDISMODULE_OK as c_int {
            return Err(format!("the server refused the documentation of {}", name.to_string_lossy()));
        }
    }
    Ok(())
}

/// RL.ALL's documentation and, above all, its keys: a key spec that finds them by `numkeys`
/// (argument 1, keys from argument 2), so that ACL key patterns and cluster slot checks
/// (CROSSSLOT) apply to every one. Unlike the docs of the other commands this must succeed:
/// without it Redis would see no keys at all.
pub fn declare_all(ctx: *mut RedisModuleCtx, name: &CStr) -> Result<(), String> {
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let (Some(get_command), Some(set_info)) = (unsafe { raw::RedisModule_GetCommand }, unsafe { raw::RedisModule_SetCommandInfo }) else {
        return Err("RL.ALL needs RedisModule_SetCommandInfo (Redis 7.0+) to declare its keys".to_owned());
    };
    // SAFETY: as in `arg`: zeroed is unset, and the terminator.
    let mut key_spec: RedisModuleCommandKeySpec = unsafe { std::mem::zeroed() };
    key_spec.flags = u64::from(raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_ACCESS | raw::REDISMODULE_CMD_KEY_UPDATE);
    key_spec.begin_search_type = raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INDEX;
    key_spec.bs.index.pos = 1;
    key_spec.find_keys_type = raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_KEYNUM;
    key_spec.fk.keynum.keynumidx = 0;
    key_spec.fk.keynum.firstkey = 1;
    key_spec.fk.keynum.keystep = 1;
    // SAFETY: zeroed terminator.
    let mut key_specs: [RedisModuleCommandKeySpec; 2] = [key_spec, unsafe { std::mem::zeroed() }];

    let mut keys = RedisModuleCommandArg { key_spec_index: 0, ..arg(c"key", raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY) };
    keys.flags = raw::REDISMODULE_CMD_ARG_MULTIPLE as c_int;
    let mut spec = arg(c"spec", STRING);
    spec.flags = raw::REDISMODULE_CMD_ARG_MULTIPLE as c_int;
    spec.display_text = c"FIXED|SLIDING|LOG limit window | TOKEN|LEAKY capacity rate period".as_ptr();
    let mut cost = arg(c"cost", INTEGER);
    cost.token = c"COST".as_ptr();
    cost.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
    let mut peek = arg(c"peek", raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN);
    peek.token = c"PEEK".as_ptr();
    peek.flags = raw::REDISMODULE_CMD_ARG_OPTIONAL as c_int;
    // SAFETY: zeroed terminator.
    let mut args = [arg(c"numkeys", INTEGER), keys, spec, cost, peek, unsafe { std::mem::zeroed() }];

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
    // SAFETY: ctx is the load context; name is NUL-terminated; info and what it points to are
    // valid for the call (Redis copies them).
    unsafe {
        let command = get_command(ctx, name.as_ptr());
        if command.is_null() {
            return Err(format!("no command {}", name.to_string_lossy()));
        }
        if set_info(command, &info) != raw::REDISMODULE_OK as c_int {
            return Err("the server refused RL.ALL's key spec".to_owned());
        }
    }
    Ok(())
}
