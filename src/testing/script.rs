//! `functions/ratelimit-script.lua`, the library for EVALSHA, generated from
//! `functions/ratelimit.lua` (`make functions` writes it, a unit test checks it is current).
//!
//! Why it is not the library's text with another tail: EVALSHA runs the script's whole chunk
//! at every call, and the library's chunk builds ~110 closures over ~200 top-level locals
//! (Lua 5.1 finds each captured local by walking a list of the open ones) and ~15 tables
//! before the call does any work: measured, ~85% of an EVALSHA call. FCALL pays that once, at
//! FUNCTION LOAD. So the script defines the library's top-level names lazily, one at a time,
//! when a call first reads one:
//!
//! - every top-level name of the library (a function, a table, a mutable value) becomes a
//!   field of one table, `LIB`, and every reference to it `LIB.name`; reading a field not yet
//!   defined runs `LIB`'s `__index`, which evaluates that name's definition (its text from the
//!   library, references rewritten), stores it and returns it. A call defines only what it
//!   runs, each closure with one upvalue (`LIB`);
//! - a top-level name bound once to a literal (a number, a string) is replaced by its literal;
//! - the functions that a function's usual calls run (those of `make bench`, found by running
//!   them here in Lua 5.1 against a stand-in for Redis) are defined ahead as locals, in a branch
//!   of the script for that function (`if ARGV[1] == "rl_fixed" then ...`): a closure costs a
//!   third of a lazy definition. Other paths (errors, options, other states) read the rest
//!   from `LIB` as they need it. The functions' text is repeated in each branch: ~210 KB.
//!
//! Measured (callgrind, instructions per call on Redis 8.2, EVALSHA rl_fixed): the library's
//! chunk with a dispatch tail 425k; lazy only 197k; with the branches and the library's
//! parse_plain 122k; FCALL rl_fixed 63k. What is left is mostly the closures and their
//! upvalues, the garbage collection of what a call builds, and the parse that FCALL remembers.
//!
//! The rewriting is by tokens, with no shadowing to resolve: a local or a parameter that
//! reuses a top-level name is refused here (rename it in the library). Byte-for-byte the same
//! code runs in both forms otherwise; the differential tests run the library's pure part
//! through this script too.

use std::collections::{BTreeMap, BTreeSet};

const LIBRARY: &str = include_str!("../../functions/ratelimit.lua");
const SCRIPT: &str = include_str!("../../functions/ratelimit-script.lua");
pub(crate) const MARKER: &str = "-- @@registration";

/// The table that holds the definitions, and the names its `__index` uses: the library may not
/// use these identifiers.
const LIB: &str = "LIB";
const RESERVED: [&str; 3] = [LIB, "lib_name", "lib_value"];

/// The EVALSHA script's own lines, rewritten as the library is: the function name comes first
/// in ARGV.
const TAIL: &str = r#"-- EVALSHA: the function name first in ARGV, then its arguments, keys in KEYS. Each run
-- starts afresh: nothing to remember parsed calls in.
MEMO_ON = false
return route(ARGV[1] or "", KEYS, ARGV, 2)
"#;

/// The library without its first line (`#!lua ...`) and its registration.
pub(crate) fn library_body() -> &'static str {
    let after_shebang = LIBRARY.split_once('\n').map_or("", |(_, rest)| rest);
    after_shebang.split_once(MARKER).map_or(after_shebang, |(body, _)| body)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Name,
    Number,
    Str,
    Op,
    Comment,
    Space,
}

#[derive(Clone, Copy, Debug)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
}

const KEYWORDS: [&str; 21] = [
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in", "local", "nil", "not", "or", "repeat", "return",
    "then", "true", "until", "while",
];

/// The length of a long bracket's opening (`[[`, `[==[`) at the start of `s`, and its level.
fn long_bracket(s: &[u8]) -> Option<(usize, usize)> {
    if s.first() != Some(&b'[') {
        return None;
    }
    let level = s[1..].iter().take_while(|&&c| c == b'=').count();
    (s.get(1 + level) == Some(&b'[')).then_some((level + 2, level))
}

/// Lua 5.1's tokens, whitespace and comments included (concatenated, they give `src` back).
fn tokenize(src: &str) -> Vec<Token<'_>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = if c.is_ascii_whitespace() {
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            Kind::Space
        } else if src[i..].starts_with("--") {
            if let Some((open, level)) = long_bracket(&b[i + 2..]) {
                let close = format!("]{}]", "=".repeat(level));
                let body = i + 2 + open;
                i = body + src[body..].find(&close).expect("an unclosed long comment") + close.len();
            } else {
                i += src[i..].find('\n').unwrap_or(b.len() - i);
            }
            Kind::Comment
        } else if c == b'"' || c == b'\'' {
            i += 1;
            while b[i] != c {
                i += if b[i] == b'\\' { 2 } else { 1 };
                assert!(i < b.len() && b[i] != b'\n', "an unclosed string at byte {start}");
            }
            i += 1;
            Kind::Str
        } else if let Some((open, level)) = long_bracket(&b[i..]) {
            let close = format!("]{}]", "=".repeat(level));
            i += open;
            i += src[i..].find(&close).expect("an unclosed long string") + close.len();
            Kind::Str
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_') {
                let exponent = (b[i] == b'e' || b[i] == b'E') && !src[start..].starts_with("0x");
                i += 1;
                if exponent && i < b.len() && (b[i] == b'+' || b[i] == b'-') {
                    i += 1;
                }
            }
            Kind::Number
        } else if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            Kind::Name
        } else {
            let three = ["..."];
            let two = ["..", "==", "~=", "<=", ">="];
            i += if three.iter().any(|o| src[i..].starts_with(o)) {
                3
            } else if two.iter().any(|o| src[i..].starts_with(o)) {
                2
            } else {
                1
            };
            Kind::Op
        };
        out.push(Token { kind, text: &src[start..i] });
    }
    out
}

fn significant(t: &Token<'_>) -> bool {
    t.kind != Kind::Space && t.kind != Kind::Comment
}

fn is_identifier(t: &Token<'_>) -> bool {
    t.kind == Kind::Name && !KEYWORDS.contains(&t.text)
}

/// How a token changes the nesting: brackets, and the keywords that open and close blocks.
fn nesting(t: &Token<'_>) -> (i32, Option<&'static str>) {
    match (t.kind, t.text) {
        (Kind::Op, "(" | "[") => (1, Some("(")),
        (Kind::Op, "{") => (1, Some("{")),
        (Kind::Op, ")" | "]" | "}") => (-1, None),
        (Kind::Name, "function" | "do" | "then" | "repeat") => (1, Some("block")),
        (Kind::Name, "end" | "until" | "elseif") => (-1, None),
        _ => (0, None),
    }
}

/// One top-level statement of the library: its leading comment lines and its tokens.
struct Statement<'a> {
    comment: String,
    tokens: Vec<Token<'a>>,
}

/// The top-level statements: each starts on a line of its own at column 0, and runs on while a
/// bracket or block is open or the next line is indented.
fn statements<'a>(tokens: &[Token<'a>]) -> Vec<Statement<'a>> {
    let mut out = Vec::new();
    let mut comment = String::new();
    let mut i = 0;
    while i < tokens.len() {
        let t = tokens[i];
        match t.kind {
            Kind::Space => {
                i += 1;
                continue;
            }
            Kind::Comment => {
                comment.push_str(t.text);
                comment.push('\n');
                i += 1;
                continue;
            }
            _ => {}
        }
        let start = i;
        let mut depth = 0;
        loop {
            depth += nesting(&tokens[i]).0;
            i += 1;
            if i >= tokens.len() {
                break;
            }
            let ends_line = tokens[i].kind == Kind::Space && tokens[i].text.contains('\n');
            if depth == 0 && ends_line {
                let indented = !tokens[i].text.ends_with('\n');
                let next_is_code = tokens.get(i + 1).is_some_and(significant);
                if !(indented && next_is_code) {
                    break;
                }
            }
        }
        out.push(Statement { comment: std::mem::take(&mut comment), tokens: tokens[start..i].to_vec() });
    }
    out
}

/// A top-level name's definition: the tokens of its value (none: declared only, set elsewhere).
struct Definition<'a> {
    comment: String,
    value: Vec<Token<'a>>,
}

/// `tokens` split at the commas outside any bracket or block.
fn split_list<'a>(tokens: &[Token<'a>]) -> Vec<Vec<Token<'a>>> {
    let mut out = vec![Vec::new()];
    let mut depth = 0;
    for t in tokens {
        if depth == 0 && t.kind == Kind::Op && t.text == "," {
            out.push(Vec::new());
            continue;
        }
        depth += nesting(t).0;
        out.last_mut().expect("a list").push(*t);
    }
    out
}

fn trim<'a>(tokens: &[Token<'a>]) -> Vec<Token<'a>> {
    let first = tokens.iter().position(significant).unwrap_or(tokens.len());
    let last = tokens.iter().rposition(significant).map_or(first, |p| p + 1);
    tokens[first..last].to_vec()
}

/// The library's top-level names in order, each with its definition.
fn definitions<'a>(statements: &[Statement<'a>]) -> (Vec<&'a str>, BTreeMap<&'a str, Definition<'a>>) {
    let mut order = Vec::new();
    let mut defs: BTreeMap<&str, Definition<'_>> = BTreeMap::new();
    for s in statements {
        let sig: Vec<usize> = (0..s.tokens.len()).filter(|&k| significant(&s.tokens[k])).collect();
        let word = |k: usize| s.tokens[sig[k]].text;
        let text: String = s.tokens.iter().map(|t| t.text).collect();
        if word(0) == "local" && word(1) == "function" {
            // `local function name(...) ... end`: the value is `function(...) ... end`.
            let name = word(2);
            let mut value = vec![s.tokens[sig[1]]];
            value.extend_from_slice(&s.tokens[sig[2] + 1..]);
            order.push(name);
            let old = defs.insert(name, Definition { comment: s.comment.clone(), value });
            assert!(old.is_none(), "{name} is defined twice at the top level");
        } else if word(0) == "local" {
            let eq = s.tokens.iter().position(|t| t.kind == Kind::Op && t.text == "=");
            let names_end = eq.unwrap_or(s.tokens.len());
            let names: Vec<&str> = split_list(&s.tokens[sig[1]..names_end]).iter().map(|n| trim(n)[0].text).collect();
            let values = eq.map_or(Vec::new(), |e| split_list(&s.tokens[e + 1..]));
            assert!(values.len() <= names.len(), "more values than names in: {text}");
            for (k, name) in names.iter().enumerate() {
                order.push(name);
                let value = values.get(k).map(|v| trim(v)).unwrap_or_default();
                let comment = if k == 0 { s.comment.clone() } else { String::new() };
                let old = defs.insert(name, Definition { comment, value });
                assert!(old.is_none(), "{name} is declared twice at the top level");
            }
        } else if is_identifier(&s.tokens[sig[0]]) && word(1) == "=" {
            // `name = value`: the value of a name declared earlier without one.
            let name = word(0);
            let def = defs.get_mut(name).unwrap_or_else(|| panic!("{name} is assigned at the top level before it is declared"));
            assert!(def.value.is_empty(), "{name} is given a value twice at the top level");
            def.value = trim(&s.tokens[sig[1] + 1..]);
            def.comment.push_str(&s.comment);
        } else {
            panic!("a top-level statement the script generator does not know: {text}");
        }
    }
    (order, defs)
}

/// Whether each significant token of `tokens` (by index) is a reference to a variable: an
/// identifier that is not a field (`a.name`, `a:name`) nor a key in a table constructor
/// (`{ name = v }`).
fn references(tokens: &[Token<'_>]) -> Vec<bool> {
    let sig: Vec<usize> = (0..tokens.len()).filter(|&k| significant(&tokens[k])).collect();
    let mut out = vec![false; tokens.len()];
    let mut stack: Vec<&str> = Vec::new();
    for (n, &k) in sig.iter().enumerate() {
        let t = &tokens[k];
        let prev = n.checked_sub(1).map(|p| tokens[sig[p]].text);
        let next = sig.get(n + 1).map(|&q| tokens[q].text);
        if is_identifier(t) {
            let field = matches!(prev, Some("." | ":"));
            let key = next == Some("=") && matches!(prev, Some("{" | "," | ";")) && stack.last() == Some(&"{");
            out[k] = !field && !key;
        }
        match nesting(t) {
            (1, Some(open)) => stack.push(open),
            (-1, _) => {
                stack.pop();
            }
            _ => {}
        }
        // `elseif` closes its branch and its `then` opens the next.
    }
    out
}

/// Refuses a local, a parameter or a loop variable named like a top-level name.
fn check_no_shadowing(tokens: &[Token<'_>], top: &BTreeSet<&str>, what: &str) {
    let sig: Vec<&Token<'_>> = tokens.iter().filter(|t| significant(t)).collect();
    let refuse = |t: &Token<'_>| {
        let name = t.text;
        assert!(
            !(is_identifier(t) && (top.contains(name) || RESERVED.contains(&name))),
            "`{name}` in {what} shadows a top-level name of the library (or a name of the script's own): rename it"
        );
    };
    for (k, t) in sig.iter().enumerate() {
        let names = match t.text {
            // `local function name`, `local a, b`, `for a, b in`, `for a =`.
            "local" if sig.get(k + 1).is_some_and(|n| n.text == "function") => &sig[k + 2..k + 3],
            "local" | "for" => {
                let end = sig[k + 1..].iter().position(|n| !(is_identifier(n) || n.text == ",")).map_or(sig.len(), |p| k + 1 + p);
                &sig[k + 1..end]
            }
            // Parameters: `function (a, b)` or `function name(a, b)`.
            "function" => {
                let open = sig[k..].iter().position(|n| n.text == "(").map_or(sig.len(), |p| k + p);
                let close = sig[open..].iter().position(|n| n.text == ")").map_or(sig.len(), |p| open + p);
                &sig[open.min(close)..close]
            }
            _ => &sig[0..0],
        };
        names.iter().for_each(|n| refuse(n));
    }
}

/// Whether `name` is assigned anywhere in `tokens`, as `name = ...` or `name, other = ...`.
fn is_assigned(tokens: &[Token<'_>], refs: &[bool], name: &str) -> bool {
    let sig: Vec<usize> = (0..tokens.len()).filter(|&k| significant(&tokens[k])).collect();
    sig.iter().enumerate().any(|(n, &k)| {
        if !(refs[k] && tokens[k].text == name) {
            return false;
        }
        // A declaration (`local a, name = ...`) is not an assignment.
        let mut back = n;
        while back >= 2 && tokens[sig[back - 1]].text == "," && is_identifier(&tokens[sig[back - 2]]) {
            back -= 2;
        }
        if back >= 1 && tokens[sig[back - 1]].text == "local" {
            return false;
        }
        let mut m = n + 1;
        loop {
            match sig.get(m).map(|&q| tokens[q].text) {
                Some("=") => return true,
                Some(",") if sig.get(m + 1).is_some_and(|&q| refs[q]) => m += 2,
                _ => return false,
            }
        }
    })
}

/// A literal: numbers, strings, `..` and a leading `-`.
fn is_literal(value: &[Token<'_>]) -> bool {
    let sig: Vec<&Token<'_>> = value.iter().filter(|t| significant(t)).collect();
    !sig.is_empty()
        && sig.iter().enumerate().all(|(n, t)| matches!(t.kind, Kind::Number | Kind::Str) || t.text == ".." || (n == 0 && t.text == "-"))
}

/// `tokens` as text, each reference to a constant replaced by its literal and each reference
/// to another top-level name by `LIB.name`.
fn rewrite(tokens: &[Token<'_>], constants: &BTreeMap<&str, String>, lazy: &BTreeSet<&str>) -> String {
    let refs = references(tokens);
    let mut out = String::new();
    for (k, t) in tokens.iter().enumerate() {
        if refs[k] {
            if let Some(literal) = constants.get(t.text) {
                out.push_str(literal);
                continue;
            }
            if lazy.contains(t.text) {
                out.push_str(LIB);
                out.push('.');
            }
        }
        out.push_str(t.text);
    }
    out
}

/// Indents every line after the first by `pad`.
fn indent(text: &str, pad: &str) -> String {
    let lines: Vec<String> =
        text.lines().enumerate().map(|(k, l)| if k == 0 || l.is_empty() { l.to_owned() } else { format!("{pad}{l}") }).collect();
    lines.join("\n")
}

/// The `if` that finds `names`' definitions, by the name's length first (a binary search),
/// then by the name.
fn dispatch(names: &[&str], bodies: &BTreeMap<&str, (String, String)>, pad: &str, out: &mut String) {
    let mut lengths: Vec<usize> = names.iter().map(|n| n.len()).collect();
    lengths.sort_unstable();
    lengths.dedup();
    if lengths.len() > 1 {
        let pivot = lengths[lengths.len() / 2];
        let (short, long): (Vec<&str>, Vec<&str>) = names.iter().partition(|n| n.len() < pivot);
        out.push_str(&format!("{pad}if #lib_name < {pivot} then\n"));
        dispatch(&short, bodies, &format!("{pad}  "), out);
        out.push_str(&format!("{pad}else\n"));
        dispatch(&long, bodies, &format!("{pad}  "), out);
        out.push_str(&format!("{pad}end\n"));
        return;
    }
    let inner = format!("{pad}  ");
    for (k, name) in names.iter().enumerate() {
        out.push_str(&format!("{pad}{} lib_name == \"{name}\" then\n", if k == 0 { "if" } else { "elseif" }));
        let (comment, value) = &bodies[name];
        comment.lines().for_each(|l| out.push_str(&format!("{inner}{l}\n")));
        out.push_str(&format!("{inner}lib_value = {}\n", indent(value, &inner)));
    }
    out.push_str(&format!("{pad}else\n{pad}  return nil\n{pad}end\n"));
}

/// The standard functions that the library's `init()` keeps in top-level names (FUNCTION
/// LOAD's top level cannot see `string` or `math`; a script's can): name and value, from
/// init's `a, b = string.a, math.b` lines. The script's LIB starts with them, so init never
/// runs there.
fn standard_functions<'a>(defs: &BTreeMap<&'a str, Definition<'a>>) -> Vec<(&'a str, String)> {
    let init = defs.get("init").expect("the library's init()");
    let sig: Vec<&str> = init.value.iter().filter(|t| significant(t)).map(|t| t.text).collect();
    assert!(sig.len() > 4 && sig[..3] == ["function", "(", ")"] && sig[sig.len() - 1] == "end", "init() takes nothing");
    let mut out = Vec::new();
    let mut rest = &sig[3..sig.len() - 1];
    while !rest.is_empty() {
        let eq = rest.iter().position(|&t| t == "=").expect("init() only assigns");
        let names: Vec<&str> = rest[..eq].iter().copied().filter(|&t| t != ",").collect();
        // The values: one `lib.function` per name, separated by commas.
        let mut values = Vec::new();
        let mut k = eq + 1;
        for n in 0..names.len() {
            let value = rest.get(k..k + 3).expect("a value per name");
            assert!(
                ["string", "math", "table"].contains(&value[0]) && value[1] == ".",
                "init() sets {}, not a standard function",
                names[n]
            );
            values.push(format!("{}.{}", value[0], value[2]));
            k += if n + 1 < names.len() { 4 } else { 3 };
        }
        for (name, value) in names.into_iter().zip(values) {
            assert!(defs[name].value.is_empty(), "{name} is set by init() and has a value of its own");
            out.push((name, value));
        }
        rest = &rest[k..];
    }
    out
}

/// A stand-in for the Redis commands the library calls, enough for its usual paths: strings
/// with an expiry, sorted sets, a clock that moves 1 ms per TIME.
const REDIS_STAND_IN: &str = r#"
local keys, now = {}, 1700000000000
local function zsorted(z)
  local members = {}
  for m, sc in pairs(z) do members[#members + 1] = { m, sc } end
  table.sort(members, function(a, b) return a[2] < b[2] or (a[2] == b[2] and a[1] < b[1]) end)
  return members
end
local function call(cmd, key, a, b, c)
  local k = keys[key]
  if cmd == "TIME" then
    now = now + 1
    return { tostring(math.floor(now / 1000)), tostring(now % 1000 * 1000) }
  elseif cmd == "PEXPIRETIME" then
    return k == nil and -2 or (k.at or -1)
  elseif cmd == "GET" then
    return k ~= nil and k.value or false
  elseif cmd == "SET" then
    keys[key] = { value = a, at = tonumber(c) }
  elseif cmd == "SETRANGE" then
    local v = k.value
    k.value = v:sub(1, tonumber(a)) .. b .. v:sub(tonumber(a) + #b + 1)
  elseif cmd == "PEXPIREAT" then
    k.at = tonumber(a)
  elseif cmd == "ZCARD" then
    local n = 0
    for _ in pairs(k and k.z or {}) do n = n + 1 end
    return n
  elseif cmd == "ZSCORE" then
    local sc = k and k.z[a]
    return sc and tostring(sc) or false
  elseif cmd == "ZRANGE" then
    local members, out = zsorted(k.z), {}
    local n = #members
    local from, to = tonumber(a), tonumber(b)
    if from < 0 then from = math.max(n + from, 0) end
    if to < 0 then to = n + to end
    for r = from, math.min(to, n - 1) do
      out[#out + 1] = members[r + 1][1]
      out[#out + 1] = tostring(members[r + 1][2])
    end
    return out
  elseif cmd == "ZADD" then
    keys[key] = k or { z = {} }
    keys[key].z[b] = tonumber(a)
  elseif cmd == "ZREM" then
    k.z[a] = nil
  elseif cmd == "ZREMRANGEBYSCORE" then
    local top = b == "+inf" and math.huge or tonumber(b)
    for m, sc in pairs(k.z) do if sc <= top then k.z[m] = nil end end
  else
    error("the stand-in has no " .. cmd)
  end
  return "OK"
end
redis = {
  call = call,
  pcall = call,
  error_reply = function(e) return { err = e } end,
}
"#;

/// Each route's usual calls (those of `make bench`), each made three times on the same keys.
const USUAL_CALLS: [(&str, &[&str], &[&str]); 7] = [
    ("rl_fixed", &["k"], &["1000000000", "1h"]),
    ("rl_sliding", &["k"], &["1000000000", "1h"]),
    ("rl_log", &["k"], &["100", "1s"]),
    ("rl_token", &["k"], &["1000000000", "1000", "1h"]),
    ("rl_leaky", &["k"], &["1000000000", "1000", "1h"]),
    ("rl_concurrent", &["k"], &["100", "1h", "w:1"]),
    ("rl_all", &["a", "b", "c"], &["FIXED", "1000000000", "1h", "FIXED", "1000000000", "1h", "FIXED", "1000000000", "1h"]),
];

/// The functions each route's usual calls run, found by running them in Lua 5.1 against a
/// stand-in for Redis: what the lazy script's LIB holds after the calls.
fn hot_functions(lazy_script: &str) -> Hot {
    let lua = mlua::Lua::new();
    let script = lua.load(lazy_script).into_function().expect("the lazy script compiles");
    USUAL_CALLS
        .iter()
        .map(|(route, keys, args)| {
            lua.load(REDIS_STAND_IN).exec().expect("the stand-in loads");
            let keys = lua.create_sequence_from(keys.iter().copied()).expect("KEYS");
            let argv = lua.create_sequence_from(std::iter::once(*route).chain(args.iter().copied())).expect("ARGV");
            lua.globals().set("KEYS", keys).expect("KEYS");
            lua.globals().set("ARGV", argv).expect("ARGV");
            let mut names = BTreeSet::new();
            for holder in ["w:1", "w:2", "w:1"] {
                if *route == "rl_concurrent" {
                    let argv: mlua::Table = lua.globals().get("ARGV").expect("ARGV");
                    argv.set(4, holder).expect("the holder");
                }
                let reply: mlua::Value = script.call(()).expect("the usual call runs");
                if let mlua::Value::Table(t) = &reply {
                    assert!(t.get::<Option<String>>("err").expect("a reply").is_none(), "{route}'s usual call fails: {reply:?}");
                }
                let defined: mlua::Table = lua.load("return LIB_SEEN").eval().expect("LIB's names");
                names.extend(defined.sequence_values::<String>().map(|n| n.expect("a name")));
            }
            (*route, names)
        })
        .collect()
}

/// What `functions/ratelimit-script.lua` must hold.
pub(crate) fn script_from_library() -> String {
    let (body, tail) = generated();
    format!(
        "-- GENERATED from functions/ratelimit.lua by `make functions` (src/testing/script.rs): edit that file, not\n\
         -- this one. SCRIPT LOAD this file, then:\n\
         --   EVALSHA <sha> numkeys key [key ...] rl_fixed|rl_sliding|... arguments\n\
         -- The library's code, each top-level name defined when a call first reads it (LIB's __index).\n\
         {body}{tail}"
    )
}

/// The script's definitions (`LIB`), and its tail (with the functions each route runs
/// defined ahead, see `hot_functions`).
pub(crate) fn generated() -> (String, String) {
    let (lazy, tail) = generated_with(None);
    // The lazy script, reporting the names LIB holds after the call in LIB_SEEN.
    let entry = "return LIB.route(";
    assert!(tail.contains(entry), "the tail calls LIB.route");
    let report = "LIB_SEEN = {}\nfor name in pairs(LIB) do\n  LIB_SEEN[#LIB_SEEN + 1] = name\nend\nreturn reply\n";
    let hot = hot_functions(&format!("{lazy}{}{report}", tail.replace(entry, "local reply = LIB.route(")));
    generated_with(Some(&hot))
}

/// Each route's function name, and the names of the library's top-level definitions its
/// usual calls read.
type Hot = Vec<(&'static str, BTreeSet<String>)>;

fn generated_with(hot: Option<&Hot>) -> (String, String) {
    let body_tokens = tokenize(library_body());
    let (order, defs) = definitions(&statements(&body_tokens));
    let top: BTreeSet<&str> = order.iter().copied().collect();
    let tail_tokens = tokenize(TAIL);
    let body_refs = references(&body_tokens);
    let tail_refs = references(&tail_tokens);
    for t in body_tokens.iter().chain(&tail_tokens) {
        assert!(!(is_identifier(t) && RESERVED.contains(&t.text)), "the library uses `{}`, a name of the script's own", t.text);
    }
    let mut constants = BTreeMap::new();
    for name in &order {
        let def = &defs[name];
        check_no_shadowing(&def.value, &top, name);
        let assigned = is_assigned(&body_tokens, &body_refs, name) || is_assigned(&tail_tokens, &tail_refs, name);
        if !assigned && is_literal(&def.value) {
            let words: Vec<&str> = def.value.iter().filter(|t| significant(t)).map(|t| t.text).collect();
            constants.insert(*name, if words.len() == 1 { words.concat() } else { format!("({})", words.join(" ")) });
        }
    }
    let lazy: BTreeSet<&str> = order.iter().copied().filter(|n| !constants.contains_key(n)).collect();
    let bodies: BTreeMap<&str, (String, String)> = lazy
        .iter()
        .filter(|n| !defs[*n].value.is_empty())
        .map(|name| (*name, (defs[name].comment.clone(), rewrite(&defs[name].value, &constants, &lazy))))
        .collect();
    let defined: Vec<&str> = order.iter().copied().filter(|n| bodies.contains_key(n)).collect();
    let standard: Vec<String> = standard_functions(&defs).iter().map(|(name, value)| format!("  {name} = {value},\n")).collect();
    let mut out = String::new();
    out.push_str("local LIB\nLIB = setmetatable({\n");
    out.push_str(&standard.concat());
    out.push_str("}, { __index = function(_, lib_name)\n  local lib_value\n");
    let mut tree = String::new();
    dispatch(&defined, &bodies, "  ", &mut tree);
    out.push_str(&tree);
    out.push_str("  LIB[lib_name] = lib_value\n  return lib_value\nend })\n\n");
    let generic_tail = rewrite(&tail_tokens, &constants, &lazy);
    let Some(hot) = hot else {
        return (out, generic_tail);
    };
    // Each function's own branch: the functions its usual calls run, as locals defined before
    // the call (a closure costs about a third of a lazy definition); everything else from LIB.
    let mut branches = String::new();
    for (k, (route, names)) in hot.iter().enumerate() {
        let names: Vec<&str> = order.iter().copied().filter(|n| names.contains(*n) && is_function(&defs[n].value)).collect();
        let cold: BTreeSet<&str> = lazy.iter().copied().filter(|n| !names.contains(n)).collect();
        branches.push_str(&format!("{} ARGV[1] == \"{route}\" then\n", if k == 0 { "if" } else { "elseif" }));
        // Declared least captured first: Lua 5.1 finds a captured local by walking the open ones
        // from the last declared, so the most captured are found soonest.
        let captures = |name: &str| {
            names
                .iter()
                .filter(|other| defs[*other].value.iter().zip(references(&defs[*other].value)).any(|(t, r)| r && t.text == name))
                .count()
        };
        let mut declared = names.clone();
        declared.sort_by_key(|n| captures(n));
        branches.push_str(&format!("  local {}\n", declared.join(", ")));
        for name in &names {
            // (Without its comments: the library's copy in LIB keeps them.)
            let code: Vec<Token<'_>> = defs[name].value.iter().copied().filter(|t| t.kind != Kind::Comment).collect();
            let value = rewrite(&code, &constants, &cold);
            let value: Vec<&str> = value.lines().filter(|l| !l.trim().is_empty()).collect();
            let value = value.join("\n");
            branches.push_str(&format!("  {name} = {}\n", indent(&value, "  ")));
        }
        branches.push_str(&format!("  {}\n", indent(rewrite(&tail_tokens, &constants, &cold).trim_end(), "  ")));
    }
    branches.push_str("end\n\n");
    (out, format!("{branches}{generic_tail}"))
}

/// Whether a definition is a function (`function(...) ... end`).
fn is_function(value: &[Token<'_>]) -> bool {
    value.iter().find(|t| significant(t)).is_some_and(|t| t.text == "function")
}

#[test]
fn the_evalsha_script_is_generated_from_the_library() {
    let expected = script_from_library();
    if std::env::var_os("RL_WRITE_SCRIPT").is_some() {
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/functions/ratelimit-script.lua"), &expected).expect("write the script");
        return;
    }
    assert!(SCRIPT == expected, "functions/ratelimit-script.lua is out of date: run `make functions`");
    assert!(LIBRARY.starts_with("#!lua name=ratelimit\n") && LIBRARY.contains(MARKER));
}

#[test]
fn the_tokens_give_the_library_back() {
    let text: String = tokenize(LIBRARY).iter().map(|t| t.text).collect();
    assert_eq!(text, LIBRARY);
}

#[test]
fn a_shadowing_local_is_refused() {
    let tokens = tokenize("function(a, fail) local x, exact = 1, 2 end");
    let top: BTreeSet<&str> = ["fail"].into_iter().collect();
    let refused = std::panic::catch_unwind(|| check_no_shadowing(&tokens, &top, "f"));
    assert!(refused.is_err());
    let top: BTreeSet<&str> = ["exact"].into_iter().collect();
    assert!(std::panic::catch_unwind(|| check_no_shadowing(&tokens, &top, "f")).is_err());
    let top: BTreeSet<&str> = ["other"].into_iter().collect();
    check_no_shadowing(&tokens, &top, "f");
}

#[test]
fn fields_and_keys_are_not_references() {
    let src = "x = { fail = fail, [fail] = 1, t.fail, t:fail() }";
    let tokens = tokenize(src);
    let refs = references(&tokens);
    let kinds: Vec<(&str, bool)> = tokens.iter().zip(&refs).filter(|(t, _)| t.text == "fail").map(|(t, r)| (t.text, *r)).collect();
    assert_eq!(kinds, [("fail", false), ("fail", true), ("fail", true), ("fail", false), ("fail", false)]);
}

/// The second line names the crate's version: the client packages read it (FUNCTION LIST
/// WITHCODE) to decide whether a loaded library is older than their own copy.
#[test]
fn the_library_names_the_crate_version() {
    let second = LIBRARY.lines().nth(1).unwrap_or_default();
    let prefix = concat!("-- redis-ratelimit ", env!("CARGO_PKG_VERSION"), " ");
    assert!(second.starts_with(prefix), "functions/ratelimit.lua line 2 is {second:?}, not {prefix:?}...");
}
