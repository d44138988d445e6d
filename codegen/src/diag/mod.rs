//! Diagnostics: problems found in IDL files, as plain data, and their rendering.
//!
//! - [`Diagnostic`]: a level, a stable code ([`codes`]), a message that stands alone, a primary
//!   label on the smallest span that shows the problem, secondary labels, notes and one help line.
//! - [`SourceMap`]: the loaded files; it maps a [`Span`] to a path, line and column.
//! - [`Diagnostic::render`]: rustc-style plain text (`--> file:line:col`, the source line, a caret
//!   underline), colour off, so that output can be compared byte for byte in tests.
//!
//! The front end collects diagnostics instead of stopping at the first one.

pub mod codes;
mod render;
mod source_map;

pub use source_map::{LineCol, SourceFile, SourceMap};

use crate::span::Span;

/// How bad a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Error,
    Warning,
}

/// A span with a short explanation shown under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    /// May be empty: the caret alone says enough.
    pub message: String,
}

/// One problem found in the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub level: Level,
    /// A stable code per kind of problem (`M0001`), listed in [`codes`].
    pub code: &'static str,
    /// Lowercase, no trailing period, meaningful without the snippet.
    pub message: String,
    /// Where the problem is; `None` for problems that belong to no file (a missing root file).
    pub primary: Option<Label>,
    /// Related places (the first definition of a duplicate name, ...).
    pub secondary: Vec<Label>,
    pub notes: Vec<String>,
    /// The only place that suggests a fix.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with a code and a message, and no location yet.
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Level::Error, code, message)
    }

    /// A warning with a code and a message, and no location yet.
    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Level::Warning, code, message)
    }

    fn new(level: Level, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            level,
            code,
            message: message.into(),
            primary: None,
            secondary: Vec::new(),
            notes: Vec::new(),
            help: None,
        }
    }

    /// Sets the primary label.
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a secondary label.
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Adds a note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.level == Level::Error
    }

    /// Renders this diagnostic as rustc-style plain text, ending with a newline.
    pub fn render(&self, sources: &SourceMap) -> String {
        render::render(self, sources)
    }

    /// The key diagnostics are sorted by: file, then position, then errors before warnings.
    pub(crate) fn sort_key(&self) -> (u32, u32, Level) {
        match &self.primary {
            Some(l) => (l.span.file.0, l.span.start, self.level),
            None => (0, 0, self.level),
        }
    }
}

/// Renders every diagnostic, separated by blank lines, followed by a summary line such as
/// `error: could not compile due to 2 errors; 1 warning emitted` when there are errors.
pub fn render_all(diagnostics: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&d.render(sources));
        out.push('\n');
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    if errors > 0 {
        out.push_str(&format!(
            "error: aborting due to {}",
            plural(errors, "error")
        ));
        if warnings > 0 {
            out.push_str(&format!("; {} emitted", plural(warnings, "warning")));
        }
        out.push('\n');
    } else if warnings > 0 {
        out.push_str(&format!(
            "warning: {} emitted\n",
            plural(warnings, "warning")
        ));
    }
    out
}
