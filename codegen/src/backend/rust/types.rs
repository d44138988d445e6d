//! IDL types as Rust types, and the paths between generated modules.
//!
//! | IDL | Rust |
//! | --- | --- |
//! | `bool`, `byte`/`i8`, `i16`, `i32`, `i64`, `double` | `bool`, `i8`, `i16`, `i32`, `i64`, `f64` |
//! | `string` / `binary` / `uuid` | `String` / `Bytes` / `mosaic_runtime::Uuid` |
//! | `list<T>` / `set<T>` / `map<K, V>` | `Vec<T>` / `BTreeSet<T>` / `BTreeMap<K, V>` |
//! | `double` in a set element or map key | `mosaic_runtime::OrderedF64` |
//! | a typedef, enum, struct | its name, by a relative path (`super::shared::Name`) |
//!
//! Every path is fully qualified (`::std::...`, `::mosaic_runtime::...`) so that user type
//! names never shadow what generated code means.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{FileId, Type};

use super::ident::ident;
use super::shapes::{has_raw_double, Repr};
use super::Cx;

/// Where generated code sits: a file's module, `depth` modules down (1 inside a service's
/// hidden module of argument and result structs).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scope {
    pub file: FileId,
    pub depth: usize,
}

impl Scope {
    pub(crate) fn top(file: FileId) -> Self {
        Scope { file, depth: 0 }
    }

    pub(crate) fn nested(self) -> Self {
        Scope {
            depth: self.depth + 1,
            ..self
        }
    }
}

impl Cx<'_> {
    /// The relative path from `scope` to item `name` of `file`'s module.
    pub(crate) fn path(&self, scope: Scope, file: FileId, name: &str) -> TokenStream {
        let name = ident(name);
        let supers = (0..scope.depth).map(|_| quote!(super::));
        if file == scope.file {
            quote!(#(#supers)* #name)
        } else {
            let module = ident(&self.names.modules[file.index()]);
            quote!(super:: #(#supers)* #module :: #name)
        }
    }

    /// The Rust type of `ty`. `key` is true inside set elements and map keys, where `double`
    /// is `OrderedF64` (and a typedef that stands for a double-holding type is spelled out).
    pub(crate) fn rust_type(&self, scope: Scope, ty: &Type, key: bool) -> TokenStream {
        let p = self.program;
        match ty {
            Type::Bool => quote!(bool),
            Type::I8 => quote!(i8),
            Type::I16 => quote!(i16),
            Type::I32 => quote!(i32),
            Type::I64 => quote!(i64),
            Type::Double if key => quote!(::mosaic_runtime::OrderedF64),
            Type::Double => quote!(f64),
            Type::String => quote!(::std::string::String),
            Type::Binary => quote!(::mosaic_runtime::__private::Bytes),
            Type::Uuid => quote!(::mosaic_runtime::Uuid),
            Type::List(e) => {
                let e = self.rust_type(scope, e, key);
                quote!(::std::vec::Vec<#e>)
            }
            Type::Set(e) => {
                let e = self.rust_type(scope, e, true);
                quote!(::std::collections::BTreeSet<#e>)
            }
            Type::Map(k, v) => {
                let k = self.rust_type(scope, k, true);
                let v = self.rust_type(scope, v, key);
                quote!(::std::collections::BTreeMap<#k, #v>)
            }
            Type::Enum(id) => {
                let e = p.enum_(*id);
                self.path(scope, e.file, &self.names.enum_(*id).name)
            }
            Type::Struct(id) => {
                let s = p.struct_(*id);
                self.path(scope, s.file, &self.names.struct_(*id).name)
            }
            Type::Typedef(id) => {
                let t = p.typedef(*id);
                if key && has_raw_double(p, &t.target, false) {
                    self.rust_type(scope, &t.target, true)
                } else {
                    self.path(scope, t.file, &self.names.typedefs[id.index()])
                }
            }
        }
    }

    /// The type of a struct field or variant stored as `repr`.
    pub(crate) fn member_type(&self, scope: Scope, ty: &Type, repr: Repr) -> TokenStream {
        let t = self.rust_type(scope, ty, false);
        match repr {
            Repr::Plain => t,
            Repr::Option => quote!(::std::option::Option<#t>),
            Repr::OptionBox => quote!(::std::option::Option<::std::boxed::Box<#t>>),
            Repr::Box => quote!(::std::boxed::Box<#t>),
        }
    }

    /// Clippy's `type_complexity` score of the Rust type for `ty` stored as `repr`: every
    /// path adds ten times its nesting depth (see clippy's `TypeComplexityVisitor`).
    pub(crate) fn complexity(&self, ty: &Type, repr: Repr) -> usize {
        match repr {
            Repr::Plain => self.type_complexity(ty, false, 1),
            Repr::Option | Repr::Box => 10 + self.type_complexity(ty, false, 2),
            Repr::OptionBox => 10 + 20 + self.type_complexity(ty, false, 3),
        }
    }

    pub(crate) fn type_complexity(&self, ty: &Type, key: bool, nest: usize) -> usize {
        let own = 10 * nest;
        own + match ty {
            Type::List(e) => self.type_complexity(e, key, nest + 1),
            Type::Set(e) => self.type_complexity(e, true, nest + 1),
            Type::Map(k, v) => {
                self.type_complexity(k, true, nest + 1) + self.type_complexity(v, key, nest + 1)
            }
            Type::Typedef(id) => {
                let target = &self.program.typedef(*id).target;
                if key && has_raw_double(self.program, target, false) {
                    return self.type_complexity(target, true, nest);
                }
                0
            }
            _ => 0,
        }
    }

    /// The wire type of `ty`.
    pub(crate) fn ttype(&self, ty: &Type) -> TokenStream {
        let variant = match self.program.true_type(ty) {
            Type::Bool => quote!(Bool),
            Type::I8 => quote!(I8),
            Type::I16 => quote!(I16),
            Type::I32 | Type::Enum(_) => quote!(I32),
            Type::I64 => quote!(I64),
            Type::Double => quote!(Double),
            Type::String | Type::Binary => quote!(String),
            Type::Uuid => quote!(Uuid),
            Type::List(_) => quote!(List),
            Type::Set(_) => quote!(Set),
            Type::Map(..) => quote!(Map),
            Type::Struct(_) => quote!(Struct),
            // `true_type` never returns a typedef.
            Type::Typedef(_) => quote!(Void),
        };
        quote!(::mosaic_runtime::TType::#variant)
    }
}

/// `#[allow(clippy::type_complexity)]` when a score passes clippy's default threshold: the IDL
/// decides how deeply types nest, and generated code spells them out in full.
pub(crate) fn complexity_allow(scores: impl IntoIterator<Item = usize>) -> TokenStream {
    if scores.into_iter().any(|s| s > 250) {
        quote!(#[allow(clippy::type_complexity)])
    } else {
        TokenStream::new()
    }
}
