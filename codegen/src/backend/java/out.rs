//! Indented Java text: four spaces per level, `\n` line ends, no trailing whitespace.

/// A growing Java source file.
#[derive(Default)]
pub(crate) struct Out {
    buf: String,
    indent: usize,
}

impl Out {
    /// One line at the current indentation.
    pub(crate) fn line(&mut self, text: &str) {
        if text.is_empty() {
            self.buf.push('\n');
            return;
        }
        for _ in 0..self.indent {
            self.buf.push_str("    ");
        }
        self.buf.push_str(text);
        self.buf.push('\n');
    }

    /// An empty line, unless the previous line is empty or opens a block.
    pub(crate) fn blank(&mut self) {
        if self.buf.is_empty() || self.buf.ends_with("\n\n") || self.buf.ends_with("{\n") {
            return;
        }
        self.buf.push('\n');
    }

    /// `text {` and one level deeper.
    pub(crate) fn open(&mut self, text: &str) {
        if text.is_empty() {
            self.line("{");
        } else {
            self.line(&format!("{text} {{"));
        }
        self.indent += 1;
    }

    /// One level up, then `}` followed by `tail` (`""`, `;`, ` else {`...).
    pub(crate) fn close_with(&mut self, tail: &str) {
        self.indent = self.indent.saturating_sub(1);
        self.line(&format!("}}{tail}"));
    }

    pub(crate) fn close(&mut self) {
        self.close_with("");
    }

    /// `} else {`-style lines: one level up, the text, one level down again.
    pub(crate) fn reopen(&mut self, text: &str) {
        self.indent = self.indent.saturating_sub(1);
        self.line(&format!("}} {text} {{"));
        self.indent += 1;
    }

    pub(crate) fn indent(&mut self) {
        self.indent += 1;
    }

    pub(crate) fn dedent(&mut self) {
        self.indent = self.indent.saturating_sub(1);
    }

    /// The text, ending in exactly one newline.
    pub(crate) fn finish(mut self) -> String {
        while self.buf.ends_with("\n\n") {
            self.buf.pop();
        }
        self.buf
    }
}
