//! ACL categories, as for built-in commands. Where the server lets a module set a command's
//! categories (`RedisModule_SetCommandACLCategories`: Redis 7.2+, Valkey), each RL command gets
//! the built-in ones its flags imply (`@write`, and `@fast` or `@slow`), so existing rules
//! such as `+@write` cover it, plus `@ratelimit` where the server lets a module add a category
//! (Redis 7.4+, Valkey 8+): `ACL SETUSER gw +@ratelimit` then grants exactly the RL commands.
//! Older servers load the module without them; docs/operations.md says how to grant the commands.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleCtx};

const CATEGORY: &CStr = c"ratelimit";

/// Which categories the server lets the module give its commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Categories {
    /// None (Redis 6.2 to 7.0).
    Unsupported,
    /// The built-in ones only (Redis 7.2).
    Builtin,
    /// The built-in ones and `ratelimit`.
    BuiltinAndOwn,
}

/// The built-in categories a command's `flags` imply, as for built-in commands: a limiter
/// writes (`@write`), an admin command is `@admin` and `@dangerous` (as SLOWLOG), and every
/// command is `@fast` or `@slow`.
pub fn builtin(flags: &CStr) -> String {
    let has = |flag: &[u8]| flags.to_bytes().split(|b| *b == b' ').any(|f| f == flag);
    let mut categories = Vec::new();
    if has(b"write") {
        categories.push("write");
    }
    if has(b"admin") {
        categories.extend(["admin", "dangerous"]);
    }
    categories.push(if has(b"fast") { "fast" } else { "slow" });
    categories.join(" ")
}

/// Adds the category `ratelimit` where the server can; must run while the module loads.
pub fn setup(ctx: *mut RedisModuleCtx) -> Categories {
    // SAFETY: the pointers are copied after RedisModule_Init wrote them.
    let (add, set) = unsafe { (raw::RedisModule_AddACLCategory, raw::RedisModule_SetCommandACLCategories) };
    match (add, set) {
        (_, None) => Categories::Unsupported,
        // SAFETY: ctx is the load context; CATEGORY is NUL-terminated.
        (Some(add), Some(_)) if unsafe { add(ctx, CATEGORY.as_ptr()) } == raw::REDISMODULE_OK as c_int => Categories::BuiltinAndOwn,
        (_, Some(_)) => Categories::Builtin,
    }
}

/// Puts the command `name` in the built-in categories `builtin` ("write fast") and, where the
/// server has it, `ratelimit`.
pub fn categorize(ctx: *mut RedisModuleCtx, name: &CStr, builtin: &str, categories: Categories) -> Result<(), String> {
    let list = match categories {
        Categories::Unsupported => return Ok(()),
        Categories::Builtin => builtin.to_owned(),
        Categories::BuiltinAndOwn => format!("{builtin} {}", CATEGORY.to_string_lossy()),
    };
    let list = CString::new(list).map_err(|_| "a category name holds a NUL byte".to_owned())?;
    // SAFETY: the pointers are copied after RedisModule_Init wrote them.
    let (Some(get_command), Some(set_categories)) =
        (unsafe { raw::RedisModule_GetCommand }, unsafe { raw::RedisModule_SetCommandACLCategories })
    else {
        return Ok(());
    };
    // SAFETY: ctx is the load context; the strings are NUL-terminated and outlive the calls.
    unsafe {
        let command = get_command(ctx, name.as_ptr());
        if command.is_null() || set_categories(command, list.as_ptr()) != raw::REDISMODULE_OK as c_int {
            return Err(format!("could not put {} in the ACL categories {}", name.to_string_lossy(), list.to_string_lossy()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_the_flags() {
        assert_eq!(builtin(c"write deny-oom fast"), "write fast");
        assert_eq!(builtin(c"write deny-oom"), "write slow");
        assert_eq!(builtin(c"write deny-oom getkeys-api"), "write slow");
        assert_eq!(builtin(c"admin allow-loading allow-stale"), "admin dangerous slow");
    }
}
