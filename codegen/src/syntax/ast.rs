//! The syntax tree of one `.thrift` file, as written: names are unresolved strings, constant
//! values are unchecked, and every node has its span. Resolution turns it into [`crate::ir`].

use crate::span::{FileId, Span};

#[derive(Clone, Debug)]
pub struct Document {
    pub file: FileId,
    /// The file's leading doc comment: a `/** */` before the first header.
    pub doc: Option<String>,
    pub headers: Vec<Header>,
    pub definitions: Vec<Definition>,
}

/// A name as written, possibly dotted (`shared.Thing`).
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Header {
    Include(Include),
    CppInclude(StringLit),
    Namespace(Namespace),
}

#[derive(Clone, Debug)]
pub struct StringLit {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Include {
    pub path: StringLit,
    pub span: Span,
}

/// `namespace <scope> <name> (annotations)`; the scope `*` is kept as `"*"`.
#[derive(Clone, Debug)]
pub struct Namespace {
    pub scope: Ident,
    pub name: Ident,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

/// `key = "value"`, or `key` alone.
#[derive(Clone, Debug)]
pub struct Annotation {
    pub key: Ident,
    pub value: Option<StringLit>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Definition {
    Const(Const),
    Typedef(Typedef),
    Enum(Enum),
    Struct(Struct),
    Service(Service),
}

impl Definition {
    pub fn name(&self) -> &Ident {
        match self {
            Definition::Const(d) => &d.name,
            Definition::Typedef(d) => &d.name,
            Definition::Enum(d) => &d.name,
            Definition::Struct(d) => &d.name,
            Definition::Service(d) => &d.name,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseType {
    Bool,
    /// `byte` or `i8`.
    I8,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
}

#[derive(Clone, Debug)]
pub enum TypeKind {
    Base(BaseType),
    List(Box<TypeRef>),
    Set(Box<TypeRef>),
    Map(Box<TypeRef>, Box<TypeRef>),
    /// A defined type, possibly from an included file (`shared.Thing`).
    Named(Ident),
}

/// A type where it is used; base and container types may carry annotations.
#[derive(Clone, Debug)]
pub struct TypeRef {
    pub kind: TypeKind,
    pub annotations: Vec<Annotation>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ConstKind {
    Int(i64),
    Double(f64),
    /// `true` or `false` (integers 1 and 0 to Apache).
    Bool(bool),
    String(String),
    /// A constant or enum value name (`MAX`, `Numberz.ONE`, `shared.Numberz.ONE`).
    Ident(String),
    List(Vec<ConstExpr>),
    /// Also struct literals, with field names as string keys.
    Map(Vec<(ConstExpr, ConstExpr)>),
}

#[derive(Clone, Debug)]
pub struct ConstExpr {
    pub kind: ConstKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Const {
    pub ty: TypeRef,
    pub name: Ident,
    pub value: ConstExpr,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Typedef {
    pub ty: TypeRef,
    pub name: Ident,
    pub annotations: Vec<Annotation>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Enum {
    pub name: Ident,
    pub values: Vec<EnumValue>,
    pub annotations: Vec<Annotation>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct EnumValue {
    pub name: Ident,
    /// The explicit value and the span of its literal.
    pub value: Option<(i64, Span)>,
    pub annotations: Vec<Annotation>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StructKind {
    Struct,
    Union,
    Exception,
}

#[derive(Clone, Debug)]
pub struct Struct {
    pub kind: StructKind,
    pub name: Ident,
    pub fields: Vec<Field>,
    pub annotations: Vec<Annotation>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requiredness {
    Required,
    Optional,
}

#[derive(Clone, Debug)]
pub struct Field {
    /// The explicit id and the span of its literal.
    pub id: Option<(i64, Span)>,
    pub requiredness: Option<(Requiredness, Span)>,
    pub ty: TypeRef,
    /// `&` after the type: a C++ reference, which also makes recursion legal.
    pub reference: bool,
    pub name: Ident,
    pub default: Option<ConstExpr>,
    pub annotations: Vec<Annotation>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: Ident,
    pub extends: Option<Ident>,
    pub functions: Vec<Function>,
    pub annotations: Vec<Annotation>,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Function {
    /// The span of `oneway` (or the deprecated `async`).
    pub oneway: Option<Span>,
    /// `None` for `void`.
    pub returns: Option<TypeRef>,
    /// The span of the return type or `void`.
    pub returns_span: Span,
    pub name: Ident,
    pub args: Vec<Field>,
    pub throws: Vec<Field>,
    /// The span of the `throws` keyword.
    pub throws_span: Option<Span>,
    pub annotations: Vec<Annotation>,
    pub doc: Option<String>,
    pub span: Span,
}
