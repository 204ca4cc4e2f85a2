//! The example HTTP gateway (examples/gateway.rs), driven over HTTP against a real server.
//! `make integration` builds the example first.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Gateway(Child);

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, api_key: &str) -> (u16, Vec<(String, String)>) {
    let mut s = TcpStream::connect(addr).expect("connect to the gateway");
    write!(s, "GET / HTTP/1.1\r\nHost: test\r\nX-Api-Key: {api_key}\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let mut lines = text.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).expect("status line");
    let headers =
        lines.take_while(|l| !l.is_empty()).filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    (status, headers)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// Starts the gateway in front of the server at `url`, allowing 2 requests per client per hour;
/// answers the address it listens on (it stops when the `Gateway` is dropped).
fn start_gateway(url: &str) -> (Gateway, String) {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/examples/gateway");
    assert!(binary.exists(), "build the example first: cargo build --release --examples (make integration does)");
    let listen = format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let gateway = Gateway(Command::new(binary).args([url, &listen, "2", "1h"]).stderr(Stdio::null()).spawn().expect("start the gateway"));
    assert!(eventually(Duration::from_secs(10), || TcpStream::connect(&listen).is_ok()), "gateway did not listen");
    (gateway, listen)
}

fn url_of(server: &Server) -> String {
    format!("redis://127.0.0.1:{}/", server.port)
}

/// Starts the gateway in front of `server` and checks its answers: 200s with the headers,
/// then 429 with Retry-After, a limit per client, a key per client.
fn exercise_gateway(server: &Server, c: &mut Connection) {
    let (_gateway, listen) = start_gateway(&url_of(server));
    exercise(&listen, c);
}

/// The gateway at `listen` answers as it should for the new clients alice and bob.
fn exercise(listen: &str, c: &mut Connection) {
    let (status, h) = get(listen, "alice");
    assert_eq!(status, 200);
    assert_eq!(header(&h, "X-RateLimit-Limit"), Some("2"));
    assert_eq!(header(&h, "X-RateLimit-Remaining"), Some("1"));
    let (status, h) = get(listen, "alice");
    assert_eq!((status, header(&h, "X-RateLimit-Remaining")), (200, Some("0")));
    let (status, h) = get(listen, "alice");
    assert_eq!(status, 429);
    assert_eq!(header(&h, "X-RateLimit-Remaining"), Some("0"));
    let retry: u64 = header(&h, "Retry-After").expect("Retry-After").parse().unwrap();
    assert!((1..=7200).contains(&retry), "Retry-After {retry}");
    let reset: u64 = header(&h, "X-RateLimit-Reset").expect("X-RateLimit-Reset").parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(reset > now && reset <= now + 7200, "reset {reset} vs now {now}");
    // Another client has its own limit.
    assert_eq!(get(listen, "bob").0, 200);
    // A key per client, in RL.SLIDING's format whichever ran it.
    assert_eq!(run(c, &["EXISTS", "gw:alice", "gw:bob"]), Value::Int(2));
    assert_eq!(get_bytes(c, "gw:alice").and_then(|v| v.first().copied()), Some(1));
}

/// A new client's statuses for three requests: its limit of 2, then a refusal.
fn three_requests(listen: &str, client: &str) -> [u16; 3] {
    [(); 3].map(|()| get(listen, client).0)
}

/// The code of the loaded `ratelimit` library, if any.
fn loaded_library(c: &mut Connection) -> Option<String> {
    let listing: Vec<Vec<Value>> = redis::cmd("FUNCTION").arg("LIST").arg("LIBRARYNAME").arg("ratelimit").arg("WITHCODE").query(c).unwrap();
    let fields = listing.first()?;
    fields.chunks(2).find_map(|pair| match pair {
        [Value::BulkString(name), Value::BulkString(code)] if name == b"library_code" => Some(String::from_utf8(code.clone()).unwrap()),
        _ => None,
    })
}

/// The library with its line 2 (the version) replaced by `line`.
fn library_with_line_2(line: &str) -> String {
    let mut lines: Vec<&str> = LIBRARY.lines().collect();
    assert!(lines[1].starts_with("-- redis-ratelimit "), "line 2 names the version");
    lines[1] = line;
    lines.join("\n") + "\n"
}

/// The number of times the server ran `command` (`INFO commandstats`).
fn calls_of(c: &mut Connection, command: &str) -> String {
    info_field(c, "commandstats", &format!("cmdstat_{command}")).split(',').next().unwrap_or("").to_owned()
}

fn script_cached(c: &mut Connection) -> bool {
    let sha = redis::Script::new(SCRIPT).get_hash().to_owned();
    redis::cmd("SCRIPT").arg("EXISTS").arg(sha).query::<Vec<bool>>(c).unwrap() == [true]
}

/// The calls that failed while the gateway served, beyond what its connections' handshakes
/// cost (a client library's CLIENT SETINFO fails on servers before 7.2).
fn failed_calls_of_the_gateway(server: &Server, run_gateway: impl FnOnce(&mut Connection)) -> (i64, i64) {
    let mut c = server.connect();
    let (errors_before, conns_before) = error_and_connection_counts(&mut c);
    drop(server.connect());
    let (errors_after_one, _) = error_and_connection_counts(&mut c);
    let per_connection = errors_after_one - errors_before;
    let (errors, _) = error_and_connection_counts(&mut c);
    run_gateway(&mut c);
    let (errors_after, conns_after) = error_and_connection_counts(&mut c);
    let gateway_connections = conns_after - conns_before - 1;
    assert!(gateway_connections >= 1, "the gateway never connected");
    (errors_after - errors - gateway_connections * per_connection, gateway_connections)
}

#[test]
fn gateway_answers_429_with_rate_limit_headers() {
    let server = Server::start_with(true, &[]);
    // The module answered every call: none failed.
    assert_eq!(failed_calls_of_the_gateway(&server, |c| exercise_gateway(&server, c)).0, 0);
}

/// A server without the module, with the script library: the gateway finds out at the first
/// call of a connection (one unknown-command error), then uses the library.
#[test]
fn gateway_falls_back_to_the_script_library_once_per_connection() {
    let server = Server::start_with(false, &[]);
    let mut c = server.connect();
    let has_functions = library_way(&server, &mut c) == Style::Fcall;
    let (failed, connections) = failed_calls_of_the_gateway(&server, |c| exercise_gateway(&server, c));
    // The four requests, served in turn, reuse one kept connection. On it RL.SLIDING failed
    // once (the library was there, as new as the gateway's: FUNCTION LIST, no LOAD); on a
    // server without FUNCTION, FUNCTION LIST failed once too (unknown command), and the first
    // EVALSHA answered NOSCRIPT once (then EVAL sent the script whole): never per request.
    assert_eq!(connections, 1);
    assert_eq!(failed, if has_functions { 1 } else { 3 });
    if has_functions {
        assert_eq!(info_field(&mut c, "commandstats", "cmdstat_fcall").split(',').next(), Some("calls=4"));
    }
}

/// A server without the module where nobody loaded the library: the gateway loads its own
/// copy (FUNCTION LOAD) and serves through it, 200s then 429, never 503; after a FUNCTION
/// FLUSH it loads it again and goes on. Without FUNCTION (Redis 6.2) the script serves.
#[test]
fn gateway_loads_the_library_where_missing_and_again_after_function_flush() {
    let server = Server::start_with(false, &[]);
    let mut c = server.connect();
    let has_functions = server_version(&mut c) >= (7, 0, 0);
    let (failed, _) = failed_calls_of_the_gateway(&server, |c| {
        let (_gateway, listen) = start_gateway(&url_of(&server));
        exercise(&listen, c);
        if !has_functions {
            assert!(script_cached(c), "EVAL cached the script");
            return;
        }
        assert!(loaded_library(c).as_deref() == Some(LIBRARY), "the gateway's library is loaded");
        run(c, &["FUNCTION", "FLUSH"]);
        assert_eq!(three_requests(&listen, "carol"), [200, 200, 429]);
        assert!(loaded_library(c).as_deref() == Some(LIBRARY), "the gateway's library is loaded");
    });
    // With FUNCTION: RL.SLIDING once, FCALL once after the flush (Function not found), then
    // the library loaded again. Without: RL.SLIDING, FUNCTION LIST and one NOSCRIPT.
    assert_eq!(failed, if has_functions { 2 } else { 3 });
}

/// A loaded library older than the gateway's (or naming no version) is replaced; a newer one
/// is kept, and serves.
#[test]
fn gateway_replaces_an_older_library_and_keeps_a_newer_one() {
    let server = Server::start_with(false, &[]);
    let mut c = server.connect();
    if server_version(&mut c) < (7, 0, 0) {
        return; // no FUNCTION: nothing to replace
    }
    let older = library_with_line_2("-- redis-ratelimit 0.0.1 (an older copy)");
    let unversioned = library_with_line_2("-- a copy that names no version");
    let newer = library_with_line_2("-- redis-ratelimit 99.0.0 (a newer copy)");
    for (loaded, expected_after) in [(&older, LIBRARY), (&unversioned, LIBRARY), (&newer, newer.as_str())] {
        run(&mut c, &["FLUSHALL"]);
        run(&mut c, &["FUNCTION", "LOAD", "REPLACE", loaded]);
        exercise_gateway(&server, &mut c);
        let after = loaded_library(&mut c);
        assert!(
            after.as_deref() == Some(expected_after),
            "loaded {:?}: now {:?}, expected {:?}",
            loaded.lines().nth(1),
            after.as_deref().map(|code| code.lines().nth(1)),
            expected_after.lines().nth(1)
        );
    }
}

/// Where FUNCTION is not offered (Redis 6.2; on later servers renamed away, as some services
/// do) the script serves; after SCRIPT FLUSH the next call sends it whole (EVAL) and the
/// gateway keeps answering.
#[test]
fn gateway_script_path_recovers_after_script_flush() {
    let no_function: &[&str] = if binary_version() >= (7, 0, 0) { &["--rename-command", "FUNCTION", ""] } else { &[] };
    let server = Server::start_with(false, no_function);
    let (failed, _) = failed_calls_of_the_gateway(&server, |c| {
        let (_gateway, listen) = start_gateway(&url_of(&server));
        exercise(&listen, c);
        run(c, &["SCRIPT", "FLUSH"]);
        assert_eq!(three_requests(&listen, "carol"), [200, 200, 429]);
        assert_eq!(get(&listen, "alice").0, 429);
        assert_eq!(calls_of(c, "eval"), "calls=2");
    });
    // RL.SLIDING, FUNCTION (unknown command), and one NOSCRIPT per empty cache.
    assert_eq!(failed, 4);
}

/// An ACL user with everything but scripting, plus +evalsha and +eval (no SCRIPT LOAD): the
/// gateway uses the script, and after SCRIPT FLUSH sends it whole with EVAL.
#[test]
fn gateway_acl_user_without_script_load_recovers_after_script_flush() {
    let server = Server::start_with(false, &[]);
    let mut c = server.connect();
    let has_functions = server_version(&mut c) >= (7, 0, 0);
    run(&mut c, &["ACL", "SETUSER", "gw", "on", ">secret", "~*", "+@all", "-@scripting", "+evalsha", "+eval"]);
    let url = format!("redis://gw:secret@127.0.0.1:{}/", server.port);
    let mut as_gw = redis::Client::open(url.as_str()).unwrap().get_connection().unwrap();
    let refused = redis::cmd("SCRIPT").arg("LOAD").arg("return 1").query::<String>(&mut as_gw).unwrap_err();
    assert_eq!(refused.code(), Some("NOPERM"), "{refused}");
    drop(as_gw);
    let (failed, _) = failed_calls_of_the_gateway(&server, |c| {
        let (_gateway, listen) = start_gateway(&url);
        exercise(&listen, c);
        run(c, &["SCRIPT", "FLUSH"]);
        assert_eq!(three_requests(&listen, "carol"), [200, 200, 429]);
        assert_eq!(calls_of(c, "eval"), "calls=2");
    });
    // RL.SLIDING (unknown command); with FUNCTION: FUNCTION LIST and FCALL refused (NOPERM),
    // without: FUNCTION unknown; one NOSCRIPT per empty cache.
    assert_eq!(failed, if has_functions { 5 } else { 4 });
}
