//! Generates both peers' code for `bench.thrift` into `OUT_DIR`; nothing generated is committed.
//!
//! - `volo_gen.rs`: Volo's server, from `volo-build` (pilota-build).
//! - `apache_bench.rs`: Apache Thrift's Rust code, from the Apache `thrift` compiler
//!   (Debian's `thrift-compiler`, installed by `scripts/setup`).
//! - `mosaic/`: Mosaic's code, from `mosaic-codegen`, as any Mosaic user's build.rs makes it.

use std::{env, fs, io::ErrorKind, path::PathBuf, process::Command};

const IDL: &str = "bench.thrift";

fn main() {
    println!("cargo:rerun-if-changed={IDL}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=THRIFT");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    volo_build::Builder::thrift()
        .add_service(IDL)
        .write()
        .expect("volo-build failed to generate code for bench.thrift");

    apache(&out_dir);

    mosaic_codegen::Builder::new()
        .out_dir(out_dir.join("mosaic"))
        .compile(&[IDL])
        .unwrap_or_else(|e| panic!("mosaic-codegen failed on {IDL}:\n{e}"));
}

/// Runs `thrift --gen rs` and strips the inner attributes it emits, which `include!` inside a
/// module cannot take; the including module carries the equivalent `#[allow]`s instead.
fn apache(out_dir: &std::path::Path) {
    let thrift = env::var("THRIFT").unwrap_or_else(|_| "thrift".to_owned());
    let gen_dir = out_dir.join("apache");
    fs::create_dir_all(&gen_dir).expect("create OUT_DIR/apache");
    let status = match Command::new(&thrift)
        .args(["--gen", "rs", "-out"])
        .arg(&gen_dir)
        .arg(IDL)
        .status()
    {
        Ok(status) => status,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "the Apache Thrift compiler `{thrift}` was not found: run scripts/setup \
             (it installs Debian's thrift-compiler), or set THRIFT=/path/to/thrift"
        ),
        Err(e) => panic!("could not run `{thrift}`: {e}"),
    };
    assert!(
        status.success(),
        "`{thrift} --gen rs {IDL}` failed: {status}"
    );

    let generated = fs::read_to_string(gen_dir.join("bench.rs")).expect("read generated bench.rs");
    let body: String = generated
        .lines()
        .filter(|line| !line.starts_with("#!["))
        .flat_map(|line| [line, "\n"])
        .collect();
    fs::write(out_dir.join("apache_bench.rs"), body).expect("write apache_bench.rs");
}
