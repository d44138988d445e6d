//! Loads every `.thrift` file of a corpus of real-world IDL and checks that the front end
//! accepts what Apache Thrift's compiler accepts.
//!
//! The corpus is not ours to commit (Apache Thrift's `test/` folder, and projects such as
//! parquet-format and jaeger-idl), so this test reads it from the directory named by the
//! `MOSAIC_IDL_CORPUS` environment variable and is skipped, saying so, when it is unset. To
//! build a corpus from Apache Thrift's repository:
//!
//! ```text
//! mkdir -p /tmp/idl-corpus
//! git -C path/to/thrift archive HEAD test | tar -x -C /tmp/idl-corpus
//! MOSAIC_IDL_CORPUS=/tmp/idl-corpus cargo test -p mosaic-codegen --test apache_corpus
//! ```
//!
//! The directory is walked recursively. Each file is loaded as a root with its own directory
//! as an include dir.

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

#[test]
fn corpus_is_accepted_as_apache_accepts_it() {
    let Some(dir) = std::env::var_os("MOSAIC_IDL_CORPUS") else {
        eprintln!("skipped: set MOSAIC_IDL_CORPUS to a directory of .thrift files to run it");
        return;
    };
    let mut files = Vec::new();
    thrift_files(Path::new(&dir), &mut files);
    assert!(!files.is_empty(), "no .thrift files under {dir:?}");

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
    eprintln!("checked {} files", files.len());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
