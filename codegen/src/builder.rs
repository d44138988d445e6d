//! Compiling IDL from `build.rs`: [`compile`] for the common case, [`Builder`] for options.
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     mosaic_codegen::Builder::new()
//!         .include_dir("idl")
//!         .client(false)
//!         .compile(&["idl/image.thrift"])?;
//!     Ok(())
//! }
//! ```
//!
//! The generated modules land in `OUT_DIR`, with an index file `mosaic.rs` that declares one
//! module per IDL file (see [`crate::backend::rust`]); the crate includes it:
//!
//! ```ignore
//! mod idl {
//!     include!(concat!(env!("OUT_DIR"), "/mosaic.rs"));
//! }
//! ```
//!
//! Every IDL file read (includes too) is announced to cargo with `cargo:rerun-if-changed`, so
//! editing any of them rebuilds the crate. Diagnostics are printed to stderr like rustc's, and
//! cargo shows them when the build script fails.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::backend::rust::{self, RustOptions};
use crate::backend::GeneratedFile;
use crate::resolve::{self, LoadOptions};

/// Compiles `roots` (and everything they include) to Rust in `OUT_DIR` with the default
/// options: server and client code, an index file `mosaic.rs`.
///
/// # Errors
///
/// See [`Builder::compile`].
pub fn compile(roots: &[impl AsRef<Path>]) -> Result<(), CompileError> {
    Builder::new().compile(roots)
}

/// Options for compiling IDL to Rust, in the style of `prost-build`'s `Config`.
///
/// Every option has a default that suits a `build.rs`:
/// - output directory: `OUT_DIR`;
/// - include directories: none (an include is looked up beside the including file first);
/// - server and client code: both;
/// - index file: `mosaic.rs`;
/// - `cargo:rerun-if-changed` lines: printed;
/// - `cargo:warning` lines for IDL warnings: printed.
#[derive(Clone, Debug)]
pub struct Builder {
    out_dir: Option<PathBuf>,
    include_dirs: Vec<PathBuf>,
    rust: RustOptions,
    emit_rerun_if_changed: bool,
    cargo_warnings: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            out_dir: None,
            include_dirs: Vec::new(),
            rust: RustOptions::default(),
            emit_rerun_if_changed: true,
            cargo_warnings: true,
        }
    }
}

impl Builder {
    /// A builder with every default.
    pub fn new() -> Self {
        Self::default()
    }

    /// Where [`Builder::compile`] writes. Default: the `OUT_DIR` cargo gives build scripts.
    pub fn out_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out_dir = Some(dir.into());
        self
    }

    /// Adds a directory to search for included files, after the including file's own
    /// directory (Apache's `-I`). Directories are searched in the order added.
    pub fn include_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.include_dirs.push(dir.into());
        self
    }

    /// Whether to generate handler traits and dispatchers. Default: `true`.
    pub fn server(mut self, enable: bool) -> Self {
        self.rust.server = enable;
        self
    }

    /// Whether to generate typed clients. Default: `true`.
    pub fn client(mut self, enable: bool) -> Self {
        self.rust.client = enable;
        self
    }

    /// The name of the index file that declares one module per IDL file, or `None` to write
    /// none (include each `<module>.rs` yourself, as sibling modules). Default: `mosaic.rs`.
    pub fn index_file(mut self, name: Option<&str>) -> Self {
        self.rust.index_file = name.map(str::to_string);
        self
    }

    /// Whether [`Builder::compile`] prints `cargo:rerun-if-changed=` for every IDL file read,
    /// so that editing one rebuilds the crate. Default: `true`.
    pub fn emit_rerun_if_changed(mut self, enable: bool) -> Self {
        self.emit_rerun_if_changed = enable;
        self
    }

    /// Whether [`Builder::compile`] prints a `cargo:warning=` line for each IDL warning, which
    /// cargo shows when it builds the crate. Default: `true`. (Warnings always go to stderr in
    /// full, which cargo shows only when the build script fails.)
    pub fn cargo_warnings(mut self, enable: bool) -> Self {
        self.cargo_warnings = enable;
        self
    }

    /// Compiles `roots` and writes the Rust files. Files whose contents did not change are
    /// not rewritten. Diagnostics are printed to stderr in full.
    ///
    /// # Errors
    ///
    /// [`CompileError::Idl`] when the IDL has errors (they are also printed to stderr),
    /// [`CompileError::NoOutDir`] without an output directory, [`CompileError::Write`] when a
    /// file cannot be written.
    pub fn compile(&self, roots: &[impl AsRef<Path>]) -> Result<(), CompileError> {
        let out_dir = match &self.out_dir {
            Some(dir) => dir.clone(),
            None => std::env::var_os("OUT_DIR")
                .map(PathBuf::from)
                .ok_or(CompileError::NoOutDir)?,
        };
        let run = self.run(roots);
        if self.emit_rerun_if_changed {
            for path in &run.read {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        if self.cargo_warnings {
            for headline in &run.warning_headlines {
                println!("cargo:warning={headline}");
            }
        }
        let files = match run.result {
            Ok(files) => {
                eprint!("{}", run.warnings);
                files
            }
            Err(e) => {
                eprint!("{e}");
                return Err(e);
            }
        };
        for file in &files {
            file.write_to(&out_dir)
                .map_err(|source| CompileError::Write {
                    path: out_dir.join(&file.path),
                    source,
                })?;
        }
        Ok(())
    }

    /// Compiles `roots` to files in memory (paths relative to the output directory), without
    /// printing anything: for tools that compare or write the files themselves.
    ///
    /// # Errors
    ///
    /// [`CompileError::Idl`] when the IDL has errors.
    pub fn generate(&self, roots: &[impl AsRef<Path>]) -> Result<Vec<GeneratedFile>, CompileError> {
        self.run(roots).result
    }

    fn run(&self, roots: &[impl AsRef<Path>]) -> Run {
        let options = LoadOptions {
            include_dirs: self.include_dirs.clone(),
        };
        match resolve::load(roots, &options) {
            Ok(loaded) => Run {
                read: loaded.sources.iter().map(|(_, f)| f.path.clone()).collect(),
                warnings: loaded.render_warnings(),
                warning_headlines: loaded
                    .warnings
                    .iter()
                    .map(|d| headline(&d.render(&loaded.sources)))
                    .collect(),
                result: Ok(rust::generate(&loaded.program, &self.rust)),
            },
            Err(failed) => {
                let mut read: Vec<PathBuf> =
                    failed.sources.iter().map(|(_, f)| f.path.clone()).collect();
                // Roots that could not be read are not in the source map; cargo should still
                // watch for them to appear.
                for root in roots {
                    let root = root.as_ref().to_path_buf();
                    if !read.contains(&root) {
                        read.push(root);
                    }
                }
                Run {
                    read,
                    warnings: String::new(),
                    warning_headlines: Vec::new(),
                    result: Err(CompileError::Idl {
                        rendered: failed.render(),
                    }),
                }
            }
        }
    }
}

/// What one compilation read and produced.
struct Run {
    /// Every IDL file read (or that should have been).
    read: Vec<PathBuf>,
    /// Warnings rendered in full.
    warnings: String,
    /// One line per warning, for `cargo:warning=`.
    warning_headlines: Vec<String>,
    result: Result<Vec<GeneratedFile>, CompileError>,
}

/// A rendered diagnostic in one line: its message and location
/// (`warning[M0900]: field `a` has no id; using -1 (x.thrift:3:10)`).
fn headline(rendered: &str) -> String {
    let mut lines = rendered.lines();
    let first = lines.next().unwrap_or_default().trim();
    match lines.find_map(|l| l.trim_start().strip_prefix("--> ")) {
        Some(at) => format!("{first} ({})", at.trim()),
        None => first.to_string(),
    }
}

/// Why [`Builder::compile`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum CompileError {
    /// The IDL has errors; `rendered` shows them like rustc does.
    Idl { rendered: String },
    /// No output directory was set and `OUT_DIR` is not set (not running under cargo).
    NoOutDir,
    /// A generated file could not be written.
    Write { path: PathBuf, source: io::Error },
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompileError::Idl { rendered } => f.write_str(rendered),
            CompileError::NoOutDir => f.write_str(
                "no output directory: set one with `Builder::out_dir` or run from a build script",
            ),
            CompileError::Write { path, .. } => write!(f, "cannot write `{}`", path.display()),
        }
    }
}

impl std::error::Error for CompileError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CompileError::Write { source, .. } => Some(source),
            _ => None,
        }
    }
}
