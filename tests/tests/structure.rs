//! The libraries' module structure stays one a reader can follow: no two modules of a crate
//! depend on each other, directly or around a longer loop.
//!
//! A cycle means neither module can be read (or tested, or moved) without the other; the fix
//! is to put what both need (a shared trait or type) in a module of its own. This test reads
//! every library's sources, takes each `crate::…` (and, in nested modules, `super::…`) path as
//! a dependency of the module that names it, and looks for cycles among the children of every
//! module, at every level. Test modules (`#[cfg(test)]`, at the end of a file) are not read.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use regex::Regex;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every library crate's `src/` directory.
fn library_sources() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for parent in ["chapters", "."] {
        let Ok(entries) = fs::read_dir(workspace().join(parent)) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let src = entry.path().join("src");
            if src.join("lib.rs").exists() {
                dirs.push(src);
            }
        }
    }
    dirs.sort();
    dirs
}

/// A module's path inside its crate: `[]` for the root, `["archive", "apply"]`.
type ModPath = Vec<String>;

/// The library's files (not the binary's) and the module each one is.
fn modules(src: &Path) -> Vec<(ModPath, PathBuf)> {
    let mut found = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let path = entry.path();
            if path.is_dir() {
                // A binary's own modules live beside main.rs in src/bin.
                if path.file_name().is_some_and(|n| n != "bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") || path == src.join("main.rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: ModPath = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                parts.pop();
            }
            found.push((parts, path));
        }
    }
    found
}

/// The module paths a file's code names, resolved to paths from the crate root.
fn references(module: &ModPath, code: &str) -> Vec<ModPath> {
    let path = Regex::new(r"\b(crate|super)::(\{|[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*)").unwrap();
    let mut found = Vec::new();
    for cap in path.captures_iter(code) {
        let base: ModPath = if &cap[1] == "crate" {
            Vec::new()
        } else if module.is_empty() {
            continue;
        } else {
            module[..module.len() - 1].to_vec()
        };
        if &cap[2] == "{" {
            let start = cap.get(2).unwrap().end();
            for item in group_items(&code[start..]) {
                let mut full = base.clone();
                full.extend(item.split("::").map(str::to_string));
                found.push(full);
            }
        } else {
            let mut full = base;
            full.extend(cap[2].split("::").map(str::to_string));
            found.push(full);
        }
    }
    found
}

/// The first path of each item of a `{a::b, c, d::{e, f}}` group (the text after its `{`).
fn group_items(text: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut depth = 1;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 1 => break,
            '}' => depth -= 1,
            ',' if depth == 1 => items.push(std::mem::take(&mut current)),
            _ if depth == 1 => current.push(c),
            _ => {}
        }
    }
    items.push(current);
    items
        .into_iter()
        .map(|i| i.trim().trim_end_matches("::").to_string())
        .filter(|i| !i.is_empty() && i != "self" && i != "*")
        .collect()
}

/// The code of a file without its comments and its test module.
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Cycles among the children of each module: for every parent, an edge from child A to child
/// B when code in A (or below it) names something in B (or below it).
fn cycles(src: &Path) -> Vec<String> {
    let files = modules(src);
    let known: BTreeSet<ModPath> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut edges: BTreeMap<ModPath, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (module, path) in &files {
        for target in references(module, &code_of(path)) {
            // The longest prefix that is a module: `crate::store::Record` is `store`.
            let Some(target) = (1..=target.len())
                .rev()
                .map(|n| target[..n].to_vec())
                .find(|p| known.contains(p))
            else {
                continue;
            };
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common == module.len() || common == target.len() {
                continue; // a module and its own descendant or ancestor
            }
            edges
                .entry(module[..common].to_vec())
                .or_default()
                .entry(module[common].clone())
                .or_default()
                .insert(target[common].clone());
        }
    }
    let mut problems = Vec::new();
    for (parent, graph) in &edges {
        for cycle in strongly_connected(graph) {
            let at = if parent.is_empty() {
                "crate".to_string()
            } else {
                parent.join("::")
            };
            problems.push(format!(
                "{}: in {at}: {} depend on each other",
                src.parent().unwrap().display(),
                cycle.join(", ")
            ));
        }
    }
    problems
}

/// The groups of two or more nodes that reach each other (Tarjan's algorithm).
fn strongly_connected(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        groups: Vec<Vec<String>>,
    }
    impl<'g> Walk<'g> {
        fn visit(&mut self, node: &'g str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next.as_str()) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next.as_str()]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next.as_str()) {
                    let low = self.low[node].min(self.index[next.as_str()]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(top) = self.stack.pop() {
                    group.push(top.to_string());
                    if top == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    group.sort();
                    self.groups.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        groups: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    walk.groups
}

#[test]
fn no_two_modules_depend_on_each_other() {
    let sources = library_sources();
    assert!(sources.len() >= 4, "found only {sources:?}");
    let problems: Vec<String> = sources.iter().flat_map(|src| cycles(src)).collect();
    assert!(
        problems.is_empty(),
        "module cycles (move what both need into a module of its own):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_checker_sees_a_cycle_through_a_group_import() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    fs::create_dir_all(src.join("b")).unwrap();
    fs::write(src.join("lib.rs"), "mod a;\nmod b;\n").unwrap();
    fs::write(src.join("a.rs"), "use crate::{b::inner::Thing, x};\n").unwrap();
    fs::write(src.join("b/mod.rs"), "mod inner;\n").unwrap();
    fs::write(src.join("b/inner.rs"), "use crate::a::Other;\n").unwrap();
    let found = cycles(&src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("in crate: a, b depend on each other"));
}
