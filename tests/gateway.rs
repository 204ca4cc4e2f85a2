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

#[test]
fn gateway_answers_429_with_rate_limit_headers() {
    let binary = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/examples/gateway");
    assert!(binary.exists(), "build the example first: cargo build --release --examples (make integration does)");
    let server = Server::start();
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
    // The limiter is the module's: a key per client.
    let mut c = server.connect();
    assert_eq!(run(&mut c, &["EXISTS", "gw:alice", "gw:bob"]), Value::Int(2));
}
