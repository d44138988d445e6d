//! Printing Python as `ruff format` would: lines, expressions that wrap, literals, docstrings.
//!
//! The generator emits text that `ruff format` leaves alone, so that it needs no Python to
//! run. An [`Expr`] is printed on one line when it fits in 88 columns; otherwise a call's
//! arguments go on one indented line inside its parentheses when they fit there, and in every
//! other case items go one per line with a trailing ("magic") comma, which ruff keeps.

use std::fmt::Write as _;

/// The line width `ruff format` uses by default.
const WIDTH: usize = 88;

/// Lines of Python at an indentation level (four spaces per level).
#[derive(Default)]
pub(crate) struct Out {
    text: String,
}

impl Out {
    /// One line at `level` (an empty `line` gives an empty line, without indentation).
    pub(crate) fn line(&mut self, level: usize, line: &str) {
        if !line.is_empty() {
            for _ in 0..level {
                self.text.push_str("    ");
            }
            self.text.push_str(line);
        }
        self.text.push('\n');
    }

    pub(crate) fn blank(&mut self) {
        self.text.push('\n');
    }

    /// `prefix`, the expression, `suffix`: wrapped inside the expression's brackets when the
    /// whole does not fit.
    pub(crate) fn expr(&mut self, level: usize, prefix: &str, expr: &Expr, suffix: &str) {
        expr.print(self, level, prefix, suffix);
    }

    /// A docstring (nothing for a blank `doc`).
    pub(crate) fn docstring(&mut self, level: usize, doc: &str) {
        let lines = doc_lines(doc);
        let Some((first, rest)) = lines.split_first() else {
            return;
        };
        if rest.is_empty() {
            self.line(level, &format!("\"\"\"{}\"\"\"", escape_doc(first, true)));
            return;
        }
        self.line(level, &format!("\"\"\"{}", escape_doc(first, false)));
        for line in rest {
            self.line(level, &escape_doc(line, false));
        }
        self.line(level, "\"\"\"");
    }

    pub(crate) fn finish(self) -> String {
        self.text
    }
}

/// An expression that may be wrapped inside its brackets.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    /// Text that is never split.
    Atom(String),
    /// `open` items `close`, such as `f(` a, b `)` or `(` a, b `)`; `one_tuple` marks a
    /// one-element tuple, whose comma is not a magic one.
    Seq {
        open: String,
        items: Vec<Expr>,
        close: String,
        one_tuple: bool,
    },
    /// Text before an expression: `key: value`, `name=value`.
    Prefixed(String, Box<Expr>),
}

impl Expr {
    pub(crate) fn atom(text: impl Into<String>) -> Expr {
        Expr::Atom(text.into())
    }

    /// `callee(items)`.
    pub(crate) fn call(callee: &str, items: Vec<Expr>) -> Expr {
        Expr::Seq {
            open: format!("{callee}("),
            items,
            close: ")".into(),
            one_tuple: false,
        }
    }

    /// A tuple display; one element gets its comma.
    pub(crate) fn tuple(items: Vec<Expr>) -> Expr {
        let one_tuple = items.len() == 1;
        Expr::Seq {
            open: "(".into(),
            items,
            close: ")".into(),
            one_tuple,
        }
    }

    pub(crate) fn brackets(open: &str, items: Vec<Expr>, close: &str) -> Expr {
        Expr::Seq {
            open: open.into(),
            items,
            close: close.into(),
            one_tuple: false,
        }
    }

    pub(crate) fn prefixed(prefix: impl Into<String>, expr: Expr) -> Expr {
        Expr::Prefixed(prefix.into(), Box::new(expr))
    }

    /// The expression on one line.
    pub(crate) fn flat(&self) -> String {
        match self {
            Expr::Atom(text) => text.clone(),
            Expr::Prefixed(prefix, expr) => format!("{prefix}{}", expr.flat()),
            Expr::Seq {
                open,
                items,
                close,
                one_tuple,
            } => {
                let mut s = open.clone();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        s.push_str(", ");
                    }
                    s.push_str(&item.flat());
                }
                if *one_tuple {
                    s.push(',');
                }
                s.push_str(close);
                s
            }
        }
    }

    fn print(&self, out: &mut Out, level: usize, prefix: &str, suffix: &str) {
        let flat = format!("{prefix}{}{suffix}", self.flat());
        if level * 4 + flat.chars().count() <= WIDTH {
            out.line(level, &flat);
            return;
        }
        match self {
            // ruff puts a right-hand side that is too long in parentheses when it then fits.
            Expr::Atom(text)
                if prefix.ends_with("= ") && (level + 1) * 4 + text.chars().count() <= WIDTH =>
            {
                out.line(level, &format!("{prefix}("));
                out.line(level + 1, text);
                out.line(level, &format!("){suffix}"));
            }
            Expr::Atom(_) => out.line(level, &flat),
            Expr::Prefixed(more, expr) => {
                expr.print(out, level, &format!("{prefix}{more}"), suffix)
            }
            Expr::Seq {
                open, items, close, ..
            } => {
                if items.is_empty() {
                    out.line(level, &flat);
                    return;
                }
                out.line(level, &format!("{prefix}{open}"));
                // Like ruff: a call's arguments on one indented line when they fit there.
                let is_call = open.len() > 1 && open.ends_with('(');
                let body = items.iter().map(Expr::flat).collect::<Vec<_>>().join(", ");
                if is_call && (level + 1) * 4 + body.chars().count() <= WIDTH {
                    out.line(level + 1, &body);
                    out.line(level, &format!("{close}{suffix}"));
                    return;
                }
                for item in items {
                    item.print(out, level + 1, "", ",");
                }
                out.line(level, &format!("{close}{suffix}"));
            }
        }
    }
}

/// The lines of a doc comment: dedented, trailing space trimmed, blank lines at either end
/// dropped, tabs as four spaces.
fn doc_lines(doc: &str) -> Vec<String> {
    let raw: Vec<String> = doc
        .replace('\t', "    ")
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    let indent = raw
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut lines: Vec<String> = raw
        .iter()
        .map(|l| {
            if l.is_empty() {
                String::new()
            } else {
                l[indent..].to_string()
            }
        })
        .collect();
    while lines.first().is_some_and(String::is_empty) {
        lines.remove(0);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// A docstring line made safe: backslashes doubled, `"""` broken, and a quote at the end of
/// a one-line docstring escaped.
fn escape_doc(line: &str, closes: bool) -> String {
    let mut s = line.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    if closes && s.ends_with('"') {
        s.pop();
        s.push_str("\\\"");
    }
    s
}

/// A `str` literal as ruff prints it: double quotes unless single quotes need fewer escapes.
pub(crate) fn string_literal(value: &str) -> String {
    let quote = if value.contains('"') && !value.contains('\'') {
        '\''
    } else {
        '"'
    };
    let mut s = String::new();
    s.push(quote);
    for c in value.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c == quote => {
                s.push('\\');
                s.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(s, "\\x{:02x}", c as u32);
            }
            c => s.push(c),
        }
    }
    s.push(quote);
    s
}

/// A `bytes` literal for the UTF-8 bytes of `value`.
pub(crate) fn bytes_literal(value: &[u8]) -> String {
    let printable = |b: u8| (0x20..0x7f).contains(&b);
    let quote = if value.contains(&b'"') && !value.contains(&b'\'') {
        b'\''
    } else {
        b'"'
    };
    let mut s = String::from("b");
    s.push(quote as char);
    for &b in value {
        match b {
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b if b == quote => {
                s.push('\\');
                s.push(b as char);
            }
            b if printable(b) => s.push(b as char),
            b => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push(quote as char);
    s
}

/// A `float` literal (`float("inf")` and friends for values without one).
pub(crate) fn float_literal(value: f64) -> String {
    if value.is_nan() {
        return "float(\"nan\")".into();
    }
    if value.is_infinite() {
        return if value > 0.0 {
            "float(\"inf\")"
        } else {
            "-float(\"inf\")"
        }
        .into();
    }
    // Rust's `{:?}` is the shortest text that reads back to the same value, like Python's
    // repr; only the exponent spelling differs (`1e-7` is valid Python too).
    let text = format!("{value:?}");
    if text.contains(['.', 'e', 'E']) {
        text
    } else {
        format!("{text}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_expressions_stay_on_one_line() {
        let mut out = Out::default();
        let e = Expr::call("f", vec![Expr::atom("a"), Expr::atom("b")]);
        out.expr(1, "x = ", &e, "");
        assert_eq!(
            out.finish(),
            "    x = f(a, b)\n",
            "a call that fits is flat"
        );
    }

    #[test]
    fn long_expressions_break_with_a_magic_comma() {
        let mut out = Out::default();
        let mut hugged = Out::default();
        let long = "y".repeat(80);
        let e = Expr::call("f", vec![Expr::atom(&long), Expr::atom("z")]);
        hugged.expr(0, "x = ", &e, "");
        let expected = format!("x = f(\n    {long}, z\n)\n");
        assert_eq!(
            hugged.finish(),
            expected,
            "arguments that fit share one indented line"
        );
        let e = Expr::call("f", vec![Expr::atom(&long), Expr::atom(&long)]);
        out.expr(0, "x = ", &e, "");
        let expected = format!("x = f(\n    {long},\n    {long},\n)\n");
        assert_eq!(
            out.finish(),
            expected,
            "each item on its own line with a comma"
        );
    }

    #[test]
    fn literals_are_valid_python() {
        assert_eq!(
            string_literal("a\"b"),
            "'a\"b'",
            "single quotes avoid an escape"
        );
        assert_eq!(
            string_literal("a'\"b"),
            "\"a'\\\"b\"",
            "both quotes: double, escaped"
        );
        assert_eq!(
            string_literal("\u{1}"),
            "\"\\x01\"",
            "control characters are escaped"
        );
        assert_eq!(
            bytes_literal(b"\xff\\"),
            "b\"\\xff\\\\\"",
            "bytes are escaped"
        );
        assert_eq!(float_literal(1.0), "1.0", "floats keep a point");
        assert_eq!(float_literal(1e300), "1e300", "exponents are valid Python");
        assert_eq!(
            float_literal(f64::NEG_INFINITY),
            "-float(\"inf\")",
            "infinities"
        );
    }

    #[test]
    fn docstrings_are_dedented_and_escaped() {
        let mut out = Out::default();
        out.docstring(0, "  one\n    two \\ \"\"\"\n");
        assert_eq!(out.finish(), "\"\"\"one\n  two \\\\ \\\"\\\"\\\"\n\"\"\"\n");
        let mut out = Out::default();
        out.docstring(0, "say \"hi\"");
        assert_eq!(
            out.finish(),
            "\"\"\"say \"hi\\\"\"\"\"\n",
            "a final quote is escaped"
        );
    }
}
