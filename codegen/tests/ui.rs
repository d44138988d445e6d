//! UI tests: each `tests/ui/*.thrift` is loaded as a root, and its rendered diagnostics
//! (errors and warnings, colour off) must equal `tests/ui/<name>.stderr` byte for byte.
//! Files under `tests/ui/include/` are only included by the others.
//!
//! Each input marks the expected problem with a comment on the offending line (`// M0300`).
//!
//! After an intended change to diagnostics, regenerate the expected files with
//! `UPDATE_EXPECT=1 cargo test -p mosaic-codegen --test ui` and review the diff.

use std::path::{Path, PathBuf};

use mosaic_codegen::resolve::{load_with, LoadOptions, MemoryLoader};

fn ui_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui")
}

/// Every file under `dir`, keyed by its path relative to `base`, so that rendered paths do
/// not depend on where the repository is checked out.
fn add_all(loader: &mut MemoryLoader, base: &Path, dir: &Path) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("the ui directory is readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            add_all(loader, base, &p);
        } else if p.extension().is_some_and(|e| e == "thrift") {
            let rel = p.strip_prefix(base).expect("under the base");
            loader.add(rel, std::fs::read(&p).expect("a readable file"));
        }
    }
}

fn render(loader: &MemoryLoader, root: &str) -> String {
    match load_with(loader, &[root], &LoadOptions::default()) {
        Ok(loaded) => loaded.render_warnings(),
        Err(failed) => failed.render(),
    }
}

#[test]
fn ui() {
    let dir = ui_dir();
    let mut loader = MemoryLoader::new();
    add_all(&mut loader, &dir, &dir);
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");

    let mut roots: Vec<String> = std::fs::read_dir(&dir)
        .expect("the ui directory is readable")
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.ends_with(".thrift").then_some(name)
        })
        .collect();
    roots.sort();
    assert!(!roots.is_empty(), "no ui inputs in {}", dir.display());

    let mut failures = Vec::new();
    for root in &roots {
        let actual = render(&loader, root);
        assert_eq!(
            actual,
            render(&loader, root),
            "{root}: rendering is deterministic"
        );
        let expected_path = dir.join(root.replace(".thrift", ".stderr"));
        if update {
            std::fs::write(&expected_path, &actual).expect("the expected file is writable");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures.push(format!(
                "=== {root}: expected ({})\n{expected}\n=== actual\n{actual}",
                expected_path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "ui output differs (rerun with UPDATE_EXPECT=1 to accept):\n{}",
        failures.join("\n")
    );
}
