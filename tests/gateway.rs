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

/// Starts the gateway in front of `server` and checks its answers: 200s with the headers,
/// then 429 with Retry-After, a limit per client, a key per client.
fn exercise_gateway(server: &Server, c: &mut Connection) {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/examples/gateway");
    assert!(binary.exists(), "build the example first: cargo build --release --examples (make integration does)");
    let listen = format!("127.0.0.1:{}", std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port());
    let _gateway = Gateway(
        Command::new(binary)
            .args([&format!("redis://127.0.0.1:{}/", server.port), &listen, "2", "1h"])
            .stderr(Stdio::null())
            .spawn()
            .expect("start the gateway"),
    );
    assert!(eventually(Duration::from_secs(10), || TcpStream::connect(&listen).is_ok()), "gateway did not listen");

    let (status, h) = get(&listen, "alice");
    assert_eq!(status, 200);
    assert_eq!(header(&h, "X-RateLimit-Limit"), Some("2"));
    assert_eq!(header(&h, "X-RateLimit-Remaining"), Some("1"));
    let (status, h) = get(&listen, "alice");
    assert_eq!((status, header(&h, "X-RateLimit-Remaining")), (200, Some("0")));
    let (status, h) = get(&listen, "alice");
    assert_eq!(status, 429);
    assert_eq!(header(&h, "X-RateLimit-Remaining"), Some("0"));
    let retry: u64 = header(&h, "Retry-After").expect("Retry-After").parse().unwrap();
    assert!((1..=7200).contains(&retry), "Retry-After {retry}");
    let reset: u64 = header(&h, "X-RateLimit-Reset").expect("X-RateLimit-Reset").parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(reset > now && reset <= now + 7200, "reset {reset} vs now {now}");
    // Another client has its own limit.
    assert_eq!(get(&listen, "bob").0, 200);
    // A key per client, in RL.SLIDING's format whichever ran it.
    assert_eq!(run(c, &["EXISTS", "gw:alice", "gw:bob"]), Value::Int(2));
    assert_eq!(get_bytes(c, "gw:alice").and_then(|v| v.first().copied()), Some(1));
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
    // once; on a server without FUNCTION, FCALL failed once too, and EVALSHA loaded the script
    // once: never per request.
    assert_eq!(connections, 1);
    assert_eq!(failed, if has_functions { 1 } else { 3 });
    if has_functions {
        assert_eq!(info_field(&mut c, "commandstats", "cmdstat_fcall").split(',').next(), Some("calls=4"));
    }
}
