//! A recursive-descent parser for Apache Thrift IDL, with error recovery.
//!
//! The grammar follows Apache's `thrifty.yy`: headers, then definitions; optional `,`/`;`
//! after fields, values, functions, consts and typedefs; annotations on base and container
//! types, fields, functions, typedefs, enums and their values, structs, services and
//! namespaces; keywords allowed as field names but nowhere else a name goes.
//!
//! Recovery: a bad field, enum value or function is skipped up to the next separator, closing
//! brace or line break; a bad definition up to the next definition keyword at the start of a
//! line. So one file reports several errors, and a token the lexer already reported adds none.

use std::cell::Cell;

use super::ast::*;
use super::lexer::{Kw, Tok, Token};
use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};

/// Deeper nesting of types or values than this is refused instead of overflowing the stack.
const MAX_DEPTH: usize = 100;

/// The parse failed here; the diagnostic is already recorded.
struct Fail;

type PResult<T> = Result<T, Fail>;

pub(super) struct Parser<'a> {
    file: FileId,
    text: &'a str,
    toks: Vec<Token>,
    pos: usize,
    prev: Span,
    depth: usize,
    /// Token look-ups left before the parser is deemed stuck (see `peek`).
    fuel: Cell<usize>,
    pub(super) diags: Vec<Diagnostic>,
}

/// Look-ups a correct parse needs per token are a small constant (a few per grammar rule the
/// token passes through, at most `MAX_DEPTH` of them); this is far above that.
const FUEL_PER_TOKEN: usize = 4 * MAX_DEPTH + 64;

fn is_top_keyword(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Keyword(
            Kw::Include
                | Kw::CppInclude
                | Kw::Namespace
                | Kw::Const
                | Kw::Typedef
                | Kw::Enum
                | Kw::Struct
                | Kw::Union
                | Kw::Exception
                | Kw::Service
        )
    )
}

fn base_type(kw: Kw) -> Option<BaseType> {
    Some(match kw {
        Kw::Bool => BaseType::Bool,
        Kw::Byte | Kw::I8 => BaseType::I8,
        Kw::I16 => BaseType::I16,
        Kw::I32 => BaseType::I32,
        Kw::I64 => BaseType::I64,
        Kw::Double => BaseType::Double,
        Kw::String => BaseType::String,
        Kw::Binary => BaseType::Binary,
        Kw::Uuid => BaseType::Uuid,
        _ => return None,
    })
}

/// Old header forms (`cpp_namespace`, `java_package`, ...) that Apache has removed.
fn removed_header(word: &str) -> bool {
    ["_namespace", "_package", "_module", "_prefix", "_category"]
        .iter()
        .any(|s| word.ends_with(s))
        && !word.contains('.')
}

impl<'a> Parser<'a> {
    pub(super) fn new(file: FileId, text: &'a str, toks: Vec<Token>) -> Self {
        Parser {
            file,
            text,
            pos: 0,
            prev: Span::new(file, 0, 0),
            depth: 0,
            fuel: Cell::new(FUEL_PER_TOKEN * (toks.len() + 1)),
            toks,
            diags: Vec::new(),
        }
    }

    /// The parser with only `fuel` look-ups, to test what running out does.
    #[cfg(test)]
    pub(super) fn with_fuel(self, fuel: usize) -> Self {
        self.fuel.set(fuel);
        self
    }

    /// Where the parser ran out of fuel, if it did: the document it returned ends early,
    /// at the token where it stopped making progress.
    pub(super) fn stuck_at(&self) -> Option<Span> {
        let last = self.toks.len().saturating_sub(1);
        (self.fuel.get() == 0).then(|| self.toks[self.pos.min(last)].span)
    }

    // ---- token access ----

    /// The next token. Every loop in the parser ends at end of file, so once the look-ups
    /// run out of fuel (a loop that stopped consuming tokens: a bug) the parser sees end of
    /// file and finishes, with a diagnostic, instead of spinning forever.
    fn peek(&self) -> &Token {
        let last = self.toks.len().saturating_sub(1);
        match self.fuel.get() {
            0 => &self.toks[last],
            n => {
                self.fuel.set(n - 1);
                &self.toks[self.pos.min(last)]
            }
        }
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
            self.prev = t.span;
        }
        t
    }

    fn text_of(&self, span: Span) -> &'a str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    fn at_sym(&self, c: char) -> bool {
        self.peek().tok == Tok::Sym(c)
    }

    fn eat_sym(&mut self, c: char) -> Option<Span> {
        self.at_sym(c).then(|| self.bump().span)
    }

    fn at_kw(&self, kw: Kw) -> bool {
        self.peek().tok == Tok::Keyword(kw)
    }

    fn eat_kw(&mut self, kw: Kw) -> Option<Span> {
        self.at_kw(kw).then(|| self.bump().span)
    }

    fn eat_separator(&mut self) {
        if self.at_sym(',') || self.at_sym(';') {
            self.bump();
        }
    }

    fn describe(&self, t: &Token) -> String {
        match &t.tok {
            Tok::Ident => format!("`{}`", self.text_of(t.span)),
            Tok::Keyword(k) => format!("keyword `{}`", k.as_str()),
            Tok::Int(_) => format!("integer `{}`", self.text_of(t.span)),
            Tok::Double(_) => format!("number `{}`", self.text_of(t.span)),
            Tok::Str(_) => "a string literal".to_string(),
            Tok::Sym(c) => format!("`{c}`"),
            Tok::Bad => "invalid input".to_string(),
            Tok::Eof => "end of file".to_string(),
        }
    }

    /// Reports "expected X, found Y" at the current token, unless the lexer already reported it.
    fn expected<T>(&mut self, what: &str) -> PResult<T> {
        let t = self.peek().clone();
        if t.tok != Tok::Bad {
            let found = self.describe(&t);
            let d = Diagnostic::error(codes::SYNTAX, format!("expected {what}, found {found}"))
                .with_primary(self.where_missing(&t), format!("expected {what}"));
            self.diags.push(d);
        }
        Err(Fail)
    }

    /// Where a missing token belongs: right after the previous token when the next one is on
    /// a later line (the line that lacks something), else the next token itself.
    fn where_missing(&self, next: &Token) -> Span {
        if next.line_start && self.pos > 0 {
            Span::new(self.file, self.prev.end, self.prev.end)
        } else {
            next.span
        }
    }

    fn expect_sym(&mut self, c: char) -> PResult<Span> {
        match self.eat_sym(c) {
            Some(s) => Ok(s),
            None => self.expected(&format!("`{c}`")),
        }
    }

    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_DEPTH {
            let span = self.peek().span;
            self.diags.push(
                Diagnostic::error(codes::TOO_DEEP, "nesting is too deep")
                    .with_primary(span, format!("more than {MAX_DEPTH} levels"))
                    .with_help("flatten this type or value with typedefs or constants"),
            );
            return Err(Fail);
        }
        self.depth += 1;
        Ok(())
    }

    // ---- recovery ----

    /// Skips to the next token that can start a header or definition on a new line. The item
    /// that failed started at `start`: it is skipped even if it starts a line, so the loop moves
    /// on, but a definition the failed one ran into (a value cut off by the next line's
    /// `enum`) is kept.
    fn recover_top(&mut self, start: usize) {
        if self.pos == start && self.peek().tok != Tok::Eof {
            self.bump();
        }
        while self.peek().tok != Tok::Eof && !(self.peek().line_start && self.starts_item()) {
            self.bump();
        }
    }

    /// A header or definition keyword, or a removed form that gets its own message.
    fn starts_item(&self) -> bool {
        let t = self.peek();
        is_top_keyword(&t.tok)
            || (t.tok == Tok::Ident && {
                let w = self.text_of(t.span);
                w == "senum" || w == "slist" || removed_header(w)
            })
    }

    /// Skips the rest of a bad item in a `{ }` or `( )` list: up to a separator (eaten), the
    /// closing `close` (kept), a line break, or a definition keyword.
    fn recover_item(&mut self, close: char) {
        let mut depth = 0usize;
        let mut first = true;
        loop {
            let t = self.peek();
            if t.tok == Tok::Eof {
                return;
            }
            if depth == 0 {
                let stop_here = t.tok == Tok::Sym(close)
                    || (close == ')' && t.tok == Tok::Sym('}'))
                    || (t.line_start && is_top_keyword(&t.tok))
                    || (t.line_start && !first);
                if stop_here {
                    return;
                }
                if matches!(t.tok, Tok::Sym(',') | Tok::Sym(';')) {
                    self.bump();
                    return;
                }
            }
            match t.tok {
                Tok::Sym('{' | '(' | '[') => depth += 1,
                Tok::Sym('}' | ')' | ']') => depth = depth.saturating_sub(1),
                _ => {}
            }
            first = false;
            self.bump();
        }
    }

    // ---- document ----

    pub(super) fn document(&mut self) -> Document {
        let mut doc = Document {
            file: self.file,
            doc: None,
            headers: Vec::new(),
            definitions: Vec::new(),
        };
        let first = self.peek();
        if matches!(
            first.tok,
            Tok::Keyword(Kw::Include | Kw::CppInclude | Kw::Namespace)
        ) {
            doc.doc = first.doc.clone();
        }
        let mut first_definition: Option<Span> = None;
        loop {
            let t = self.peek().clone();
            let start = self.pos;
            let result = match &t.tok {
                Tok::Eof => break,
                Tok::Keyword(Kw::Include | Kw::CppInclude | Kw::Namespace) => {
                    if let Some(def) = first_definition {
                        self.diags.push(
                            Diagnostic::error(
                                codes::SYNTAX,
                                "headers must come before definitions",
                            )
                            .with_primary(t.span, "header after a definition")
                            .with_secondary(def, "first definition")
                            .with_help("move `include` and `namespace` lines to the top"),
                        );
                    }
                    self.header().map(|h| doc.headers.push(h))
                }
                tok if is_top_keyword(tok) => {
                    first_definition.get_or_insert(t.span);
                    self.definition().map(|d| doc.definitions.push(d))
                }
                Tok::Ident => self.removed_form(&t),
                _ => self.expected("a definition"),
            };
            if result.is_err() {
                self.recover_top(start);
            }
        }
        doc
    }

    /// Explains identifiers that start definitions Apache no longer accepts.
    fn removed_form(&mut self, t: &Token) -> PResult<()> {
        let word = self.text_of(t.span);
        let (message, help) = match word {
            "senum" => (
                "`senum` is no longer supported".to_string(),
                "use `string` instead".to_string(),
            ),
            "slist" => (
                "`slist` is no longer supported".to_string(),
                "use `list<string>` instead".to_string(),
            ),
            w if removed_header(w) => (
                format!("`{w}` is no longer supported"),
                "use `namespace <language> <name>` instead".to_string(),
            ),
            _ => return self.expected("a definition"),
        };
        self.diags.push(
            Diagnostic::error(codes::REMOVED_SYNTAX, message)
                .with_primary(t.span, "removed from Apache Thrift")
                .with_help(help),
        );
        Err(Fail)
    }

    fn string_lit(&mut self, what: &str) -> PResult<StringLit> {
        let t = self.peek().clone();
        if let Tok::Str(value) = t.tok {
            self.bump();
            Ok(StringLit {
                value,
                span: t.span,
            })
        } else {
            self.expected(what)
        }
    }

    fn header(&mut self) -> PResult<Header> {
        let start = self.bump();
        match start.tok {
            Tok::Keyword(Kw::Include) => {
                let path = self.string_lit("a file name in quotes")?;
                Ok(Header::Include(Include {
                    path,
                    span: start.span.to(self.prev),
                }))
            }
            Tok::Keyword(Kw::CppInclude) => Ok(Header::CppInclude(
                self.string_lit("a file name in quotes")?,
            )),
            _ => {
                let scope = if let Some(star) = self.eat_sym('*') {
                    Ident {
                        name: "*".into(),
                        span: star,
                    }
                } else {
                    self.plain_ident("a language scope such as `py` or `*`")?
                };
                let name = self.plain_ident("a namespace name")?;
                // Apache takes no annotations after `namespace *`.
                let annotations = if scope.name == "*" {
                    Vec::new()
                } else {
                    self.annotations()?
                };
                Ok(Header::Namespace(Namespace {
                    scope,
                    name,
                    annotations,
                    span: start.span.to(self.prev),
                }))
            }
        }
    }

    /// An identifier token (dots allowed); keywords are refused.
    fn plain_ident(&mut self, what: &str) -> PResult<Ident> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Ident => {
                self.bump();
                Ok(Ident {
                    name: self.text_of(t.span).to_string(),
                    span: t.span,
                })
            }
            _ => self.expected(what),
        }
    }

    /// The name of a definition, function or enum value: an identifier without dots. A keyword
    /// is reported and taken as the name, so that parsing goes on.
    fn simple_name(&mut self, what: &str) -> PResult<Ident> {
        let t = self.peek().clone();
        let ident = match t.tok {
            Tok::Ident => Ident {
                name: self.text_of(t.span).to_string(),
                span: t.span,
            },
            Tok::Keyword(kw) if !matches!(kw, Kw::True | Kw::False) => {
                self.diags.push(
                    Diagnostic::error(
                        codes::KEYWORD_AS_NAME,
                        format!("keyword `{}` cannot be used as a name", kw.as_str()),
                    )
                    .with_primary(t.span, format!("expected {what}"))
                    .with_note("Thrift keywords are reserved, except as field names"),
                );
                Ident {
                    name: kw.as_str().to_string(),
                    span: t.span,
                }
            }
            _ => return self.expected(what),
        };
        self.bump();
        self.check_simple(&ident);
        Ok(ident)
    }

    fn check_simple(&mut self, ident: &Ident) {
        if ident.name.contains('.') {
            self.diags.push(
                Diagnostic::error(
                    codes::DOTTED_NAME,
                    format!("name `{}` contains a dot", ident.name),
                )
                .with_primary(
                    ident.span,
                    "names of definitions and fields cannot be dotted",
                )
                .with_help("dots only separate a file's name from a definition it includes"),
            );
        }
    }

    // ---- definitions ----

    fn definition(&mut self) -> PResult<Definition> {
        let t = self.peek().clone();
        let doc = t.doc.clone();
        let Tok::Keyword(kw) = t.tok else {
            return self.expected("a definition");
        };
        self.bump();
        let start = t.span;
        let def = match kw {
            Kw::Const => {
                let ty = self.field_type()?;
                let name = self.simple_name("a constant name")?;
                self.expect_sym('=')?;
                let value = self.const_value()?;
                let span = start.to(self.prev);
                self.eat_separator();
                Definition::Const(Const {
                    ty,
                    name,
                    value,
                    doc,
                    span,
                })
            }
            Kw::Typedef => {
                let ty = self.field_type()?;
                let name = self.simple_name("a type name")?;
                let annotations = self.annotations()?;
                let span = start.to(self.prev);
                self.eat_separator();
                Definition::Typedef(Typedef {
                    ty,
                    name,
                    annotations,
                    doc,
                    span,
                })
            }
            Kw::Enum => {
                let name = self.simple_name("an enum name")?;
                let open = self.expect_sym('{')?;
                let values = self.enum_values(open);
                let annotations = self.annotations()?;
                Definition::Enum(Enum {
                    name,
                    values,
                    annotations,
                    doc,
                    span: start.to(self.prev),
                })
            }
            Kw::Struct | Kw::Union | Kw::Exception => {
                let kind = match kw {
                    Kw::Struct => StructKind::Struct,
                    Kw::Union => StructKind::Union,
                    _ => StructKind::Exception,
                };
                let name = self.simple_name("a type name")?;
                if kind != StructKind::Exception {
                    self.eat_kw(Kw::XsdAll);
                }
                let open = self.expect_sym('{')?;
                let fields = self.field_list(open, '}', false);
                let annotations = self.annotations()?;
                Definition::Struct(Struct {
                    kind,
                    name,
                    fields,
                    annotations,
                    doc,
                    span: start.to(self.prev),
                })
            }
            Kw::Service => {
                let name = self.simple_name("a service name")?;
                let extends = match self.eat_kw(Kw::Extends) {
                    Some(_) => Some(self.plain_ident("the name of a service")?),
                    None => None,
                };
                let open = self.expect_sym('{')?;
                let functions = self.functions(open);
                let annotations = self.annotations()?;
                Definition::Service(Service {
                    name,
                    extends,
                    functions,
                    annotations,
                    doc,
                    span: start.to(self.prev),
                })
            }
            _ => {
                self.pos -= 1;
                return self.expected("a definition");
            }
        };
        Ok(def)
    }

    /// Reports a missing closing delimiter, pointing at the opening one.
    fn unclosed(&mut self, open: Span, close: char) {
        let t = self.peek().clone();
        if t.tok == Tok::Bad {
            return;
        }
        let found = self.describe(&t);
        let at = self.where_missing(&t);
        self.diags.push(
            Diagnostic::error(codes::SYNTAX, format!("expected `{close}`, found {found}"))
                .with_primary(at, format!("expected `{close}`"))
                .with_secondary(open, "to close this"),
        );
    }

    /// Runs `item` until `close`; consumes `close`. Stops early, without consuming, at end of
    /// file or at a definition keyword starting a line (a forgotten `}`).
    fn list_until<T>(
        &mut self,
        open: Span,
        close: char,
        mut item: impl FnMut(&mut Self) -> PResult<T>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        loop {
            if self.eat_sym(close).is_some() {
                return out;
            }
            let t = self.peek();
            let other_close = match close {
                ')' => Tok::Sym('}'),
                _ => Tok::Sym(')'),
            };
            if t.tok == Tok::Eof
                || t.tok == other_close
                || (t.line_start && is_top_keyword(&t.tok) && close == '}')
            {
                self.unclosed(open, close);
                return out;
            }
            let before = self.pos;
            match item(self) {
                Ok(v) => out.push(v),
                Err(Fail) => {
                    self.recover_item(close);
                    if self.pos == before && !self.at_sym(close) {
                        // A definition starting on its own line ends any list that failed
                        // in front of it; anything else is skipped. Either way the loop moves on.
                        if self.peek().line_start && is_top_keyword(&self.peek().tok) {
                            self.unclosed(open, close);
                            return out;
                        }
                        self.bump();
                    }
                }
            }
        }
    }

    fn enum_values(&mut self, open: Span) -> Vec<EnumValue> {
        self.list_until(open, '}', |p| {
            let doc = p.peek().doc.clone();
            let name = p.simple_name("an enum value name")?;
            let value = if p.eat_sym('=').is_some() {
                let t = p.peek().clone();
                match t.tok {
                    Tok::Int(v) => {
                        p.bump();
                        Some((v, t.span))
                    }
                    _ => return p.expected("an integer"),
                }
            } else {
                None
            };
            let annotations = p.annotations()?;
            let span = name.span.to(p.prev);
            p.eat_separator();
            Ok(EnumValue {
                name,
                value,
                annotations,
                doc,
                span,
            })
        })
    }

    fn functions(&mut self, open: Span) -> Vec<Function> {
        self.list_until(open, '}', |p| p.function())
    }

    fn function(&mut self) -> PResult<Function> {
        let first = self.peek().clone();
        let doc = first.doc.clone();
        let oneway = match first.tok {
            Tok::Keyword(Kw::Oneway) => Some(self.bump().span),
            Tok::Keyword(Kw::Async) => {
                let span = self.bump().span;
                self.diags.push(
                    Diagnostic::warning(codes::DEPRECATED, "`async` is deprecated")
                        .with_primary(span, "")
                        .with_help("write `oneway` instead"),
                );
                Some(span)
            }
            _ => None,
        };
        let (returns, returns_span) = match self.eat_kw(Kw::Void) {
            Some(span) => (None, span),
            None => {
                let ty = self.field_type()?;
                let span = ty.span;
                (Some(ty), span)
            }
        };
        let name = self.simple_name("a function name")?;
        let open = self.expect_sym('(')?;
        let args = self.field_list(open, ')', true);
        let (throws, throws_span) = match self.eat_kw(Kw::Throws) {
            Some(span) => {
                let open = self.expect_sym('(')?;
                (self.field_list(open, ')', true), Some(span))
            }
            None => (Vec::new(), None),
        };
        let annotations = self.annotations()?;
        let span = first.span.to(self.prev);
        self.eat_separator();
        Ok(Function {
            oneway,
            returns,
            returns_span,
            name,
            args,
            throws,
            throws_span,
            annotations,
            doc,
            span,
        })
    }

    fn field_list(&mut self, open: Span, close: char, in_args: bool) -> Vec<Field> {
        self.list_until(open, close, |p| p.field(in_args))
    }

    fn field(&mut self, in_args: bool) -> PResult<Field> {
        let first = self.peek().clone();
        let doc = first.doc.clone();
        let id = match first.tok {
            Tok::Int(v) => {
                self.bump();
                self.expect_sym(':')?;
                Some((v, first.span))
            }
            _ => None,
        };
        let requiredness = if let Some(s) = self.eat_kw(Kw::Required) {
            Some((Requiredness::Required, s))
        } else {
            self.eat_kw(Kw::Optional)
                .map(|s| (Requiredness::Optional, s))
        };
        if let Some((Requiredness::Optional, span)) = requiredness {
            if in_args {
                self.diags.push(
                    Diagnostic::warning(
                        codes::OPTIONAL_ARGUMENT,
                        "`optional` is ignored in argument lists",
                    )
                    .with_primary(span, "")
                    .with_note("arguments and `throws` entries have default requiredness"),
                );
            }
        }
        let requiredness = requiredness.filter(|(r, _)| !(in_args && *r == Requiredness::Optional));
        let ty = self.field_type()?;
        let reference = self.eat_sym('&').is_some();
        let name = self.field_name()?;
        let default = match self.eat_sym('=') {
            Some(_) => Some(self.const_value()?),
            None => None,
        };
        self.eat_kw(Kw::XsdOptional);
        self.eat_kw(Kw::XsdNillable);
        if self.eat_kw(Kw::XsdAttrs).is_some() {
            let open = self.expect_sym('{')?;
            // Parsed for Apache compatibility; XSD attributes mean nothing to Mosaic.
            self.field_list(open, '}', false);
        }
        let annotations = self.annotations()?;
        let span = first.span.to(self.prev);
        self.eat_separator();
        Ok(Field {
            id,
            requiredness,
            ty,
            reference,
            name,
            default,
            annotations,
            doc,
            span,
        })
    }

    /// Field names may be keywords, except `cpp_type`, the `xsd_*` words, `true` and `false`.
    fn field_name(&mut self) -> PResult<Ident> {
        let t = self.peek().clone();
        match t.tok {
            Tok::Keyword(
                Kw::CppType
                | Kw::XsdAll
                | Kw::XsdOptional
                | Kw::XsdNillable
                | Kw::XsdAttrs
                | Kw::True
                | Kw::False,
            ) => self.simple_name("a field name"),
            Tok::Keyword(_) | Tok::Ident => {
                self.bump();
                let ident = Ident {
                    name: self.text_of(t.span).to_string(),
                    span: t.span,
                };
                self.check_simple(&ident);
                Ok(ident)
            }
            _ => self.expected("a field name"),
        }
    }

    // ---- types ----

    fn field_type(&mut self) -> PResult<TypeRef> {
        self.enter()?;
        let r = self.field_type_inner();
        self.depth -= 1;
        r
    }

    fn field_type_inner(&mut self) -> PResult<TypeRef> {
        let t = self.peek().clone();
        let kind = match t.tok {
            Tok::Ident => {
                self.bump();
                let name = self.text_of(t.span).to_string();
                if name == "slist" || name == "senum" {
                    let help = if name == "slist" {
                        "list<string>"
                    } else {
                        "string"
                    };
                    self.diags.push(
                        Diagnostic::error(
                            codes::REMOVED_SYNTAX,
                            format!("`{name}` is no longer supported"),
                        )
                        .with_primary(t.span, "removed from Apache Thrift")
                        .with_help(format!("use `{help}` instead")),
                    );
                }
                // Apache takes no annotations after a named type.
                return Ok(TypeRef {
                    kind: TypeKind::Named(Ident { name, span: t.span }),
                    annotations: Vec::new(),
                    span: t.span,
                });
            }
            Tok::Keyword(kw) => {
                if let Some(b) = base_type(kw) {
                    self.bump();
                    TypeKind::Base(b)
                } else {
                    match kw {
                        Kw::Map | Kw::Set | Kw::List => {
                            self.bump();
                            self.cpp_type()?;
                            self.expect_sym('<')?;
                            let first = Box::new(self.field_type()?);
                            let kind = if kw == Kw::Map {
                                self.expect_sym(',')?;
                                let v = Box::new(self.field_type()?);
                                TypeKind::Map(first, v)
                            } else if kw == Kw::Set {
                                TypeKind::Set(first)
                            } else {
                                TypeKind::List(first)
                            };
                            self.expect_sym('>')?;
                            if kw == Kw::List {
                                if let Some(span) = self.cpp_type()? {
                                    self.diags.push(
                                        Diagnostic::warning(
                                            codes::DEPRECATED,
                                            "`cpp_type` after `list<...>` is deprecated",
                                        )
                                        .with_primary(span, "")
                                        .with_help("write `list cpp_type \"...\" <type>` instead"),
                                    );
                                }
                            }
                            kind
                        }
                        _ => return self.expected("a type"),
                    }
                }
            }
            _ => return self.expected("a type"),
        };
        let span = t.span.to(self.prev);
        let annotations = self.annotations()?;
        Ok(TypeRef {
            kind,
            annotations,
            span,
        })
    }

    /// `cpp_type "..."`: parsed and dropped (a C++ container override).
    fn cpp_type(&mut self) -> PResult<Option<Span>> {
        match self.eat_kw(Kw::CppType) {
            Some(start) => {
                self.string_lit("a C++ type name in quotes")?;
                Ok(Some(start.to(self.prev)))
            }
            None => Ok(None),
        }
    }

    fn annotations(&mut self) -> PResult<Vec<Annotation>> {
        let Some(open) = self.eat_sym('(') else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        loop {
            if self.eat_sym(')').is_some() {
                return Ok(out);
            }
            if self.peek().tok != Tok::Ident {
                if self.peek().tok == Tok::Eof {
                    self.unclosed(open, ')');
                    return Err(Fail);
                }
                return self.expected("an annotation name or `)`");
            }
            let key = self.plain_ident("an annotation name")?;
            let value = match self.eat_sym('=') {
                Some(_) => Some(self.string_lit("an annotation value in quotes")?),
                None => None,
            };
            let span = key.span.to(self.prev);
            self.eat_separator();
            out.push(Annotation { key, value, span });
        }
    }

    // ---- constant values ----

    fn const_value(&mut self) -> PResult<ConstExpr> {
        self.enter()?;
        let r = self.const_value_inner();
        self.depth -= 1;
        r
    }

    fn const_value_inner(&mut self) -> PResult<ConstExpr> {
        let t = self.peek().clone();
        let kind = match t.tok {
            Tok::Int(v) => ConstKind::Int(v),
            Tok::Double(v) => ConstKind::Double(v),
            Tok::Keyword(Kw::True) => ConstKind::Bool(true),
            Tok::Keyword(Kw::False) => ConstKind::Bool(false),
            Tok::Str(s) => ConstKind::String(s),
            Tok::Ident => ConstKind::Ident(self.text_of(t.span).to_string()),
            Tok::Sym('[') => {
                self.bump();
                let mut items = Vec::new();
                while self.eat_sym(']').is_none() {
                    if self.peek().tok == Tok::Eof {
                        self.unclosed(t.span, ']');
                        return Err(Fail);
                    }
                    items.push(self.const_value()?);
                    self.eat_separator();
                }
                return Ok(ConstExpr {
                    kind: ConstKind::List(items),
                    span: t.span.to(self.prev),
                });
            }
            Tok::Sym('{') => {
                self.bump();
                let mut entries = Vec::new();
                while self.eat_sym('}').is_none() {
                    if self.peek().tok == Tok::Eof {
                        self.unclosed(t.span, '}');
                        return Err(Fail);
                    }
                    let k = self.const_value()?;
                    self.expect_sym(':')?;
                    let v = self.const_value()?;
                    self.eat_separator();
                    entries.push((k, v));
                }
                return Ok(ConstExpr {
                    kind: ConstKind::Map(entries),
                    span: t.span.to(self.prev),
                });
            }
            _ => return self.expected("a value"),
        };
        self.bump();
        Ok(ConstExpr { kind, span: t.span })
    }
}
