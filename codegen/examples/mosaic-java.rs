//! Writes the Java classes for IDL files: `mosaic-java gen --lang java -o DIR FILE...`.
//!
//! A stand-in for `mosaic gen --lang java` with the same arguments, used by
//! tests/java-conformance (through `MOSAIC_BIN`) until the CLI has the Java back end.
//! Include directories: the directory of each file.

use std::path::PathBuf;
use std::process::ExitCode;

use mosaic_codegen::backend::java::{generate, JavaOptions};
use mosaic_codegen::resolve::{load, LoadOptions};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut out = None;
    let mut files = Vec::new();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "gen" => {}
            "--lang" => {
                if args.next().as_deref() != Some("java") {
                    eprintln!("mosaic-java: only --lang java");
                    return ExitCode::from(2);
                }
            }
            "-o" | "--out" => out = args.next().map(PathBuf::from),
            _ => files.push(PathBuf::from(arg)),
        }
    }
    let (Some(out), false) = (out, files.is_empty()) else {
        eprintln!("usage: mosaic-java gen --lang java -o DIR FILE...");
        return ExitCode::from(2);
    };
    let include_dirs = files
        .iter()
        .filter_map(|f| f.parent().map(PathBuf::from))
        .collect();
    let loaded = match load(&files, &LoadOptions { include_dirs }) {
        Ok(loaded) => loaded,
        Err(failed) => {
            eprintln!("{failed}");
            return ExitCode::FAILURE;
        }
    };
    for file in generate(&loaded.program, &JavaOptions::default()) {
        if let Err(e) = file.write_to(&out) {
            eprintln!("mosaic-java: {}: {e}", out.join(&file.path).display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
