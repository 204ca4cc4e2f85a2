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
//! - a top-level name bound once to a literal (a number, a string) is replaced by its literal.
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

/// The script's definitions (`LIB`), and its tail.
pub(crate) fn generated() -> (String, String) {
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
    let mut out = String::new();
    out.push_str("local LIB\nLIB = setmetatable({}, { __index = function(_, lib_name)\n  local lib_value\n");
    let mut tree = String::new();
    dispatch(&defined, &bodies, "  ", &mut tree);
    out.push_str(&tree);
    out.push_str("  LIB[lib_name] = lib_value\n  return lib_value\nend })\n\n");
    (out, rewrite(&tail_tokens, &constants, &lazy))
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
