//! Back ends: the typed IR to source files, in memory.
//!
//! Each back end is a function from an [`ir::Program`](crate::ir::Program) and its options to
//! a list of [`GeneratedFile`]s; writing them is a separate step ([`GeneratedFile::write_to`]),
//! so that tests and `--check` can compare without touching the disk.
//!
//! - [`rust`]: modules for async servers and clients on `mosaic-runtime`.
//! - [`java`]: Java 17 classes on Apache's libthrift, with blocking and pipelined clients.
//! - [`python`]: packages for Apache's Python runtime that replace `thrift --gen py` output.

pub mod java;
pub mod python;
pub mod rust;

use std::io;
use std::path::{Path, PathBuf};

use crate::ir::{FileId, Program};

/// The file name of an IDL path, without directories, for generated headers (which carry no
/// absolute paths).
pub(crate) fn source_name(program: &Program, file: FileId) -> String {
    let f = program.file(file);
    f.path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{}.thrift", f.name))
}

/// One generated source file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Where the file goes, relative to the output directory.
    pub path: PathBuf,
    pub contents: String,
}

impl GeneratedFile {
    /// Writes the file under `dir`, creating directories as needed. A file whose contents are
    /// already the same is left alone, so that its modification time (and so cargo's rebuild
    /// decisions) does not change.
    ///
    /// # Errors
    ///
    /// When a directory cannot be created or the file cannot be written.
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        let path = dir.join(&self.path);
        if std::fs::read(&path).is_ok_and(|old| old == self.contents.as_bytes()) {
            return Ok(());
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &self.contents)
    }
}
