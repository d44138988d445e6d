//! Loads every `.thrift` file of a corpus of real-world IDL and checks that the front end
//! accepts what Apache Thrift's compiler accepts.
//!
//! The corpus is not ours to commit (Apache Thrift's `test/` folder, and projects such as
//! parquet-format and jaeger-idl), so this test reads it from the directories named by the
//! `MOSAIC_IDL_CORPUS` environment variable, a `:`-separated list like `PATH`. When it is
//! unset the test is skipped, saying so, except under CI (`CI` set), where it fails:
//! `scripts/setup` fetches the corpus (Apache Thrift 0.17.0's `test/` from Debian's package
//! pool, and `parquet.thrift` from PyPI's `parquet` 1.3.1) into `.cache/`, and `scripts/test`
//! points the variable at it:
//!
//! ```text
//! scripts/setup
//! MOSAIC_IDL_CORPUS=$PWD/.cache/apache-thrift-0.17/test:$PWD/.cache/idl-corpus-extra \
//!     cargo test -p mosaic-codegen --test apache_corpus
//! ```
//!
//! A corpus from Apache Thrift's repository works too:
//!
//! ```text
//! mkdir -p /tmp/idl-corpus
//! git -C path/to/thrift archive HEAD test | tar -x -C /tmp/idl-corpus
//! MOSAIC_IDL_CORPUS=/tmp/idl-corpus cargo test -p mosaic-codegen --test apache_corpus
//! ```
//!
//! Every listed directory is walked recursively and must hold at least one `.thrift` file.
//! Relative paths are taken from `codegen/`, where cargo runs the test.
//! Each file is loaded as a root with its own directory as an include dir.

use std::path::{Path, PathBuf};

use mosaic_codegen::resolve::{load, LoadOptions};

/// Files Apache's compiler rejects too, with the reason and a text the rendered diagnostics
/// must contain.
///
/// Checked against Debian's `thrift --gen py` (0.17) over Apache's `test/`, parquet-format and
/// jaeger-idl: besides BrokenConstants.thrift, 0.17 also fails on files that current Apache
/// accepts and so do we: ConstantsDemo, DebugProtoTest, FuzzTest and ThriftTest use `uuid`
/// (newer than 0.17); NameConflictTest (and v0.16/) uses keywords as field names
/// (THRIFT-5626, newer than 0.17); py/explicit_module/test3.thrift names a struct `from`,
/// refused by Apache's Python generator as a Python keyword, not by its parser, so it is the
/// back ends' business (they escape keywords).
///
/// The 0.17.0 release's own `test/` (what CI fetches) is older than master's: its
/// ThriftTest, ConstantsDemo and DebugProtoTest have no `uuid`, its NameConflictTest no
/// keyword field names, and it lacks FuzzTest.thrift and v0.16/; it has audit/, partial/
/// and threads/ IDL instead, all of which 0.17 compiles. So over 0.17's `test/` plus
/// parquet.thrift, Debian's 0.17 compiler fails on exactly BrokenConstants.thrift and
/// test3.thrift (for the reason above), and this list holds for both corpora.
const EXPECTED_FAILURES: &[(&str, &str, &str)] = &[(
    "BrokenConstants.thrift",
    "an integer literal beyond 64 bits, and an enum value beyond i32",
    "error[M0014]: integer literal is too large",
)];

fn thrift_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            thrift_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "thrift") {
            out.push(p);
        }
    }
}

/// The corpus directories from `MOSAIC_IDL_CORPUS`, or `None` to skip the test (the
/// variable is unset outside CI). Panics when it is unset under CI, or empty.
fn corpus_dirs() -> Option<Vec<PathBuf>> {
    let Some(value) = std::env::var_os("MOSAIC_IDL_CORPUS") else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "MOSAIC_IDL_CORPUS is not set, and under CI (CI is set) the corpus test must run: \
                 run scripts/setup (it fetches the corpus into .cache/) and then scripts/test \
                 (it sets MOSAIC_IDL_CORPUS), or set MOSAIC_IDL_CORPUS to a `:`-separated \
                 list of directories of .thrift files"
            );
        }
        eprintln!(
            "skipped: set MOSAIC_IDL_CORPUS to a `:`-separated list of directories of .thrift \
             files to run it (scripts/setup fetches one into .cache/)"
        );
        return None;
    };
    let dirs: Vec<PathBuf> = std::env::split_paths(&value)
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    assert!(
        !dirs.is_empty(),
        "MOSAIC_IDL_CORPUS={value:?} names no directory"
    );
    Some(dirs)
}

#[test]
fn corpus_is_accepted_as_apache_accepts_it() {
    let Some(dirs) = corpus_dirs() else {
        return;
    };
    let mut files = Vec::new();
    for dir in &dirs {
        let before = files.len();
        thrift_files(dir, &mut files);
        assert!(
            files.len() > before,
            "no .thrift files under {dir:?} (from MOSAIC_IDL_CORPUS; relative paths start at \
             codegen/); run scripts/setup to fetch the corpus"
        );
    }

    let mut problems = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let options = LoadOptions {
            include_dirs: file.parent().map(Path::to_path_buf).into_iter().collect(),
        };
        let expected = EXPECTED_FAILURES.iter().find(|(n, _, _)| *n == name);
        match (load(&[file], &options), expected) {
            (Ok(_), None) => {}
            (Ok(_), Some((_, why, _))) => problems.push(format!(
                "{}: accepted, but Apache rejects it ({why})",
                file.display()
            )),
            (Err(f), None) => {
                problems.push(format!("{}: rejected\n{}", file.display(), f.render()))
            }
            (Err(f), Some((_, _, text))) => {
                let rendered = f.render();
                if !rendered.contains(text) {
                    problems.push(format!(
                        "{}: rejected without `{text}`:\n{rendered}",
                        file.display()
                    ));
                }
            }
        }
    }
    eprintln!(
        "checked {} files under {} directories",
        files.len(),
        dirs.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
