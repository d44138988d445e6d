//! The typed intermediate representation that every back end reads.
//!
//! Resolution turns the syntax trees of a root file and everything it includes into one
//! [`Program`]. Names are resolved (a type reference is an id, never a string), typedef chains
//! are kept (so a back end can still say `UserId`), constant values are checked and converted to
//! the type they are assigned to, and every element keeps its doc comment, annotations and
//! source span. Back ends never look at raw syntax.
//!
//! Definitions live in flat arenas on [`Program`]; each [`File`] lists its own definitions in
//! declaration order, which back ends keep so that output reads like the IDL and is
//! deterministic.

use std::path::PathBuf;

pub use crate::span::{FileId, Span};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub u32);

        impl $name {
            /// The position of this definition in its [`Program`] arena.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

id_type!(
    /// A struct, union or exception: an index into [`Program::structs`].
    StructId
);
id_type!(
    /// An index into [`Program::enums`].
    EnumId
);
id_type!(
    /// An index into [`Program::typedefs`].
    TypedefId
);
id_type!(
    /// An index into [`Program::consts`].
    ConstId
);
id_type!(
    /// An index into [`Program::services`].
    ServiceId
);

/// Everything reachable from the files a user asked to compile.
#[derive(Clone, Debug, Default)]
pub struct Program {
    /// Every file, indexed by [`FileId`]; includes come before the files that include them.
    pub files: Vec<File>,
    /// The files named by the user, in the order given.
    pub roots: Vec<FileId>,
    pub structs: Vec<Struct>,
    pub enums: Vec<Enum>,
    pub typedefs: Vec<Typedef>,
    pub consts: Vec<Const>,
    pub services: Vec<Service>,
}

/// One `.thrift` file.
#[derive(Clone, Debug)]
pub struct File {
    pub id: FileId,
    /// The path the file was read from.
    pub path: PathBuf,
    /// The file stem (`ThriftTest` for `ThriftTest.thrift`): the prefix other files use to refer
    /// to its definitions (`ThriftTest.Xtruct`).
    pub name: String,
    /// The file's leading doc comment, if any.
    pub doc: Option<String>,
    /// `namespace` declarations in declaration order.
    pub namespaces: Vec<Namespace>,
    /// Files this file includes directly, in declaration order.
    pub includes: Vec<FileId>,
    /// `cpp_include` strings, kept for completeness.
    pub cpp_includes: Vec<String>,
    /// This file's definitions in declaration order.
    pub definitions: Vec<Definition>,
}

impl File {
    /// The namespace for a language scope (`rs`, `py`, `java`, ...), falling back to `*`.
    pub fn namespace(&self, scope: &str) -> Option<&str> {
        let find = |s: &str| {
            self.namespaces
                .iter()
                .find(|n| n.scope == s)
                .map(|n| n.name.as_str())
        };
        find(scope).or_else(|| find("*"))
    }
}

/// `namespace <scope> <name>`.
#[derive(Clone, Debug)]
pub struct Namespace {
    pub scope: String,
    pub name: String,
    pub annotations: Annotations,
    pub span: Span,
}

/// A top-level definition, in the order it appears in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Definition {
    Typedef(TypedefId),
    Const(ConstId),
    Enum(EnumId),
    Struct(StructId),
    Service(ServiceId),
}

/// A type as written where it is used. Typedefs are kept; see [`Program::true_type`].
#[derive(Clone, Debug, PartialEq)]
pub enum Type {
    Bool,
    /// `byte` and `i8` are the same type.
    I8,
    I16,
    I32,
    I64,
    Double,
    String,
    Binary,
    Uuid,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Enum(EnumId),
    Struct(StructId),
    Typedef(TypedefId),
}

/// `key = "value"` pairs from a `( ... )` annotation list, in source order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Annotations(pub Vec<Annotation>);

impl Annotations {
    /// The value of the last annotation with this key (later ones override earlier ones).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub key: String,
    /// The value; an annotation written without `= value` has the value `"1"`, as in Apache.
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Typedef {
    pub id: TypedefId,
    pub file: FileId,
    pub name: String,
    /// The aliased type; may itself be a typedef (chains are kept).
    pub target: Type,
    pub doc: Option<String>,
    pub annotations: Annotations,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Enum {
    pub id: EnumId,
    pub file: FileId,
    pub name: String,
    /// Values in declaration order, with implicit values already assigned.
    pub values: Vec<EnumValue>,
    pub doc: Option<String>,
    pub annotations: Annotations,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct EnumValue {
    pub name: String,
    pub value: i32,
    pub doc: Option<String>,
    pub annotations: Annotations,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StructKind {
    Struct,
    Union,
    Exception,
}

/// A struct, union or exception.
#[derive(Clone, Debug)]
pub struct Struct {
    pub id: StructId,
    pub file: FileId,
    pub name: String,
    pub kind: StructKind,
    /// Fields in declaration order.
    pub fields: Vec<Field>,
    pub doc: Option<String>,
    pub annotations: Annotations,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requiredness {
    Required,
    Optional,
    /// Neither keyword: Thrift's "opt-in, req-out".
    Default,
}

/// A struct field, a function argument, or a `throws` entry.
#[derive(Clone, Debug)]
pub struct Field {
    /// The field id; Apache's negative ids (-1, -2, ...) when the IDL gave none.
    pub id: i16,
    /// True when the id was assigned implicitly.
    pub implicit_id: bool,
    pub name: String,
    pub ty: Type,
    pub requiredness: Requiredness,
    /// The default value, already converted to `ty`.
    pub default: Option<ConstValue>,
    /// Annotations written after the field's type (`i32 (foo = "bar") x`).
    pub type_annotations: Annotations,
    /// Annotations written after the field (`1: i32 x (foo = "bar")`).
    pub annotations: Annotations,
    pub doc: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Const {
    pub id: ConstId,
    pub file: FileId,
    pub name: String,
    pub ty: Type,
    /// Already converted to `ty`.
    pub value: ConstValue,
    pub doc: Option<String>,
    pub annotations: Annotations,
    pub span: Span,
}

/// A constant value, checked against and converted to the type it is assigned to: an integer
/// literal assigned to a `double` is a [`ConstValue::Double`], an enum value is a
/// [`ConstValue::Enum`], a string assigned to a `uuid` is a [`ConstValue::Uuid`], and so on.
#[derive(Clone, Debug, PartialEq)]
pub enum ConstValue {
    Bool(bool),
    /// Any integer type (`i8`..`i64`); resolution has checked that it fits.
    Int(i64),
    Double(f64),
    /// A `string` or `binary` value.
    String(String),
    /// 16 bytes in RFC 4122 order.
    Uuid([u8; 16]),
    /// The enum and the numeric value (which may be one the enum does not name).
    Enum(EnumId, i32),
    List(Vec<ConstValue>),
    Set(Vec<ConstValue>),
    /// Entries in source order.
    Map(Vec<(ConstValue, ConstValue)>),
    /// A struct literal: the fields given, by field id, in source order.
    Struct(StructId, Vec<(i16, ConstValue)>),
}

#[derive(Clone, Debug)]
pub struct Service {
    pub id: ServiceId,
    pub file: FileId,
    pub name: String,
    /// The service this one `extends`, possibly in an included file.
    pub extends: Option<ServiceId>,
    /// The functions declared in this service (not the inherited ones).
    pub functions: Vec<Function>,
    pub doc: Option<String>,
    pub annotations: Annotations,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub oneway: bool,
    /// `None` for `void`.
    pub returns: Option<Type>,
    pub args: Vec<Field>,
    pub throws: Vec<Field>,
    pub doc: Option<String>,
    pub annotations: Annotations,
    pub span: Span,
}

impl Program {
    pub fn file(&self, id: FileId) -> &File {
        &self.files[id.index()]
    }

    pub fn struct_(&self, id: StructId) -> &Struct {
        &self.structs[id.index()]
    }

    pub fn enum_(&self, id: EnumId) -> &Enum {
        &self.enums[id.index()]
    }

    pub fn typedef(&self, id: TypedefId) -> &Typedef {
        &self.typedefs[id.index()]
    }

    pub fn const_(&self, id: ConstId) -> &Const {
        &self.consts[id.index()]
    }

    pub fn service(&self, id: ServiceId) -> &Service {
        &self.services[id.index()]
    }

    /// The type with every typedef along the way resolved.
    pub fn true_type<'a>(&'a self, mut ty: &'a Type) -> &'a Type {
        while let Type::Typedef(id) = ty {
            ty = &self.typedef(*id).target;
        }
        ty
    }

    /// Every function a service offers, its own and inherited ones, paired with the service
    /// that declares it: the base service's functions first, as Apache orders them.
    pub fn all_functions(&self, id: ServiceId) -> Vec<(ServiceId, &Function)> {
        let mut chain = Vec::new();
        let mut next = Some(id);
        // Resolution rejects `extends` cycles; the length check keeps this total regardless.
        while let Some(s) = next {
            if chain.contains(&s) || chain.len() > self.services.len() {
                break;
            }
            chain.push(s);
            next = self.service(s).extends;
        }
        chain
            .iter()
            .rev()
            .flat_map(|&s| self.service(s).functions.iter().map(move |f| (s, f)))
            .collect()
    }
}
