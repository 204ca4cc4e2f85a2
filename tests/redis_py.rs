//! The Python example (examples/redis_py.py, on the package in clients/python) against a real
//! server: with the module, and without it (the script library through FCALL, or EVALSHA where
//! FUNCTION is missing), it prints the same decisions; the package finds out once per
//! connection which to use. redis-py comes from `make test` (pip install --target target/pylib).

mod common;

use common::*;
use std::path::Path;
use std::process::Command;

/// Runs the example against `server`; its output.
fn run_example(server: &Server) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pylib = root.join("target/pylib");
    assert!(pylib.join("redis").exists(), "redis-py is missing: `make test` installs it under target/pylib");
    let out = Command::new("python3")
        .arg(root.join("examples/redis_py.py"))
        .arg(format!("redis://127.0.0.1:{}/", server.port))
        .env("PYTHONPATH", std::env::join_paths([root.join("clients/python/src"), pylib]).expect("PYTHONPATH"))
        .output()
        .expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "the example failed: {text}\n{}", String::from_utf8_lossy(&out.stderr));
    text
}

/// The decisions the example prints: three 200s, a 429, then the token reservation.
fn assert_decisions(out: &str) {
    let lines: Vec<&str> = out.lines().collect();
    for (i, status) in ["200", "200", "200", "429"].iter().enumerate() {
        assert!(lines[i].starts_with(&format!("request {}: {status} ", i + 1)), "{out}");
    }
    assert!(lines[1].contains("'X-RateLimit-Remaining': '1'"), "{out}");
    assert!(lines[3].contains("'Retry-After'"), "{out}");
    assert_eq!(lines[4], "reserve 3500 tokens: allowed=True remaining=96500", "{out}");
}

#[test]
fn redis_py_example_calls_the_module() {
    let server = Server::start_with(true, &[]);
    let out = run_example(&server);
    assert_decisions(&out);
    assert!(out.ends_with("served by: module\n"), "{out}");
}

#[test]
fn redis_py_example_falls_back_to_the_script_library_once_per_connection() {
    let server = Server::start_with(false, &[]);
    let mut c = server.connect();
    let has_functions = library_way(&server, &mut c) == Style::Fcall;
    let (errors_before, conns_before) = error_and_connection_counts(&mut c);
    let out = run_example(&server);
    let (errors_after, conns_after) = error_and_connection_counts(&mut c);
    assert_decisions(&out);
    assert!(out.ends_with(if has_functions { "served by: function\n" } else { "served by: script\n" }), "{out}");
    // One connection; on it RL.FIXED failed once (and, where there is no FUNCTION, FUNCTION
    // LIST once and EVALSHA once before the script was sent whole): never per call. (redis-py
    // 4.6 sends no handshake that could fail.)
    assert_eq!(conns_after - conns_before, 1);
    assert_eq!(errors_after - errors_before, if has_functions { 1 } else { 3 });
    // The library's keys: RL.FIXED's count, as the module writes it.
    assert_eq!(get_bytes(&mut c, "py:user:42"), Some(b"3".to_vec()));
}
