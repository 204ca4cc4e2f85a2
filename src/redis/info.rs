//! The `INFO ratelimit` callback: one section, `ratelimit_stats`, with each command's counters
//! under its INFO prefix (`fixed_calls`, `fixed_allowed`, ...; Redis prefixes them with the
//! module name), RL.LEAKY's waits after its counters (`leaky_wait_ms_sum`, ...).

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
        let mut fields: Vec<(String, u64)> = stats::of(command)
            .fields()
            .into_iter()
            // A command that decides nothing (RL.TOP) has calls and errors only.
            .filter(|(suffix, _)| match *suffix {
                "releases" => d.releases,
                "allowed" | "denied" | "peeks" => d.decides,
                _ => true,
            })
            .map(|(suffix, value)| (suffix.to_owned(), value))
            .collect();
        if command == Command::Leaky {
            fields.extend(stats::wait_fields());
        }
        for (suffix, value) in fields {
            let Ok(name) = CString::new(format!("{prefix}_{suffix}")) else { continue };
            // SAFETY: as above; Redis copies the name.
            unsafe { add_field(ctx, name.as_ptr(), value) };
        }
    }
}
