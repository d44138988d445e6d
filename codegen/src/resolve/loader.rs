//! Where source files come from: the file system, or a map of path to text (tests, fuzzing,
//! editors with unsaved buffers).

use std::collections::BTreeMap;
use std::io;
use std::path::{Component, Path, PathBuf};

/// A source of `.thrift` files.
pub trait SourceLoader {
    /// The identity of the file at `path` (two paths naming one file give one identity), or
    /// `None` when there is no such file.
    fn identify(&self, path: &Path) -> Option<PathBuf>;

    /// The bytes of the file at `path`.
    ///
    /// # Errors
    ///
    /// When the file cannot be read.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
}

/// Reads files from disk; identities are canonical paths.
#[derive(Clone, Copy, Debug, Default)]
pub struct FsLoader;

impl SourceLoader for FsLoader {
    fn identify(&self, path: &Path) -> Option<PathBuf> {
        std::fs::canonicalize(path).ok().filter(|p| p.is_file())
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        std::fs::read(path)
    }
}

/// Files held in memory, keyed by path; `a/../b.thrift` and `./b.thrift` name `b.thrift`.
#[derive(Clone, Debug, Default)]
pub struct MemoryLoader {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl MemoryLoader {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn add(&mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) -> &mut Self {
        self.files.insert(normalize(path.as_ref()), contents.into());
        self
    }

    /// Builder-style [`MemoryLoader::add`].
    pub fn with(mut self, path: impl AsRef<Path>, contents: impl Into<Vec<u8>>) -> Self {
        self.add(path, contents);
        self
    }
}

impl SourceLoader for MemoryLoader {
    fn identify(&self, path: &Path) -> Option<PathBuf> {
        let key = normalize(path);
        self.files.contains_key(&key).then_some(key)
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        self.files
            .get(&normalize(path))
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

/// Removes `.` components and folds `dir/..` without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out: Vec<Component> = Vec::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.last() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(c),
            },
            _ => out.push(c),
        }
    }
    out.iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_paths_are_normalized() {
        let l = MemoryLoader::new().with("dir/a.thrift", "x");
        assert!(
            l.identify(Path::new("./dir/../dir/a.thrift")).is_some(),
            "dots fold"
        );
        assert!(
            l.identify(Path::new("a.thrift")).is_none(),
            "other dirs miss"
        );
    }
}
