//! Replays the stored fuzz corpora (`fuzz/corpus/<target>/`) through the fuzz
//! targets' checks: the CI smoke run of the fuzzers, without cargo-fuzz or
//! nightly. The checks themselves live in `fuzz/src/lib.rs`.

#[path = "../fuzz/src/lib.rs"]
mod fuzz_checks;

use std::path::Path;

fn replay(target: &str) {
    let check = fuzz_checks::TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .map(|(_, f)| *f)
        .expect("a known target");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    let mut failures = Vec::new();
    for file in &files {
        let data = std::fs::read(file).expect("corpus file");
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failures.push(file.display().to_string());
        }
    }
    assert!(failures.is_empty(), "{target}: failing inputs {failures:?}");
}

#[test]
fn kubeconfig_corpus() {
    replay("kubeconfig");
}

#[test]
fn json_to_lua_corpus() {
    replay("json_to_lua");
}

#[test]
fn lua_to_json_corpus() {
    replay("lua_to_json");
}

#[test]
fn line_framer_corpus() {
    replay("line_framer");
}

#[test]
fn query_corpus() {
    replay("query");
}

#[test]
fn every_target_has_a_replay() {
    let names: Vec<&str> = fuzz_checks::TARGETS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "kubeconfig",
            "json_to_lua",
            "lua_to_json",
            "line_framer",
            "query"
        ]
    );
}
