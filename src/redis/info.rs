//! The `INFO ratelimit` callback: one section, `ratelimit_stats`, with each command's counters
//! under its INFO prefix (`fixed_calls`, `fixed_allowed`, ...; Redis prefixes them with the
//! module name).

use std::ffi::CString;
use std::os::raw::c_int;

use redis_module::raw::{self, RedisModuleInfoCtx};

use crate::command::Command;
use crate::stats;

pub extern "C" fn info(ctx: *mut RedisModuleInfoCtx, _for_crash_report: c_int) {
    // SAFETY: the pointers are written once by RedisModule_Init and only read afterwards.
    let (Some(add_section), Some(add_field)) =
        (unsafe { raw::RedisModule_InfoAddSection }, unsafe { raw::RedisModule_InfoAddFieldULongLong })
    else {
        return;
    };
    // SAFETY: ctx is the info context Redis passed to this callback; the name is NUL-terminated.
    unsafe { add_section(ctx, c"stats".as_ptr()) };
    for command in Command::ALL {
        let d = command.describe();
        let prefix = d.info.to_string_lossy();
        for (suffix, value) in stats::of(command).fields() {
            if suffix == "releases" && !d.releases {
                continue;
            }
            let Ok(name) = CString::new(format!("{prefix}_{suffix}")) else { continue };
            // SAFETY: as above; Redis copies the name.
            unsafe { add_field(ctx, name.as_ptr(), value) };
        }
    }
}
