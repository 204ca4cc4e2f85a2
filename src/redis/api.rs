//! Calling the module API without `unwrap`: Redis fills the `RedisModule_*` function pointers
//! at load time; one the server does not provide becomes an error reply, never a panic.

/// `api!(Name)` is the function `RedisModule_Name`, or returns `Err(Error::Server(..))` from
/// the enclosing function when the server lacks it.
macro_rules! api {
    ($name:ident) => {
        paste_api!($name)
    };
}

macro_rules! paste_api {
    ($name:ident) => {{
        // SAFETY: the pointer is written once by RedisModule_Init, before any command runs,
        // and only read afterwards (Redis runs commands on its main thread).
        match unsafe { redis_module::raw::$name } {
            Some(f) => f,
            None => return Err($crate::error::Error::Server(concat!("the server lacks ", stringify!($name)))),
        }
    }};
}
