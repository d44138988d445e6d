//! The `mosaic` binary, run as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn mosaic(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mosaic"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the mosaic binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mosaic-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("idl/common")).unwrap();
    dir
}

const SHARED: &str = "/** Shared. */\nstruct Point { 1: required i32 x, 2: required i32 y }\nservice Base { void ping() }\n";
const MAIN: &str = "include \"common/shared.thrift\"\nservice Plotter extends shared.Base {\n  shared.Point nearest(1: list<shared.Point> points)\n}\n";

#[test]
fn gen_writes_every_included_file_and_check_detects_staleness() {
    let dir = tempdir("gen");
    std::fs::write(dir.join("idl/common/shared.thrift"), SHARED).unwrap();
    std::fs::write(dir.join("idl/plot.thrift"), MAIN).unwrap();

    let o = mosaic(
        &["gen", "--lang", "rust", "--out", "out", "idl/plot.thrift"],
        &dir,
    );
    assert!(o.status.success(), "{}", text(&o));
    for file in ["out/plot.rs", "out/shared.rs", "out/mosaic.rs"] {
        let body = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("{file} was not written ({e}):\n{}", text(&o)));
        assert!(
            body.contains("@generated"),
            "{file} lacks its header:\n{body}"
        );
    }
    let plot = std::fs::read_to_string(dir.join("out/plot.rs")).unwrap();
    assert!(
        plot.contains("super::shared::Point"),
        "included types by relative path:\n{plot}"
    );

    let check = [
        "gen",
        "--lang",
        "rust",
        "--out",
        "out",
        "--check",
        "idl/plot.thrift",
    ];
    let o = mosaic(&check, &dir);
    assert!(
        o.status.success(),
        "fresh output must pass --check:\n{}",
        text(&o)
    );

    std::fs::write(dir.join("out/shared.rs"), "// edited by hand\n").unwrap();
    let o = mosaic(&check, &dir);
    assert!(
        !o.status.success(),
        "--check must fail on stale output:\n{}",
        text(&o)
    );
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("shared.rs"),
        "the message names the stale file:\n{}",
        text(&o)
    );
}

#[test]
fn check_reports_errors_like_rustc_and_fails() {
    let dir = tempdir("check");
    std::fs::write(
        dir.join("idl/bad.thrift"),
        "struct A {\n  1: Missing m\n  1: i32 dup\n}\n",
    )
    .unwrap();
    let o = mosaic(&["check", "idl/bad.thrift"], &dir);
    assert!(!o.status.success(), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("error[M"), "a coded diagnostic:\n{err}");
    assert!(
        err.contains("idl/bad.thrift:2:"),
        "file:line:col of the unknown type:\n{err}"
    );
    assert!(err.contains("Missing"), "names the unknown type:\n{err}");
    assert!(
        err.contains("aborting due to 2 errors"),
        "both problems reported:\n{err}"
    );
}
