//! The layers of src/, read from the source: data flows one way (no import circle between
//! the crate's modules), the pure core imports nothing else of the crate, no handler imports
//! another, and only the glue (`src/redis/`, and `lib.rs` that registers the commands) touches
//! the Redis module API. Test code (`#[cfg(test)] mod tests`) may reach anywhere and is not
//! read.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Every .rs file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The module path of a file: `src/redis/call.rs` is `redis::call`, `src/algo/mod.rs` is
/// `algo`, `src/lib.rs` is the crate root (empty).
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("under src/").with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The production code of a file: everything before its unit tests.
fn production(text: &str) -> &str {
    let end = ["#[cfg(test)]\nmod tests", "#[cfg(test)]\npub mod tests"].iter().filter_map(|m| text.find(m)).min();
    &text[..end.unwrap_or(text.len())]
}

/// The paths a file refers to through `crate::`, `$crate::` and `super::`, resolved to absolute
/// module paths (first segments only, braces expanded one level: `crate::{args, limiter}`).
fn references(module: &[String], code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let words = |s: &str| -> Vec<String> {
        s.split("::").map(|w| w.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>()).collect()
    };
    for (i, _) in code.match_indices("crate::").chain(code.match_indices("super::")) {
        // `$crate::` and `crate::` alike; skip the tail of a longer identifier.
        let before = code[..i].chars().last();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i..];
        let (base, tail) = if let Some(t) = rest.strip_prefix("crate::") {
            (Vec::new(), t)
        } else {
            // A file's module path already names the file (`a/b.rs` is `a::b`, `a/mod.rs` is
            // `a`): `super` is one step up from it either way.
            let mut base = module.to_vec();
            let mut t = rest;
            while let Some(after) = t.strip_prefix("super::") {
                base.pop();
                t = after;
            }
            (base, t)
        };
        let groups: Vec<String> = match tail.strip_prefix('{') {
            Some(inner) => {
                // Top-level names of the group.
                let mut depth = 0;
                let mut names = Vec::new();
                let mut current = String::new();
                for c in inner.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => names.push(std::mem::take(&mut current)),
                        _ if depth == 0 => current.push(c),
                        _ => {}
                    }
                }
                names.push(current);
                names.into_iter().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect()
            }
            None => vec![tail.to_owned()],
        };
        for g in groups {
            let mut path = base.clone();
            path.extend(words(&g).into_iter().filter(|w| !w.is_empty() && w != "self"));
            found.push(path);
        }
    }
    found
}

struct Crate {
    /// File module path -> the module paths it refers to.
    refers: BTreeMap<Vec<String>, Vec<Vec<String>>>,
    /// File module path -> its production code.
    code: BTreeMap<Vec<String>, String>,
}

fn read_crate() -> Crate {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut refers = BTreeMap::new();
    let mut code = BTreeMap::new();
    for file in sources(&src) {
        let module = module_of(&src, &file);
        let text = fs::read_to_string(&file).expect("a source file");
        let prod = production(&text).to_owned();
        refers.insert(module.clone(), references(&module, &prod));
        code.insert(module, prod);
    }
    Crate { refers, code }
}

/// The top-level module a path belongs to (`redis::call` -> `redis`; the root -> `lib`).
fn top(path: &[String]) -> String {
    path.first().cloned().unwrap_or_else(|| "lib".to_owned())
}

#[test]
fn no_import_circle_between_the_crates_modules() {
    let krate = read_crate();
    let modules: BTreeSet<String> = krate.refers.keys().map(|m| top(m)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, refs) in &krate.refers {
        for r in refs {
            let (from, to) = (top(file), top(r));
            if from != to && modules.contains(&to) {
                edges.entry(from).or_default().insert(to);
            }
        }
    }
    // Depth-first search for a cycle; report it.
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for m in &modules {
        if let Some(cycle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            panic!("import circle: {}\nedges: {edges:?}", cycle.join(" -> "));
        }
    }
    // The reading found the layers at all: the handlers reach the glue, the glue the core.
    assert!(edges.get("handlers").is_some_and(|e| e.contains("redis") && e.contains("limiter")), "{edges:?}");
    assert!(edges.get("limiter").is_some_and(|e| e.contains("algo") && e.contains("codec")), "{edges:?}");
}

#[test]
fn the_pure_core_imports_nothing_else_of_the_crate() {
    let krate = read_crate();
    for (file, refs) in &krate.refers {
        if top(file) == "algo" {
            let outside: Vec<String> = refs.iter().filter(|r| top(r) != "algo").map(|r| r.join("::")).collect();
            assert!(outside.is_empty(), "{} imports {outside:?}", file.join("::"));
        }
    }
}

#[test]
fn no_handler_imports_another() {
    let krate = read_crate();
    let handlers: Vec<&Vec<String>> = krate.refers.keys().filter(|m| m.len() == 2 && m[0] == "handlers").collect();
    assert!(handlers.len() >= 3, "{handlers:?}");
    for file in &handlers {
        for r in &krate.refers[*file] {
            let other = r.len() >= 2 && r[0] == "handlers" && r[1] != file[1];
            assert!(!other, "{} imports {}", file.join("::"), r.join("::"));
        }
    }
}

#[test]
fn only_the_glue_touches_the_module_api() {
    let krate = read_crate();
    let mut glue = 0;
    for (file, code) in &krate.code {
        let touches = code.contains("redis_module::") || code.contains("api!(");
        let allowed = file.is_empty() || top(file) == "redis";
        assert!(!touches || allowed, "{} calls the module API outside src/redis/", file.join("::"));
        glue += usize::from(touches);
    }
    assert!(glue >= 5, "the reading found the glue: {glue} files");
}
