//! Constant values as Python expressions, and the `constants` module.

use crate::ir::{ConstValue, Definition, Type};

use super::text::{bytes_literal, float_literal, string_literal, Expr, Out};
use super::{ident, Cx};

impl Cx<'_> {
    /// `value` (already checked against `ty`) as one line of Python.
    pub(crate) fn const_value(&self, ty: &Type, value: &ConstValue, frozen: bool) -> String {
        self.const_expr(ty, value, frozen).flat()
    }

    /// `value` as an expression that may wrap. Containers inside hashing positions, or
    /// `frozen` ones, are `tuple`, `frozenset` and `TFrozenDict`.
    pub(crate) fn const_expr(&self, ty: &Type, value: &ConstValue, frozen: bool) -> Expr {
        let ty = self.program.true_type(ty);
        match (ty, value) {
            (_, ConstValue::Bool(b)) => Expr::atom(if *b { "True" } else { "False" }),
            (Type::Double, ConstValue::Int(i)) => Expr::atom(float_literal(*i as f64)),
            (_, ConstValue::Int(i)) => Expr::atom(i.to_string()),
            (_, ConstValue::Double(d)) => Expr::atom(float_literal(*d)),
            (Type::Binary, ConstValue::String(s)) => Expr::atom(bytes_literal(s.as_bytes())),
            (_, ConstValue::String(s)) => Expr::atom(string_literal(s)),
            (_, ConstValue::Uuid(bytes)) => {
                let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                let text = format!(
                    "{}-{}-{}-{}-{}",
                    &hex[0..8],
                    &hex[8..12],
                    &hex[12..16],
                    &hex[16..20],
                    &hex[20..32]
                );
                Expr::call("uuid.UUID", vec![Expr::atom(string_literal(&text))])
            }
            (_, ConstValue::Enum(id, v)) => {
                let e = self.program.enum_(*id);
                let class = self.type_ref(e.file, &self.enum_name(*id));
                match e.values.iter().find(|x| x.value == *v) {
                    Some(x) => Expr::atom(format!("{class}.{}", ident::keyword(&x.name))),
                    None => Expr::atom(format!("{class}({v})")),
                }
            }
            (Type::List(elem), ConstValue::List(items) | ConstValue::Set(items)) => {
                let items: Vec<Expr> = items
                    .iter()
                    .map(|v| self.const_expr(elem, v, frozen))
                    .collect();
                if frozen {
                    Expr::tuple(items)
                } else {
                    Expr::brackets("[", items, "]")
                }
            }
            (Type::Set(elem), ConstValue::List(items) | ConstValue::Set(items)) => {
                let items: Vec<Expr> = items
                    .iter()
                    .map(|v| self.const_expr(elem, v, true))
                    .collect();
                match (frozen, items.is_empty()) {
                    (true, true) => Expr::atom("frozenset()"),
                    (false, true) => Expr::atom("set()"),
                    (true, false) => Expr::call("frozenset", vec![Expr::brackets("{", items, "}")]),
                    (false, false) => Expr::brackets("{", items, "}"),
                }
            }
            (Type::Map(k, v), ConstValue::Map(entries)) => {
                let items: Vec<Expr> = entries
                    .iter()
                    .map(|(key, val)| {
                        Expr::prefixed(
                            format!("{}: ", self.const_value(k, key, true)),
                            self.const_expr(v, val, frozen),
                        )
                    })
                    .collect();
                let dict = Expr::brackets("{", items, "}");
                if frozen {
                    Expr::call("TFrozenDict", vec![dict])
                } else {
                    dict
                }
            }
            (Type::Struct(id), ConstValue::Struct(_, fields)) => {
                let s = self.program.struct_(*id);
                let class = self.type_ref(s.file, &self.struct_name(*id));
                let args = fields
                    .iter()
                    .filter_map(|(fid, val)| {
                        let f = s.fields.iter().find(|f| f.id == *fid)?;
                        Some(Expr::prefixed(
                            format!("{}=", ident::field(&f.name)),
                            self.const_expr(&f.ty, val, false),
                        ))
                    })
                    .collect();
                Expr::call(&class, args)
            }
            // Resolution has converted every value to its type; anything else is kept
            // readable rather than refused.
            (_, _) => Expr::atom("None"),
        }
    }

    /// `constants.py`: every constant of the file, with its type.
    pub(crate) fn constants_module(&self) -> String {
        let file = self.program.file(self.file);
        let mut out = Out::default();
        for def in &file.definitions {
            if let Definition::Const(id) = def {
                let c = self.program.const_(*id);
                let hint = self.hint(&c.ty, false);
                let name = ident::global(&c.name);
                out.expr(
                    0,
                    &format!("{name}: {hint} = "),
                    &self.const_expr(&c.ty, &c.value, false),
                    "",
                );
                if let Some(doc) = c.doc.as_deref() {
                    out.docstring(0, doc);
                }
            }
        }
        let body = out.finish();
        let body = if body.is_empty() {
            body
        } else {
            format!("\n{body}")
        };
        self.module(
            None,
            &[
                "import uuid",
                "",
                "from thrift.Thrift import TFrozenDict",
                "",
                "from .ttypes import *",
            ],
            &body,
        )
    }
}
