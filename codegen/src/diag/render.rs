//! rustc-style plain-text rendering of a [`Diagnostic`].
//!
//! ```text
//! error[M0201]: unknown type `Foo`
//!  --> idl/a.thrift:3:6
//!   |
//! 3 |   1: Foo x
//!   |      ^^^ not found in `a.thrift`
//!   |
//!   = help: define `Foo`, or include the file that defines it
//! ```

use std::fmt::Write;

use super::{Diagnostic, Label, Level, SourceFile, SourceMap};
use crate::span::FileId;

/// Tabs are shown as this many spaces so that carets line up.
const TAB: &str = "    ";

pub(super) fn render(d: &Diagnostic, sources: &SourceMap) -> String {
    let mut out = String::new();
    let level = match d.level {
        Level::Error => "error",
        Level::Warning => "warning",
    };
    let _ = writeln!(out, "{level}[{}]: {}", d.code, d.message);

    // Labels grouped by file, the primary's file first, then files in id order.
    let mut labels: Vec<(&Label, bool)> = Vec::new();
    if let Some(p) = &d.primary {
        labels.push((p, true));
    }
    labels.extend(d.secondary.iter().map(|l| (l, false)));
    let mut files: Vec<FileId> = Vec::new();
    for (l, _) in &labels {
        if !files.contains(&l.span.file) && sources.get(l.span.file).is_some() {
            files.push(l.span.file);
        }
    }
    let width = gutter_width(&labels, sources);
    let pad = " ".repeat(width);

    for (i, &file_id) in files.iter().enumerate() {
        let Some(file) = sources.get(file_id) else {
            continue;
        };
        let mut here: Vec<(&Label, bool)> = labels
            .iter()
            .copied()
            .filter(|(l, _)| l.span.file == file_id)
            .collect();
        here.sort_by_key(|(l, primary)| (l.span.start, !primary));
        let (first, _) = here[0];
        let anchor = d
            .primary
            .as_ref()
            .filter(|p| p.span.file == file_id)
            .unwrap_or(first);
        let lc = file.line_col(anchor.span.start);
        let arrow = if i == 0 && d.primary.is_some() {
            "-->"
        } else {
            ":::"
        };
        let _ = writeln!(
            out,
            "{pad}{arrow} {}:{}:{}",
            file.path.display(),
            lc.line,
            lc.col
        );
        let _ = writeln!(out, "{pad} |");
        render_lines(&mut out, file, &here, width);
    }

    if !d.notes.is_empty() || d.help.is_some() {
        if !files.is_empty() {
            let _ = writeln!(out, "{pad} |");
        }
        for n in &d.notes {
            let _ = writeln!(out, "{pad} = note: {}", indent_continuation(n, width));
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "{pad} = help: {}", indent_continuation(h, width));
        }
    }
    out
}

fn gutter_width(labels: &[(&Label, bool)], sources: &SourceMap) -> usize {
    labels
        .iter()
        .filter_map(|(l, _)| {
            let f = sources.get(l.span.file)?;
            Some(f.line_col(l.span.start).line.to_string().len())
        })
        .max()
        .unwrap_or(1)
}

/// Notes and help may span several lines; continuation lines line up under the text.
fn indent_continuation(text: &str, width: usize) -> String {
    text.replace('\n', &format!("\n{} |         ", " ".repeat(width)))
}

fn render_lines(out: &mut String, file: &SourceFile, labels: &[(&Label, bool)], width: usize) {
    let mut last_line: Option<usize> = None;
    let mut i = 0;
    while i < labels.len() {
        let line = file.line_col(labels[i].0.span.start).line;
        if let Some(prev) = last_line {
            if line > prev + 1 {
                let _ = writeln!(out, "...");
            }
        }
        let text = file.line_text(line - 1);
        let shown = text.replace('\t', TAB);
        let _ = writeln!(out, "{line:>width$} | {shown}");
        // Every label starting on this line gets its own underline row.
        while i < labels.len() && file.line_col(labels[i].0.span.start).line == line {
            let (label, primary) = labels[i];
            let (col, len) = underline(file, text, line, label);
            let mark = if primary { "^" } else { "-" };
            let mut row = format!(
                "{} | {}{}",
                " ".repeat(width),
                " ".repeat(col),
                mark.repeat(len)
            );
            if !label.message.is_empty() {
                row.push(' ');
                row.push_str(&label.message);
            }
            let _ = writeln!(out, "{}", row.trim_end());
            i += 1;
        }
        last_line = Some(line);
    }
}

/// The display column (0-based, tabs expanded) and width of a label's underline on its first
/// line; a span running onto later lines is underlined to the end of its first line.
fn underline(file: &SourceFile, text: &str, line: usize, label: &Label) -> (usize, usize) {
    let start = file.line_col(label.span.start);
    let end = file.line_col(label.span.end.max(label.span.start));
    let display = |chars: usize| -> usize {
        text.chars()
            .take(chars)
            .map(|c| if c == '\t' { TAB.len() } else { 1 })
            .sum()
    };
    let col = display(start.col - 1);
    let end_col = if end.line == line {
        display(end.col - 1)
    } else {
        display(text.chars().count())
    };
    (col, end_col.saturating_sub(col).max(1))
}

#[cfg(test)]
mod tests {
    use crate::diag::{Diagnostic, SourceMap};
    use crate::span::Span;

    #[test]
    fn renders_like_rustc() {
        let mut sm = SourceMap::new();
        let f = sm.add(
            "a.thrift".into(),
            "struct A {\n\t1: Foo x\n  2: i32 x\n}\n".into(),
        );
        let d = Diagnostic::error("M9999", "unknown type `Foo`")
            .with_primary(Span::new(f, 15, 18), "not found")
            .with_secondary(Span::new(f, 30, 31), "later")
            .with_note("a note")
            .with_help("define it");
        let expected = "\
error[M9999]: unknown type `Foo`
 --> a.thrift:2:5
  |
2 |     1: Foo x
  |        ^^^ not found
3 |   2: i32 x
  |          - later
  |
  = note: a note
  = help: define it
";
        assert_eq!(d.render(&sm), expected, "tab expanded, both labels shown");
    }

    #[test]
    fn renders_without_location() {
        let sm = SourceMap::new();
        let d = Diagnostic::error("M0001", "cannot read `x.thrift`").with_note("not found");
        assert_eq!(
            d.render(&sm),
            "error[M0001]: cannot read `x.thrift`\n  = note: not found\n",
            "no snippet without a span"
        );
    }
}
