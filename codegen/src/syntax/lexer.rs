//! The lexer: source text to tokens, with Apache Thrift's token rules.
//!
//! Comments (`#`, `//`, `/* */`) are skipped; a `/** */` doc comment is cleaned of its `*`
//! margins and attached to the token that follows it. Every token records whether a line
//! break came before it, which the parser uses to recover after a syntax error.

use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};

/// Keywords: Apache's lexer never returns these as identifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kw {
    Namespace,
    CppInclude,
    CppType,
    XsdAll,
    XsdOptional,
    XsdNillable,
    XsdAttrs,
    Include,
    Void,
    Bool,
    Byte,
    I8,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
    Map,
    List,
    Set,
    Oneway,
    Async,
    Typedef,
    Struct,
    Union,
    Exception,
    Extends,
    Throws,
    Service,
    Enum,
    Const,
    Required,
    Optional,
    True,
    False,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("namespace", Kw::Namespace),
    ("cpp_include", Kw::CppInclude),
    ("cpp_type", Kw::CppType),
    ("xsd_all", Kw::XsdAll),
    ("xsd_optional", Kw::XsdOptional),
    ("xsd_nillable", Kw::XsdNillable),
    ("xsd_attrs", Kw::XsdAttrs),
    ("include", Kw::Include),
    ("void", Kw::Void),
    ("bool", Kw::Bool),
    ("byte", Kw::Byte),
    ("i8", Kw::I8),
    ("i16", Kw::I16),
    ("i32", Kw::I32),
    ("i64", Kw::I64),
    ("double", Kw::Double),
    ("string", Kw::String),
    ("binary", Kw::Binary),
    ("uuid", Kw::Uuid),
    ("map", Kw::Map),
    ("list", Kw::List),
    ("set", Kw::Set),
    ("oneway", Kw::Oneway),
    ("async", Kw::Async),
    ("typedef", Kw::Typedef),
    ("struct", Kw::Struct),
    ("union", Kw::Union),
    ("exception", Kw::Exception),
    ("extends", Kw::Extends),
    ("throws", Kw::Throws),
    ("service", Kw::Service),
    ("enum", Kw::Enum),
    ("const", Kw::Const),
    ("required", Kw::Required),
    ("optional", Kw::Optional),
    ("true", Kw::True),
    ("false", Kw::False),
];

impl Kw {
    pub fn from_word(s: &str) -> Option<Kw> {
        KEYWORDS.iter().find(|(k, _)| *k == s).map(|&(_, kw)| kw)
    }

    pub fn as_str(self) -> &'static str {
        KEYWORDS
            .iter()
            .find(|&&(_, kw)| kw == self)
            .map(|&(s, _)| s)
            .unwrap_or("?")
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A name, possibly dotted (`shared.Thing`); its text is the span's text.
    Ident,
    Keyword(Kw),
    Int(i64),
    Double(f64),
    /// A string literal, escapes already processed.
    Str(String),
    /// One of `: ; , { } ( ) = < > [ ] * &`.
    Sym(char),
    /// Input the lexer could not turn into a token; already reported.
    Bad,
    Eof,
}

#[derive(Clone, Debug)]
pub struct Token {
    pub tok: Tok,
    pub span: Span,
    /// The cleaned text of a `/** */` comment right before this token.
    pub doc: Option<String>,
    /// True when a line break (or the start of the file) precedes this token.
    pub line_start: bool,
}

/// Splits `text` into tokens, ending with one [`Tok::Eof`]. Never fails: problems become
/// diagnostics and [`Tok::Bad`] tokens.
pub fn lex(file: FileId, text: &str) -> (Vec<Token>, Vec<Diagnostic>) {
    let mut lx = Lexer {
        file,
        src: text.as_bytes(),
        text,
        pos: 0,
        tokens: Vec::new(),
        diags: Vec::new(),
        doc: None,
        line_start: true,
    };
    if text.starts_with('\u{feff}') {
        lx.pos = 3;
    }
    lx.run();
    (lx.tokens, lx.diags)
}

struct Lexer<'a> {
    file: FileId,
    src: &'a [u8],
    text: &'a str,
    pos: usize,
    tokens: Vec<Token>,
    diags: Vec<Diagnostic>,
    doc: Option<String>,
    line_start: bool,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> u8 {
        self.src.get(self.pos + ahead).copied().unwrap_or(0)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.file, start as u32, end as u32)
    }

    fn push(&mut self, tok: Tok, start: usize) {
        let span = self.span(start, self.pos);
        self.tokens.push(Token {
            tok,
            span,
            doc: self.doc.take(),
            line_start: self.line_start,
        });
        self.line_start = false;
    }

    fn run(&mut self) {
        while self.pos < self.src.len() {
            let start = self.pos;
            let b = self.src[self.pos];
            match b {
                b'\n' => {
                    self.line_start = true;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'#' => self.skip_line(),
                b'/' if self.peek(1) == b'/' => self.skip_line(),
                b'/' if self.peek(1) == b'*' => self.block_comment(),
                b':' | b';' | b',' | b'{' | b'}' | b'(' | b')' | b'=' | b'<' | b'>' | b'['
                | b']' | b'*' | b'&' => {
                    self.pos += 1;
                    self.push(Tok::Sym(b as char), start);
                }
                b'"' | b'\'' => self.string(b),
                _ if is_ident_start(b) => self.ident(),
                b'0'..=b'9' => self.number(),
                b'+' | b'-' if self.peek(1).is_ascii_digit() => self.number(),
                b'+' | b'-' if self.peek(1) == b'.' && self.peek(2).is_ascii_digit() => {
                    self.number()
                }
                b'.' if self.peek(1).is_ascii_digit() => self.number(),
                _ => self.unexpected(),
            }
        }
        let end = self.src.len();
        self.tokens.push(Token {
            tok: Tok::Eof,
            span: self.span(end, end),
            doc: None,
            line_start: true,
        });
    }

    fn skip_line(&mut self) {
        while self.pos < self.src.len() && self.src[self.pos] != b'\n' {
            self.pos += 1;
        }
    }

    fn block_comment(&mut self) {
        let start = self.pos;
        // `/**/`, `/***/`, ... are plain comments; `/**` followed by anything else is a doc.
        let mut stars = 0;
        while self.peek(2 + stars) == b'*' {
            stars += 1;
        }
        let silly = stars >= 1 && self.peek(2 + stars) == b'/';
        let is_doc = stars >= 1 && !silly;
        self.pos += 2;
        loop {
            if self.pos >= self.src.len() {
                self.diags.push(
                    Diagnostic::error(codes::UNTERMINATED_COMMENT, "unterminated block comment")
                        .with_primary(self.span(start, start + 2), "comment starts here")
                        .with_help("close the comment with `*/`"),
                );
                return;
            }
            if self.src[self.pos] == b'*' && self.peek(1) == b'/' {
                self.pos += 2;
                break;
            }
            if self.src[self.pos] == b'\n' {
                self.line_start = true;
            }
            self.pos += 1;
        }
        if is_doc {
            let body = &self.text[start + 3..self.pos - 2];
            self.doc = clean_doc(body);
        }
    }

    fn ident(&mut self) {
        let start = self.pos;
        self.pos += 1;
        loop {
            let b = self.peek(0);
            if is_ident_char(b) {
                self.pos += 1;
            } else if b == b'.' && is_ident_char(self.peek(1)) {
                self.pos += 2;
            } else {
                break;
            }
        }
        let word = &self.text[start..self.pos];
        let tok = match Kw::from_word(word) {
            Some(kw) => Tok::Keyword(kw),
            None => Tok::Ident,
        };
        self.push(tok, start);
    }

    fn number(&mut self) {
        let start = self.pos;
        let negative = self.peek(0) == b'-';
        if matches!(self.peek(0), b'+' | b'-') {
            self.pos += 1;
        }
        if self.peek(0) == b'0' && self.peek(1) == b'x' && self.peek(2).is_ascii_hexdigit() {
            self.pos += 2;
            let digits_start = self.pos;
            while self.peek(0).is_ascii_hexdigit() {
                self.pos += 1;
            }
            let digits = &self.text[digits_start..self.pos];
            let value = i64::from_str_radix(digits, 16)
                .ok()
                .map(|v| if negative { -v } else { v });
            return self.int_token(value, start);
        }
        while self.peek(0).is_ascii_digit() {
            self.pos += 1;
        }
        let mut is_double = false;
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() {
            is_double = true;
            self.pos += 1;
            while self.peek(0).is_ascii_digit() {
                self.pos += 1;
            }
        }
        if matches!(self.peek(0), b'e' | b'E') {
            let sign = usize::from(matches!(self.peek(1), b'+' | b'-'));
            if self.peek(1 + sign).is_ascii_digit() {
                is_double = true;
                self.pos += 1 + sign;
                while self.peek(0).is_ascii_digit() {
                    self.pos += 1;
                }
            }
        }
        let text = &self.text[start..self.pos];
        if is_double {
            let value = text.parse::<f64>().unwrap_or(f64::NAN);
            self.push(Tok::Double(value), start);
        } else {
            self.int_token(text.parse::<i64>().ok(), start);
        }
    }

    fn int_token(&mut self, value: Option<i64>, start: usize) {
        match value {
            Some(v) => self.push(Tok::Int(v), start),
            None => {
                self.diags.push(
                    Diagnostic::error(codes::INTEGER_TOO_LARGE, "integer literal is too large")
                        .with_primary(self.span(start, self.pos), "does not fit in 64 bits")
                        .with_note("integers range from -2^63 to 2^63-1"),
                );
                self.push(Tok::Bad, start);
            }
        }
    }

    fn string(&mut self, quote: u8) {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        let mut run_start = self.pos;
        loop {
            let Some(&b) = self.src.get(self.pos) else {
                return self.unterminated_string(start);
            };
            match b {
                b'\n' => return self.unterminated_string(start),
                b'\\' => {
                    value.push_str(&self.text[run_start..self.pos]);
                    let esc = self.peek(1);
                    let ch = match esc {
                        b'n' => Some('\n'),
                        b'r' => Some('\r'),
                        b't' => Some('\t'),
                        b'"' => Some('"'),
                        b'\'' => Some('\''),
                        b'\\' => Some('\\'),
                        _ => None,
                    };
                    match ch {
                        Some(c) => {
                            value.push(c);
                            self.pos += 2;
                        }
                        None if esc == b'\n' || esc == 0 => {
                            self.pos += 1;
                            return self.unterminated_string(start);
                        }
                        None => {
                            let len = self.text[self.pos + 1..]
                                .chars()
                                .next()
                                .map_or(1, char::len_utf8);
                            self.diags.push(
                                Diagnostic::error(
                                    codes::INVALID_ESCAPE,
                                    "invalid escape in string literal",
                                )
                                .with_primary(self.span(self.pos, self.pos + 1 + len), "")
                                .with_note(
                                    "the escapes are `\\n`, `\\r`, `\\t`, `\\\"`, `\\'` and `\\\\`",
                                ),
                            );
                            self.pos += 1 + len;
                        }
                    }
                    run_start = self.pos;
                }
                _ if b == quote => {
                    value.push_str(&self.text[run_start..self.pos]);
                    self.pos += 1;
                    return self.push(Tok::Str(value), start);
                }
                _ => self.pos += 1,
            }
        }
    }

    fn unterminated_string(&mut self, start: usize) {
        self.diags.push(
            Diagnostic::error(codes::UNTERMINATED_STRING, "unterminated string literal")
                .with_primary(self.span(start, self.pos), "the string starts here")
                .with_note("string literals end on the line they start on"),
        );
        self.push(Tok::Bad, start);
    }

    fn unexpected(&mut self) {
        let start = self.pos;
        // One diagnostic for a run of characters that start no token.
        let mut end = start;
        for (i, c) in self.text[start..].char_indices() {
            let ascii_ok = c.is_ascii()
                && (is_ident_start(c as u8)
                    || c.is_ascii_digit()
                    || c.is_ascii_whitespace()
                    || ":;,{}()=<>[]*&\"'#/".contains(c));
            if i > 0 && ascii_ok {
                break;
            }
            end = start + i + c.len_utf8();
        }
        self.pos = end;
        let shown = &self.text[start..end];
        self.diags.push(
            Diagnostic::error(
                codes::UNEXPECTED_CHAR,
                format!(
                    "unexpected character{} `{}`",
                    plural(shown),
                    shown.escape_debug()
                ),
            )
            .with_primary(self.span(start, end), "no token starts with this"),
        );
        self.push(Tok::Bad, start);
    }
}

fn plural(s: &str) -> &'static str {
    if s.chars().count() > 1 {
        "s"
    } else {
        ""
    }
}

/// Cleans a doc comment body (between `/**` and `*/`): drops the `*` margin when every line
/// after the first has one at the same indentation, removes the common indentation and
/// trailing blanks, and drops leading and trailing empty lines. Returns `None` when empty.
pub fn clean_doc(body: &str) -> Option<String> {
    let body = body.replace('\r', "");
    let mut lines: Vec<&str> = body.split('\n').collect();
    if let Some(first) = lines.first_mut() {
        *first = first.trim_start_matches([' ', '\t']);
    }
    let rest = || lines.iter().skip(1).filter(|l| !l.trim().is_empty());
    let margin = rest().next().and_then(|l| {
        let indent = l.len() - l.trim_start_matches([' ', '\t']).len();
        l[indent..].starts_with('*').then_some(indent)
    });
    let has_margin = margin.is_some_and(|m| {
        rest().all(|l| l.len() > m && l.as_bytes()[m] == b'*' && l[..m].trim().is_empty())
    });
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let l = match margin {
            Some(m) if has_margin && i > 0 && !l.trim().is_empty() => &l[m + 1..],
            _ => l,
        };
        out.push(l.to_string());
    }
    let common = out
        .iter()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    for (i, l) in out.iter_mut().enumerate() {
        if i > 0 && !l.trim().is_empty() {
            *l = l[common..].to_string();
        }
        let trimmed = l.trim_end_matches([' ', '\t']).len();
        l.truncate(trimmed);
    }
    while out.first().is_some_and(|l| l.is_empty()) {
        out.remove(0);
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    (!out.is_empty()).then(|| out.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> Vec<Tok> {
        let (t, d) = lex(FileId(0), src);
        assert!(d.is_empty(), "unexpected diagnostics for {src:?}: {d:?}");
        t.into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn numbers_follow_apache() {
        assert_eq!(
            toks("1 -2 +3 0x1F -0x10 1.5 .5 -1.5e-3 1e10"),
            vec![
                Tok::Int(1),
                Tok::Int(-2),
                Tok::Int(3),
                Tok::Int(31),
                Tok::Int(-16),
                Tok::Double(1.5),
                Tok::Double(0.5),
                Tok::Double(-1.5e-3),
                Tok::Double(1e10),
                Tok::Eof
            ],
            "ints, hex, doubles in every form"
        );
        assert_eq!(
            toks("e10"),
            vec![Tok::Ident, Tok::Eof],
            "e10 is an identifier (THRIFT-3477)"
        );
    }

    #[test]
    fn identifiers_may_be_dotted() {
        let (t, _) = lex(FileId(0), "shared.Thing a.b.c x. ");
        let spans: Vec<_> = t.iter().map(|t| (t.span.start, t.span.end)).collect();
        assert_eq!(spans[0], (0, 12), "a dotted name is one token");
        assert_eq!(spans[1], (13, 18), "several dots");
        assert_eq!(t[2].tok, Tok::Ident, "`x` before a dot");
    }

    #[test]
    fn strings_with_escapes_and_both_quotes() {
        assert_eq!(
            toks(r#"'it\'s' "a\"b\n" 'say "hi"'"#),
            vec![
                Tok::Str("it's".into()),
                Tok::Str("a\"b\n".into()),
                Tok::Str("say \"hi\"".into()),
                Tok::Eof
            ],
            "escapes are processed"
        );
    }

    #[test]
    fn errors_are_reported_and_lexing_goes_on() {
        let (t, d) = lex(FileId(0), "\"abc\n struct ¤ 99999999999999999999 '\\q'");
        let codes: Vec<_> = d.iter().map(|d| d.code).collect();
        assert_eq!(
            codes,
            vec![
                codes::UNTERMINATED_STRING,
                codes::UNEXPECTED_CHAR,
                codes::INTEGER_TOO_LARGE,
                codes::INVALID_ESCAPE
            ],
            "every problem is reported"
        );
        assert!(
            t.iter().any(|t| t.tok == Tok::Keyword(Kw::Struct)),
            "tokens after an error are still produced"
        );
    }

    #[test]
    fn doc_comments_attach_to_the_next_token() {
        let (t, _) = lex(FileId(0), "/** hello */ // plain\n/**/ struct");
        assert_eq!(
            t[0].doc.as_deref(),
            Some("hello"),
            "doc kept across comments"
        );
        assert!(t[0].line_start, "token after a line break");
    }

    #[test]
    fn clean_doc_strips_star_margins() {
        let body = "\n   * First line.\n   *   indented\n   *\n   * Last.\n   ";
        assert_eq!(
            clean_doc(body).as_deref(),
            Some("First line.\n  indented\n\nLast."),
            "margins and common indentation removed"
        );
        assert_eq!(
            clean_doc(" one line "),
            Some("one line".into()),
            "single line"
        );
        assert_eq!(clean_doc("  \n  "), None, "blank doc is none");
    }
}
