//! The documentation's examples run as printed: every redis-cli line of README.md, of every page
//! in docs/ and of examples/redis-cli.md, block by block, each block on a fresh server (fresh
//! keys), with the replies compared to what the page shows. So the documentation cannot drift
//! from the module.
//!
//! What is compared: errors, strings and plain integers exactly; for RL replies the number of
//! fields, fields 1, 2 and 6 exactly, `remaining` within what refills while the block runs
//! (1% of the limit), and the time fields 4 and 5 by their sign (-1, 0, or a wait): their
//! values depend on the moment the page's session was captured.

mod common;

use common::*;
use std::path::Path;

/// What the page shows after a command.
#[derive(Debug, Clone, PartialEq)]
enum Shown {
    Integer(i64),
    Text(String),
    Ok,
    Nil,
    Error(String),
    /// `...`: the rest of the reply is not shown.
    Rest,
    /// `(empty array)`.
    Empty,
}

#[derive(Debug)]
struct Example {
    place: String,
    words: Vec<String>,
    shown: Vec<Shown>,
}

/// Shell words, with single and double quotes; an unquoted `#` starts a comment.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '#') if !in_word => break,
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    assert!(quote.is_none(), "unclosed quote in {line:?}");
    if in_word {
        words.push(word);
    }
    words
}

/// The command a line runs, if it is a redis-cli line: `$ redis-cli [-p port] [-x] ARGS
/// [< file]` (`-x`: the file's contents as the last argument), `redis-cli ARGS`, or the
/// interactive prompt `127.0.0.1:6399> ARGS`.
fn command_of(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    if let Some(rest) = line.strip_prefix("127.0.0.1:6399> ") {
        return Some(shell_words(rest));
    }
    let rest = line.strip_prefix("$ ").unwrap_or(line);
    if !rest.starts_with("redis-cli ") {
        return None;
    }
    let words = shell_words(rest);
    let mut args = words.into_iter().skip(1).peekable();
    let mut command = Vec::new();
    let mut stdin_argument = false;
    while let Some(w) = args.next() {
        if command.is_empty() && w == "-p" {
            assert_eq!(args.next().as_deref(), Some("6399"), "examples talk to `make run`'s port: {line}");
            continue;
        }
        if command.is_empty() && w == "-x" {
            stdin_argument = true;
            continue;
        }
        assert!(!(command.is_empty() && w.starts_with('-')), "unsupported redis-cli option in {line}");
        if stdin_argument && w == "<" {
            let file = args.next().unwrap_or_else(|| panic!("no file after < in {line}"));
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(&file);
            command.push(std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}")));
            break;
        }
        command.push(w);
    }
    Some(command)
}

/// One line of shown output (None: a comment or blank line).
fn shown_of(line: &str) -> Option<Shown> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    if line == "..." {
        return Some(Shown::Rest);
    }
    if line == "(empty array)" {
        return Some(Shown::Empty);
    }
    // `N) ` prefixes of an array element (several for a nested array: `1) 1) "key"`).
    let mut body = line;
    while let Some((n, rest)) = body.split_once(") ") {
        if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit()) {
            break;
        }
        body = rest.trim_start();
    }
    let body = body.split("  #").next().unwrap_or(body).trim();
    if let Some(v) = body.strip_prefix("(integer) ") {
        return Some(Shown::Integer(v.trim().parse().unwrap_or_else(|_| panic!("integer in {line:?}"))));
    }
    if let Some(e) = body.strip_prefix("(error) ") {
        return Some(Shown::Error(e.to_owned()));
    }
    match body {
        "OK" => return Some(Shown::Ok),
        "(nil)" => return Some(Shown::Nil),
        _ => {}
    }
    if let Some(text) = body.strip_prefix('"').and_then(|b| b.strip_suffix('"')) {
        return Some(Shown::Text(text.to_owned()));
    }
    panic!("cannot read the shown reply {line:?}");
}

/// The examples of one markdown file, grouped by code block.
fn blocks(path: &Path) -> Vec<Vec<Example>> {
    let text = std::fs::read_to_string(path).expect("read the page");
    let mut blocks = Vec::new();
    let mut current: Option<Vec<Example>> = None;
    let mut pending = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(Vec::new()),
            }
            continue;
        }
        let Some(block) = current.as_mut() else { continue };
        // A line ending in `\` continues on the next.
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        let full = std::mem::take(&mut pending) + line;
        if let Some(words) = command_of(&full) {
            block.push(Example { place: format!("{}:{}", path.display(), n + 1), words, shown: Vec::new() });
        } else if let Some(last) = block.last_mut() {
            if let Some(shown) = shown_of(&full) {
                last.shown.push(shown);
            }
        }
    }
    blocks.into_iter().filter(|b| !b.is_empty()).collect()
}

fn sign(v: i64) -> i64 {
    v.signum()
}

fn check(example: &Example, reply: redis::RedisResult<Value>) {
    let place = &example.place;
    let shown = &example.shown;
    let reply = match reply {
        Err(e) => {
            let message = format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""));
            assert_eq!(shown.as_slice(), [Shown::Error(message.clone())], "{place}: {:?} failed: {message}", example.words);
            return;
        }
        Ok(v) => v,
    };
    let rest = shown.contains(&Shown::Rest);
    let shown: Vec<&Shown> = shown.iter().take_while(|s| **s != Shown::Rest).collect();
    match reply {
        // An empty array, or one of arrays and strings (RL.TOP's entries): every element
        // exactly, in order.
        Value::Array(fields) if fields.is_empty() || fields.iter().any(|f| !matches!(f, Value::Int(_))) => {
            let got = leaves(&fields);
            let want: Vec<Shown> = shown.iter().filter(|s| ***s != Shown::Empty).map(|s| (*s).clone()).collect();
            assert_eq!(got, want, "{place}: {:?}", example.words);
        }
        Value::Array(fields) => {
            let ints: Vec<i64> = fields.iter().map(|f| if let Value::Int(i) = f { *i } else { panic!("{place}: {f:?}") }).collect();
            let want: Vec<i64> =
                shown.iter().map(|s| if let Shown::Integer(i) = s { *i } else { panic!("{place}: shown {s:?} for an array") }).collect();
            if rest {
                assert!(ints.len() > want.len(), "{place}: got {ints:?}, shown {want:?} ...");
            } else {
                assert_eq!(ints.len(), want.len(), "{place}: got {ints:?}, shown {want:?}");
            }
            // The module's commands, and the script library's functions (FCALL rl_fixed ...).
            let is_rl = example.words.first().is_some_and(|w| w.to_ascii_uppercase().starts_with("RL."))
                || (example.words.first().is_some_and(|w| w.eq_ignore_ascii_case("FCALL"))
                    && example.words.get(1).is_some_and(|f| f.starts_with("rl_")));
            for (i, (got, want)) in ints.iter().zip(&want).enumerate() {
                let ok = match i {
                    _ if !is_rl => got == want,
                    2 => *got >= *want && *got <= *want + (ints.get(1).copied().unwrap_or(0) / 100).max(1),
                    3 | 4 => sign(*got) == sign(*want),
                    _ => got == want,
                };
                assert!(ok, "{place}: {:?} field {} is {got}, the page shows {want} ({ints:?})", example.words, i + 1);
            }
        }
        Value::Int(got) => assert_eq!(shown, [&Shown::Integer(got)], "{place}"),
        Value::Okay => assert_eq!(shown, [&Shown::Ok], "{place}"),
        Value::SimpleString(s) if s == "OK" => assert_eq!(shown, [&Shown::Ok], "{place}"),
        Value::Nil => assert_eq!(shown, [&Shown::Nil], "{place}"),
        Value::BulkString(b) => assert_eq!(shown, [&Shown::Text(String::from_utf8_lossy(&b).into_owned())], "{place}"),
        other => panic!("{place}: reply {other:?} not compared"),
    }
}

/// The strings and integers of a nested reply, in order, as the page shows them.
fn leaves(values: &[Value]) -> Vec<Shown> {
    values
        .iter()
        .flat_map(|v| match v {
            Value::Array(inner) => leaves(inner),
            Value::Int(i) => vec![Shown::Integer(*i)],
            Value::BulkString(b) => vec![Shown::Text(String::from_utf8_lossy(b).into_owned())],
            Value::SimpleString(s) => vec![Shown::Text(s.clone())],
            Value::Nil => vec![Shown::Nil],
            other => panic!("reply {other:?} not compared"),
        })
        .collect()
}

/// The pages whose sessions run: README.md and examples/redis-cli.md, which must have sessions
/// (`true`), and every page in docs/, found by listing the folder (a new page is covered by
/// itself), which may have none (`false`: the performance and development pages show no
/// redis-cli session).
fn pages(root: &Path) -> Vec<(String, bool)> {
    let mut docs: Vec<String> = std::fs::read_dir(root.join("docs"))
        .expect("list docs/")
        .map(|entry| entry.expect("a docs/ entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    assert!(!docs.is_empty(), "no page found in docs/");
    let mut pages = vec![("README.md".to_owned(), true), ("examples/redis-cli.md".to_owned(), true)];
    pages.extend(docs.into_iter().map(|page| (page, false)));
    pages
}

#[test]
fn every_redis_cli_line_of_the_readme_and_the_docs_runs_as_printed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut examples = 0;
    for (page, must_have_sessions) in pages(root) {
        let blocks = blocks(&root.join(&page));
        assert!(!(must_have_sessions && blocks.is_empty()), "{page} has no redis-cli session");
        let mut run = 0;
        for block in blocks {
            let server = Server::start();
            let mut c = server.connect();
            // The script library's blocks are Redis 7 sessions: Redis 6.2 has no FUNCTION.
            let functions = block.iter().any(|e| e.words.first().is_some_and(|w| w.eq_ignore_ascii_case("FUNCTION")));
            if functions && server_version(&mut c) < (7, 0, 0) {
                continue;
            }
            for example in &block {
                let (name, args) = example.words.split_first().expect("a command");
                let reply = redis::cmd(name).arg(args).query::<Value>(&mut c);
                check(example, reply);
                run += 1;
            }
        }
        eprintln!("{page}: {run} redis-cli lines run and compared");
        examples += run;
    }
    eprintln!("{examples} redis-cli lines run and compared");
    assert!(examples >= 30, "only {examples} redis-cli lines found");
}

/// Every relative link of README.md and of the pages in docs/ names a file that exists, so a
/// moved or renamed page cannot leave a dead link behind (anchors are not checked).
#[test]
fn every_relative_link_of_the_pages_leads_to_a_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (page, _) in pages(root) {
        let path = root.join(&page);
        let text = std::fs::read_to_string(&path).expect("read the page");
        let dir = path.parent().expect("a page's folder");
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = &rest[..end];
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let file = target.split('#').next().unwrap_or(target);
            assert!(dir.join(file).exists(), "{page}: the link ({target}) leads to no file");
        }
    }
}

#[test]
fn the_reader_understands_the_pages_notation() {
    assert_eq!(
        command_of("$ redis-cli -p 6399 RL.FIXED k 3 1m   # note"),
        Some(vec!["RL.FIXED".into(), "k".into(), "3".into(), "1m".into()])
    );
    assert_eq!(command_of("127.0.0.1:6399> GET api:alice"), Some(vec!["GET".into(), "api:alice".into()]));
    assert_eq!(command_of("$ redis-cli -p 6399 CONFIG SET notify-keyspace-events 'E$'").map(|w| w[3].clone()), Some("E$".into()));
    assert_eq!(command_of("make run"), None);
    let load = command_of("$ redis-cli -p 6399 -x FUNCTION LOAD REPLACE < functions/ratelimit.lua").expect("a command");
    assert_eq!(load[..2], ["FUNCTION".to_owned(), "LOAD".to_owned()]);
    assert!(load[3].starts_with("#!lua name=ratelimit"));
    assert_eq!(shown_of("5) (integer) 58828          # the minute ends"), Some(Shown::Integer(58828)));
    assert_eq!(shown_of("\"3\"                         # a plain count"), Some(Shown::Text("3".into())));
    assert_eq!(shown_of("(error) ERR COST must be a positive integer"), Some(Shown::Error("ERR COST must be a positive integer".into())));
    assert_eq!(shown_of("# a comment"), None);
    assert_eq!(shown_of("1) 1) \"api:tenant7\""), Some(Shown::Text("api:tenant7".into())));
    assert_eq!(shown_of("   3) (integer) 0"), Some(Shown::Integer(0)));
    assert_eq!(shown_of("(empty array)"), Some(Shown::Empty));
}
