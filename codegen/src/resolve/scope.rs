//! Per-file symbol tables and name lookup.
//!
//! Types and services share one table per file (Apache refuses a struct and a service with
//! one name); constants have their own. A file sees its own names unqualified and an included
//! file's names as `stem.Name`; includes are not transitive.

use std::collections::BTreeMap;

use crate::ir::{ConstId, EnumId, ServiceId, StructId, TypedefId};
use crate::span::{FileId, Span};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TypeSym {
    Struct(StructId),
    Enum(EnumId),
    Typedef(TypedefId),
    Service(ServiceId),
}

#[derive(Default)]
pub(super) struct FileScope {
    /// Types and services, with the span of the defining name.
    pub types: BTreeMap<String, (TypeSym, Span)>,
    pub consts: BTreeMap<String, (ConstId, Span)>,
    /// Included files by stem.
    pub includes: BTreeMap<String, FileId>,
}

/// What a name used as a value refers to.
#[derive(Clone, Copy, Debug)]
pub(super) enum ValueSym {
    Const(ConstId),
    /// An enum and the name's value part (which may not exist in the enum).
    EnumValue(EnumId),
}

pub(super) struct Scopes {
    pub files: Vec<FileScope>,
}

/// Splits `a.b.C` into (`a.b`, `C`).
fn split_last(name: &str) -> Option<(&str, &str)> {
    name.rfind('.').map(|i| (&name[..i], &name[i + 1..]))
}

impl Scopes {
    fn file(&self, f: FileId) -> Option<&FileScope> {
        self.files.get(f.index())
    }

    /// A type or service name as written in file `f`.
    pub fn lookup_type(&self, f: FileId, name: &str) -> Option<TypeSym> {
        let scope = self.file(f)?;
        if let Some((sym, _)) = scope.types.get(name) {
            return Some(*sym);
        }
        let (prefix, last) = split_last(name)?;
        let inc = *scope.includes.get(prefix)?;
        self.file(inc)?.types.get(last).map(|(s, _)| *s)
    }

    /// A constant name as written in file `f`.
    pub fn lookup_const(&self, f: FileId, name: &str) -> Option<ConstId> {
        let scope = self.file(f)?;
        if let Some((c, _)) = scope.consts.get(name) {
            return Some(*c);
        }
        let (prefix, last) = split_last(name)?;
        let inc = *scope.includes.get(prefix)?;
        self.file(inc)?.consts.get(last).map(|(c, _)| *c)
    }

    /// A name used as a value: `CONST`, `stem.CONST`, `Enum.VALUE` or `stem.Enum.VALUE`.
    /// For an enum value, the caller checks that the enum has the value (the part after the
    /// last dot).
    pub fn lookup_value(&self, f: FileId, name: &str) -> Option<ValueSym> {
        if let Some((prefix, _)) = split_last(name) {
            if let Some(TypeSym::Enum(e)) = self.lookup_type(f, prefix) {
                return Some(ValueSym::EnumValue(e));
            }
        }
        self.lookup_const(f, name).map(ValueSym::Const)
    }

    /// True when the part before the last dot names no included file (for a better help).
    pub fn unknown_prefix<'n>(&self, f: FileId, name: &'n str) -> Option<&'n str> {
        let (prefix, _) = split_last(name)?;
        let scope = self.file(f)?;
        let known = scope.includes.contains_key(prefix)
            || split_last(prefix).is_some_and(|(p, _)| scope.includes.contains_key(p))
            || scope.types.contains_key(prefix);
        (!known).then_some(prefix)
    }
}
