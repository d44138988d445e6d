//! Generates Rust, exactly as a user's build script would, one output directory per case:
//! every golden case of the Rust back end (`codegen/tests/rust/<case>/`, each `.thrift` file
//! directly in it a root), and the front end's every-construct file
//! (`codegen/tests/data/everything.thrift`).

use std::path::{Path, PathBuf};

fn roots_in(dir: &Path) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "thrift"))
        .collect();
    roots.sort();
    roots
}

fn main() {
    let codegen = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../codegen/tests");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let data = codegen.join("data");
    let mut cases = vec![(
        "everything",
        data.clone(),
        vec![data.join("everything.thrift")],
    )];
    for case in ["thrift_test", "tricky"] {
        let dir = codegen.join("rust").join(case);
        let roots = roots_in(&dir);
        cases.push((case, dir, roots));
    }
    for (name, dir, roots) in cases {
        mosaic_codegen::Builder::new()
            .out_dir(out.join(name))
            .include_dir(&dir)
            // The cases warn on purpose (implicit field ids, odd namespaces).
            .cargo_warnings(false)
            .compile(&roots)
            .unwrap_or_else(|e| panic!("generating Rust for {name} failed:\n{e}"));
    }
}
