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

use crate::command::{Arg, ArgType, Description, Keys};

const SINCE: &CStr = c"0.1.0";

fn arg_type(kind: ArgType) -> raw::RedisModuleCommandArgType {
    match kind {
        ArgType::Key => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_KEY,
        ArgType::Integer => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_INTEGER,
        ArgType::String => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_STRING,
        ArgType::PureToken => raw::RedisModuleCommandArgType_REDISMODULE_ARG_TYPE_PURE_TOKEN,
    }
}

static VERSION: RedisModuleCommandInfoVersion = RedisModuleCommandInfoVersion {
    version: 1,
    sizeof_historyentry: size_of::<RedisModuleCommandHistoryEntry>(),
    sizeof_keyspec: size_of::<RedisModuleCommandKeySpec>(),
    sizeof_arg: size_of::<RedisModuleCommandArg>(),
};

/// One argument as Redis takes it; keys refer to the command's one key spec.
fn arg(a: &Arg) -> RedisModuleCommandArg {
    // SAFETY: RedisModuleCommandArg is a C struct of pointers and integers: all zeroes is its
    // "unset" value, and a zeroed entry is also the array terminator Redis expects.
    let mut out: RedisModuleCommandArg = unsafe { std::mem::zeroed() };
    out.name = a.name.as_ptr();
    out.type_ = arg_type(a.kind);
    out.key_spec_index = if a.kind == ArgType::Key { 0 } else { -1 };
    if let Some(token) = a.token {
        out.token = token.as_ptr();
    }
    if let Some(display) = a.display {
        out.display_text = display.as_ptr();
    }
    let mut flags = 0;
    if a.optional {
        flags |= raw::REDISMODULE_CMD_ARG_OPTIONAL;
    }
    if a.multiple {
        flags |= raw::REDISMODULE_CMD_ARG_MULTIPLE;
    }
    out.flags = flags as c_int;
    out
}

/// The read-write key spec (RW, ACCESS, UPDATE) of a command's keys (None: it has none).
fn key_spec(keys: Keys) -> Option<RedisModuleCommandKeySpec> {
    // SAFETY: as in `arg`: zeroed is unset.
    let mut spec: RedisModuleCommandKeySpec = unsafe { std::mem::zeroed() };
    spec.flags = u64::from(raw::REDISMODULE_CMD_KEY_RW | raw::REDISMODULE_CMD_KEY_ACCESS | raw::REDISMODULE_CMD_KEY_UPDATE);
    spec.begin_search_type = raw::RedisModuleKeySpecBeginSearchType_REDISMODULE_KSPEC_BS_INDEX;
    spec.bs.index.pos = 1;
    match keys {
        Keys::First => {
            spec.find_keys_type = raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_RANGE;
            spec.fk.range.lastkey = 0;
            spec.fk.range.keystep = 1;
            spec.fk.range.limit = 0;
        }
        // numkeys at argument 1, keys from argument 2.
        Keys::NumKeys => {
            spec.find_keys_type = raw::RedisModuleKeySpecFindKeysType_REDISMODULE_KSPEC_FK_KEYNUM;
            spec.fk.keynum.keynumidx = 0;
            spec.fk.keynum.firstkey = 1;
            spec.fk.keynum.keystep = 1;
        }
        Keys::None => return None,
    }
    Some(spec)
}

/// Whether the server takes command info and key specs (`RedisModule_SetCommandInfo`, Redis
/// 7.0+ and Valkey).
pub fn key_specs_supported() -> bool {
    // SAFETY: the pointer is copied after RedisModule_Init wrote it.
    unsafe { raw::RedisModule_SetCommandInfo }.is_some()
}

/// Declares the documentation and key spec of the registered command `d`. Err when the server
/// lacks the API (before 7.0) or refuses. Redis copies what it is given.
pub fn declare(ctx: *mut RedisModuleCtx, d: &Description) -> Result<(), String> {
    let mut key_specs: Vec<RedisModuleCommandKeySpec> = key_spec(d.keys).into_iter().collect();
    // SAFETY: zeroed terminator, as in `arg`.
    key_specs.push(unsafe { std::mem::zeroed() });
    let mut args: Vec<RedisModuleCommandArg> = d.docs.args.iter().map(arg).collect();
    // SAFETY: zeroed terminator.
    args.push(unsafe { std::mem::zeroed() });
    let info = RedisModuleCommandInfo {
        version: &VERSION,
        summary: d.docs.summary.as_ptr(),
        complexity: d.docs.complexity.as_ptr(),
        since: SINCE.as_ptr(),
        history: std::ptr::null_mut(),
        tips: null::<c_char>(),
        arity: d.docs.arity,
        key_specs: key_specs.as_mut_ptr(),
        args: args.as_mut_ptr(),
    };
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let (Some(get_command), Some(set_info)) = (unsafe { raw::RedisModule_GetCommand }, unsafe { raw::RedisModule_SetCommandInfo }) else {
        return Err("the server lacks RedisModule_SetCommandInfo (Redis 7.0+)".to_owned());
    };
    let name = d.name;
    // SAFETY: ctx is the load context; name is NUL-terminated; info and everything it points
    // to are valid for the call, and Redis keeps copies, not pointers.
    unsafe {
        let command = get_command(ctx, name.as_ptr());
        if command.is_null() {
            return Err(format!("no command {}", name.to_string_lossy()));
        }
        if set_info(command, &info) != raw::REDISMODULE_OK as c_int {
            return Err(format!("the server refused the command info of {}", name.to_string_lossy()));
        }
    }
    Ok(())
}
