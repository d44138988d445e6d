//! The loaded source files, and the mapping from byte offsets to lines and columns.

use std::path::{Path, PathBuf};

use crate::span::{FileId, Span};

/// One loaded file.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    /// Byte offset of the start of each line.
    line_starts: Vec<u32>,
}

/// A 1-based line and a 1-based column counted in characters, as editors show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineCol {
    pub line: usize,
    pub col: usize,
}

impl SourceFile {
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(
            text.bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        SourceFile {
            path,
            text,
            line_starts,
        }
    }

    /// The 0-based line index containing `offset` (clamped to the text).
    fn line_index(&self, offset: u32) -> usize {
        match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        }
    }

    /// The line and column of a byte offset; offsets past the end map to the end.
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = self.floor_char_boundary(offset);
        let line = self.line_index(offset);
        let start = self.line_starts[line] as usize;
        let col = self.text[start..offset as usize].chars().count() + 1;
        LineCol {
            line: line + 1,
            col,
        }
    }

    /// The text of a 0-based line, without its line ending.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let end = self
            .line_starts
            .get(line + 1)
            .map(|&e| e as usize - 1)
            .unwrap_or(self.text.len());
        self.text[start..end].trim_end_matches('\r')
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    fn floor_char_boundary(&self, offset: u32) -> u32 {
        let mut o = (offset as usize).min(self.text.len());
        while !self.text.is_char_boundary(o) {
            o -= 1;
        }
        o as u32
    }
}

/// Every file loaded in one compilation, indexed by [`FileId`].
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a file and returns its id; ids are given out in order from 0.
    pub fn add(&mut self, path: PathBuf, text: String) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId((self.files.len() - 1) as u32)
    }

    /// The id the next [`SourceMap::add`] will return.
    pub fn next_id(&self) -> FileId {
        FileId(self.files.len() as u32)
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.index())
    }

    pub fn path(&self, id: FileId) -> Option<&Path> {
        self.get(id).map(|f| f.path.as_path())
    }

    /// The source text a span covers, or `""` when it is out of range.
    pub fn snippet(&self, span: Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.start as usize..span.end as usize))
            .unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| (FileId(i as u32), f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        let f = SourceFile::new("a.thrift".into(), "ab\nçd\n".into());
        assert_eq!(f.line_col(0), LineCol { line: 1, col: 1 }, "start of file");
        assert_eq!(
            f.line_col(3),
            LineCol { line: 2, col: 1 },
            "start of line 2"
        );
        assert_eq!(
            f.line_col(5),
            LineCol { line: 2, col: 2 },
            "after a 2-byte char"
        );
        assert_eq!(
            f.line_col(100),
            LineCol { line: 3, col: 1 },
            "past the end clamps"
        );
        assert_eq!(f.line_text(1), "çd", "line text has no newline");
    }
}
