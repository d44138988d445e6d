//! Resolution: from root files to one checked [`ir::Program`].
//!
//! - `files`: loads the roots and follows `include`s (beside the including file first, then
//!   the include dirs), reporting missing files and include cycles.
//! - `scope`: each file's names: its own definitions unqualified, an included file's as
//!   `stem.Name`, enum values as `Enum.VALUE`.
//! - `lower`: declares every definition, resolves type references to ids, assigns implicit
//!   field ids and enum values, and checks names and ids.
//! - `consts`: checks constant values and field defaults against their types and converts
//!   them.
//! - `checks`: whole-program checks: typedef, `extends` and required-field cycles, namespace
//!   scopes.
//! - [`loader`]: where the bytes come from ([`FsLoader`], [`MemoryLoader`], or your own
//!   [`SourceLoader`]).
//!
//! The entry points are [`load`] (files on disk) and [`load_with`] (any loader).

mod checks;
mod consts;
mod files;
pub mod loader;
mod lower;
mod scope;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

pub use loader::{FsLoader, MemoryLoader, SourceLoader};

use crate::diag::{render_all, Diagnostic, SourceMap};
use crate::ir;

/// Options for [`load`].
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Directories searched for `include`d files after the including file's own directory,
    /// in order (Apache's `-I`).
    pub include_dirs: Vec<PathBuf>,
}

/// A program that resolved without errors.
#[derive(Debug)]
pub struct Loaded {
    pub program: ir::Program,
    /// The files read, for rendering `warnings` (and for the back ends' `rerun-if-changed`).
    pub sources: SourceMap,
    /// Warnings, sorted by file and position.
    pub warnings: Vec<Diagnostic>,
}

impl Loaded {
    /// The warnings rendered like rustc's, or `""` when there are none.
    pub fn render_warnings(&self) -> String {
        if self.warnings.is_empty() {
            return String::new();
        }
        render_all(&self.warnings, &self.sources)
    }
}

/// A program with at least one error.
#[derive(Debug)]
pub struct Failed {
    pub sources: SourceMap,
    /// Errors and warnings, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Failed {
    /// Every diagnostic rendered like rustc's, with a closing summary line.
    pub fn render(&self) -> String {
        render_all(&self.diagnostics, &self.sources)
    }

    /// The errors only.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.is_error())
    }
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Failed {}

/// Loads the root files from disk with everything they include, and resolves them.
///
/// # Errors
///
/// [`Failed`] with every diagnostic when any file has an error; warnings alone do not fail.
pub fn load(roots: &[impl AsRef<Path>], options: &LoadOptions) -> Result<Loaded, Failed> {
    load_with(&FsLoader, roots, options)
}

/// [`load`] with files from any [`SourceLoader`], such as a [`MemoryLoader`].
///
/// # Errors
///
/// [`Failed`] with every diagnostic when any file has an error.
pub fn load_with(
    loader: &dyn SourceLoader,
    roots: &[impl AsRef<Path>],
    options: &LoadOptions,
) -> Result<Loaded, Failed> {
    let roots: Vec<PathBuf> = roots.iter().map(|r| r.as_ref().to_path_buf()).collect();
    let loaded = files::load_all(loader, &roots, options);
    let (program, sources, mut diags) = lower::resolve(loaded);
    diags.sort_by_key(|d| d.sort_key());
    dedup(&mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        Err(Failed {
            sources,
            diagnostics: diags,
        })
    } else {
        Ok(Loaded {
            program,
            sources,
            warnings: diags,
        })
    }
}

/// Drops exact repeats (one problem, one diagnostic).
fn dedup(diags: &mut Vec<Diagnostic>) {
    let mut seen: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    diags.retain(|d| {
        if seen.contains(d) {
            false
        } else {
            seen.push(d.clone());
            true
        }
    });
}
