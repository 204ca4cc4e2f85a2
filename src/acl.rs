//! The ACL category `ratelimit`, where the server supports module categories (Redis 7.4+,
//! Valkey): `ACL SETUSER gw +@ratelimit` then grants exactly the RL commands. On Redis 7.0 the
//! module loads without it (the functions are absent there; rights are granted by command).

use std::ffi::CStr;
use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleCtx};

const CATEGORY: &CStr = c"ratelimit";

/// Adds the category; true if the server has it now. Must run while the module loads.
pub fn add_category(ctx: *mut RedisModuleCtx) -> bool {
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let (Some(add), Some(_)) = (unsafe { raw::RedisModule_AddACLCategory }, unsafe { raw::RedisModule_SetCommandACLCategories }) else {
        return false;
    };
    // SAFETY: ctx is the load context; CATEGORY is NUL-terminated.
    unsafe { add(ctx, CATEGORY.as_ptr()) == raw::REDISMODULE_OK as c_int }
}

/// Puts the command `name` in the category (after `add_category` succeeded).
pub fn categorize(ctx: *mut RedisModuleCtx, name: &CStr) -> Result<(), String> {
    // SAFETY: as above.
    let (Some(get_command), Some(set_categories)) =
        (unsafe { raw::RedisModule_GetCommand }, unsafe { raw::RedisModule_SetCommandACLCategories })
    else {
        return Ok(());
    };
    // SAFETY: ctx is the load context; names are NUL-terminated.
    unsafe {
        let command = get_command(ctx, name.as_ptr());
        if command.is_null() || set_categories(command, CATEGORY.as_ptr()) != raw::REDISMODULE_OK as c_int {
            return Err(format!("could not put {} in the ACL category ratelimit", name.to_string_lossy()));
        }
    }
    Ok(())
}
