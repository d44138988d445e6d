//! IDL types as Python type hints, `TType` codes and `thrift_spec` arguments.
//!
//! Containers are "frozen" (`tuple`, `frozenset`, `TFrozenDict`) where their values must be
//! hashable: as map keys and set elements, anywhere inside those, and where the IDL asks
//! with `python.immutable`. Apache marks only the containers the IDL annotates; marking every
//! one in a hashing position as well keeps values that Apache cannot read readable.

use crate::ir::{Annotations, Type};

use super::text::Expr;
use super::Cx;

/// Whether a struct or container annotation asks for an immutable Python value.
pub(crate) fn immutable_annotation(annotations: &Annotations) -> Option<bool> {
    annotations.get("python.immutable").map(|v| v != "false")
}

impl Cx<'_> {
    /// The type hint for `ty` (in the module being generated).
    pub(crate) fn hint(&self, ty: &Type, frozen: bool) -> String {
        match self.program.true_type(ty) {
            Type::Bool => "bool".into(),
            Type::I8 | Type::I16 | Type::I32 | Type::I64 => "int".into(),
            Type::Double => "float".into(),
            Type::String => "str".into(),
            Type::Binary => "bytes".into(),
            Type::Uuid => "uuid.UUID".into(),
            Type::Enum(id) => self.type_ref(self.program.enum_(*id).file, &self.enum_name(*id)),
            Type::Struct(id) => {
                self.type_ref(self.program.struct_(*id).file, &self.struct_name(*id))
            }
            Type::List(elem) => {
                if frozen {
                    format!("tuple[{}, ...]", self.hint(elem, true))
                } else {
                    format!("list[{}]", self.hint(elem, false))
                }
            }
            Type::Set(elem) => {
                let elem = self.hint(elem, true);
                if frozen {
                    format!("frozenset[{elem}]")
                } else {
                    format!("set[{elem}]")
                }
            }
            Type::Map(k, v) => format!("dict[{}, {}]", self.hint(k, true), self.hint(v, frozen)),
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        }
    }

    /// `TType.X` for `ty`.
    pub(crate) fn ttype(&self, ty: &Type) -> &'static str {
        match self.program.true_type(ty) {
            Type::Bool => "TType.BOOL",
            Type::I8 => "TType.BYTE",
            Type::I16 => "TType.I16",
            Type::I32 | Type::Enum(_) => "TType.I32",
            Type::I64 => "TType.I64",
            Type::Double => "TType.DOUBLE",
            Type::String | Type::Binary => "TType.STRING",
            Type::Uuid => "TType.UUID",
            Type::Struct(_) => "TType.STRUCT",
            Type::List(_) => "TType.LIST",
            Type::Set(_) => "TType.SET",
            Type::Map(..) => "TType.MAP",
            Type::Typedef(_) => unreachable!("true_type resolves typedefs"),
        }
    }

    /// The type arguments of a `thrift_spec` entry, as Apache's runtime and C extension read
    /// them: `"UTF8"`/`"BINARY"` for strings, `[Class, None]` for structs (`fix_spec` fills
    /// in the `None`), `(etype, eargs, frozen)` for lists and sets, `(ktype, kargs, vtype,
    /// vargs, frozen)` for maps, `None` otherwise.
    pub(crate) fn spec_args(&self, ty: &Type, frozen: bool) -> Expr {
        let flag = |f: bool| Expr::atom(if f { "True" } else { "False" });
        match self.program.true_type(ty) {
            Type::String => Expr::atom("\"UTF8\""),
            Type::Binary => Expr::atom("\"BINARY\""),
            Type::Struct(id) => Expr::brackets(
                "[",
                vec![
                    Expr::atom(
                        self.type_ref(self.program.struct_(*id).file, &self.struct_name(*id)),
                    ),
                    Expr::atom("None"),
                ],
                "]",
            ),
            Type::List(elem) => Expr::tuple(vec![
                Expr::atom(self.ttype(elem)),
                self.spec_args(elem, frozen),
                flag(frozen),
            ]),
            Type::Set(elem) => Expr::tuple(vec![
                Expr::atom(self.ttype(elem)),
                self.spec_args(elem, true),
                flag(frozen),
            ]),
            Type::Map(k, v) => Expr::tuple(vec![
                Expr::atom(self.ttype(k)),
                self.spec_args(k, true),
                Expr::atom(self.ttype(v)),
                self.spec_args(v, frozen),
                flag(frozen),
            ]),
            _ => Expr::atom("None"),
        }
    }
}
