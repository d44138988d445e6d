//! Generates Rust for every golden case of the Rust back end (`codegen/tests/rust/<case>/`),
//! exactly as a user's build script would, one output directory per case.

use std::path::{Path, PathBuf};

fn main() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../codegen/tests/rust");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for case in ["thrift_test", "tricky"] {
        let dir = cases.join(case);
        let mut roots: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "thrift"))
            .collect();
        roots.sort();
        mosaic_codegen::Builder::new()
            .out_dir(out.join(case))
            .include_dir(&dir)
            .compile(&roots)
            .unwrap_or_else(|e| panic!("generating Rust for {case} failed:\n{e}"));
    }
}
