//! The facade stays total: a scan of the crate's sources for primitives
//! taken around it, and for exceptions missing from the list in the
//! facade's docs.

use std::fs;
use std::path::{Path, PathBuf};

/// Paths that take a shared primitive from `std` or `parking_lot`
/// directly, around the facade.
const AROUND: &[&str] = &[
    "parking_lot::",
    "std::sync::Arc",
    "std::sync::Mutex",
    "std::sync::Condvar",
    "std::sync::RwLock",
    "std::sync::Once",
    "std::sync::LazyLock",
    "std::sync::Barrier",
    "std::sync::atomic",
    "std::sync::{",
    "std::thread::Builder",
    "std::thread::JoinHandle",
    "std::thread::spawn",
    "std::thread::scope",
    "std::thread_local!",
    "std::cell::UnsafeCell",
];

/// The two uses around the facade that its docs list under "not through
/// this module at all".
const ALLOWED: &[(&str, &str)] = &[
    ("sync/mutex.rs", "std::cell::UnsafeCell"),
    ("sync/rwlock.rs", "std::cell::UnsafeCell"),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The non-comment lines of a file's production code: everything before
/// its first `#[cfg(test)]`-like line (unit tests sit at the end of their
/// file, and keep std's types), none of a file that is all tests.
fn code_lines(rel: &str, text: &str) -> Vec<(usize, String)> {
    if rel.ends_with("/tests.rs") || rel == "loom/tests.rs" {
        return Vec::new();
    }
    text.lines()
        .enumerate()
        .take_while(|(_, l)| {
            let l = l.trim_start();
            !(l.starts_with("#[cfg(test") || l.starts_with("#[cfg(all(test"))
        })
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

/// True if `line` names the path `pat` from its root (`std::...`, not
/// `crate::loom::std::...`).
fn names(line: &str, pat: &str) -> bool {
    let ident = |c: char| c == '_' || c.is_alphanumeric();
    line.match_indices(pat).any(|(at, _)| {
        let before = &line[..at];
        match before.strip_suffix("::") {
            // `::std::...` is a root path; `loom::std::...` is not.
            Some(head) => !head.ends_with(ident),
            // `my_std::...` is another name.
            None => !before.ends_with(ident),
        }
    })
}

#[test]
fn names_matches_root_paths_only() {
    assert!(names("use std::sync::Arc;", "std::sync::Arc"));
    assert!(names("x: ::std::sync::Arc<T>", "std::sync::Arc"));
    assert!(!names("x: my_std::sync::Arc<T>", "std::sync::Arc"));
    assert!(!names("use crate::loom::std::sync::Arc;", "std::sync::Arc"));
    assert!(names(
        "(std::sync::atomic::AtomicBool)",
        "std::sync::atomic"
    ));
}

#[test]
#[cfg_attr(miri, ignore = "reads the source tree")]
fn every_primitive_goes_through_the_facade_or_is_listed() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let facade_doc = fs::read_to_string(src.join("loom/mod.rs")).expect("loom/mod.rs");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 50, "found the sources: {}", files.len());
    let mut around = Vec::new();
    let mut unlisted = Vec::new();
    for path in files {
        let rel = path
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.starts_with("loom/") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("read source");
        let mut real_non_arc = false;
        for (n, line) in code_lines(&rel, &text) {
            for pat in AROUND {
                if names(&line, pat) && !ALLOWED.contains(&(rel.as_str(), pat)) {
                    around.push(format!("src/{rel}:{n}: {}", line.trim()));
                }
            }
            // A real primitive other than `Arc` (whose row in the list is
            // by category) must be listed by file.
            if let Some(at) = line.find("crate::loom::std::") {
                let rest = &line[at..];
                real_non_arc |= !rest.starts_with("crate::loom::std::sync::Arc")
                    || rest.starts_with("crate::loom::std::sync::{");
            }
        }
        if real_non_arc && !facade_doc.contains(&format!("`{rel}`")) {
            unlisted.push(rel);
        }
    }
    assert!(
        around.is_empty(),
        "primitives taken around the facade (use crate::loom::sync/cell/thread, or \
         crate::loom::std and list the use in src/loom/mod.rs \"Exceptions\"):\n{}",
        around.join("\n")
    );
    assert!(
        unlisted.is_empty(),
        "files using crate::loom::std that src/loom/mod.rs \"Exceptions\" does not list: {unlisted:?}"
    );
}
