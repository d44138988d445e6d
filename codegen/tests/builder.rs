//! `Builder`, as a build script uses it: files on disk in, Rust files out.

use std::path::{Path, PathBuf};

use mosaic_codegen::{Builder, CompileError};

/// A fresh directory for one test, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "mosaic-codegen-builder-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the temp dir is writable");
        TempDir(dir)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("dirs are writable");
        }
        std::fs::write(&path, text).expect("files are writable");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("the file exists")
}

#[test]
fn compile_writes_one_module_per_file_and_an_index() {
    let tmp = TempDir::new("writes");
    tmp.write("idl/inc/base.thrift", "struct Base { 1: i32 x }\n");
    let root = tmp.write(
        "idl/app.thrift",
        "include \"base.thrift\"\nstruct App { 1: base.Base base }\n",
    );
    let out = tmp.0.join("out");
    Builder::new()
        .out_dir(&out)
        .include_dir(tmp.0.join("idl/inc"))
        .emit_rerun_if_changed(false)
        .compile(&[&root])
        .expect("the IDL compiles");
    let app = std::fs::read_to_string(out.join("app.rs")).expect("app.rs is written");
    assert!(
        app.contains("pub base: ::std::option::Option<super::base::Base>"),
        "includes are sibling modules:\n{app}"
    );
    assert!(
        out.join("base.rs").is_file(),
        "included files are generated too"
    );
    let index = std::fs::read_to_string(out.join("mosaic.rs")).expect("the index is written");
    assert!(index.contains("include!(\"app.rs\")"), "{index}");

    let before = modified(&out.join("app.rs"));
    std::thread::sleep(std::time::Duration::from_millis(20));
    Builder::new()
        .out_dir(&out)
        .include_dir(tmp.0.join("idl/inc"))
        .emit_rerun_if_changed(false)
        .compile(&[&root])
        .expect("the IDL compiles again");
    assert_eq!(
        modified(&out.join("app.rs")),
        before,
        "unchanged files are not rewritten, so cargo does not rebuild"
    );
}

#[test]
fn options_shape_the_output() {
    let tmp = TempDir::new("options");
    let root = tmp.write("svc.thrift", "service Svc { void ping() }\n");
    let files = Builder::new()
        .client(false)
        .index_file(None)
        .generate(&[&root])
        .expect("the IDL compiles");
    assert_eq!(files.len(), 1, "no index file: {files:?}");
    let svc = &files[0].contents;
    assert!(
        svc.contains("pub trait Svc"),
        "the server side is generated"
    );
    assert!(!svc.contains("SvcClient"), "the client is not");

    let files = Builder::new()
        .server(false)
        .generate(&[&root])
        .expect("the IDL compiles");
    let svc = &files[0].contents;
    assert!(
        svc.contains("pub struct SvcClient"),
        "the client is generated"
    );
    assert!(!svc.contains("pub trait Svc"), "the server side is not");
}

#[test]
fn idl_errors_are_rendered_like_rustc() {
    let tmp = TempDir::new("errors");
    let root = tmp.write("bad.thrift", "struct Bad { 1: Missing m }\n");
    let err = Builder::new()
        .out_dir(tmp.0.join("out"))
        .emit_rerun_if_changed(false)
        .compile(&[&root])
        .expect_err("an unknown type is an error");
    match &err {
        CompileError::Idl { rendered } => {
            assert!(
                rendered.contains("error["),
                "a coded diagnostic: {rendered}"
            );
            assert!(
                rendered.contains("bad.thrift:1:"),
                "with its location: {rendered}"
            );
        }
        other => panic!("an IDL error, not {other:?}"),
    }
    assert!(!tmp.0.join("out").exists(), "nothing is written on error");
}

#[test]
fn a_missing_out_dir_is_an_error_outside_cargo_build_scripts() {
    if std::env::var_os("OUT_DIR").is_some() {
        return;
    }
    let tmp = TempDir::new("no-out");
    let root = tmp.write("a.thrift", "struct A {}\n");
    let err = Builder::new()
        .emit_rerun_if_changed(false)
        .compile(&[&root])
        .expect_err("there is nowhere to write");
    assert!(matches!(err, CompileError::NoOutDir), "{err:?}");
}
