//! Writes the Lua files generated from the resource table (`types/groups.lua`,
//! `lua/kube/api/<group>_<version>.lua`) into the repository, removing group
//! modules the table no longer has. `--check` writes nothing and fails when a
//! file differs (the module's `cargo test` makes the same comparison).
//!
//!     cargo run --manifest-path model/Cargo.toml --bin gen-lua [-- --check]

use std::path::Path;
use std::process::ExitCode;

/// Group modules in lua/kube/api/ that the table does not make (paths from
/// the repository root).
fn stale_modules(root: &Path, wanted: &[(String, String)]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join("lua/kube/api")) else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| kube_model::is_group_module(name))
        .map(|name| format!("lua/kube/api/{name}"))
        .filter(|path| !wanted.iter().any(|(p, _)| p == path))
        .collect();
    out.sort();
    out
}

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("gen-lua: unknown argument {other:?} (only --check)");
            return ExitCode::from(2);
        }
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let files = kube_model::lua_files();
    let mut drift = 0;
    for (path, text) in &files {
        let full = root.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        drift += 1;
        if check {
            eprintln!("gen-lua: {path} differs from the table");
        } else if let Err(e) = std::fs::write(&full, text) {
            eprintln!("gen-lua: cannot write {path}: {e}");
            return ExitCode::FAILURE;
        } else {
            println!("gen-lua: wrote {path}");
        }
    }
    for stale in stale_modules(&root, &files) {
        drift += 1;
        if check {
            eprintln!("gen-lua: {stale} is no group of the table");
        } else if let Err(e) = std::fs::remove_file(root.join(&stale)) {
            eprintln!("gen-lua: cannot remove {stale}: {e}");
            return ExitCode::FAILURE;
        } else {
            println!("gen-lua: removed {stale}");
        }
    }
    if check && drift > 0 {
        eprintln!("gen-lua: {drift} file(s) out of date: run it without --check");
        return ExitCode::FAILURE;
    }
    println!("gen-lua: {} files, {drift} changed", files.len());
    ExitCode::SUCCESS
}
