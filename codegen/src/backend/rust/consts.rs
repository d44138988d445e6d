//! Constant values as Rust expressions, and `const` / `static` items.
//!
//! Values the compiler can evaluate (booleans, numbers, enum values, uuids, strings as `&str`,
//! binaries as `&[u8]`) become `pub const`; containers, structs and unions become
//! `pub static NAME: LazyLock<T>`, built on first use.

use std::str::FromStr;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::ir::{ConstId, ConstValue, StructKind, Type};

use super::docs::doc_attrs;
use super::ident::ident;
use super::shapes::Repr;
use super::types::{complexity_allow, Scope};
use super::Cx;

impl Cx<'_> {
    /// A `pub const` or `pub static` item for constant `id`.
    pub(crate) fn const_item(&self, id: ConstId) -> TokenStream {
        let c = self.program.const_(id);
        let scope = Scope::top(c.file);
        let name = ident(&self.names.consts[id.index()]);
        let doc = doc_attrs(c.doc.as_deref());
        let allow = if contains_approx_constant(&c.value) {
            // The IDL's numbers are what they are, even when one is close to `PI`.
            quote!(#[allow(clippy::approx_constant)])
        } else {
            TokenStream::new()
        };
        match (self.program.true_type(&c.ty), &c.value) {
            (Type::String, ConstValue::String(s)) => {
                let lit = Literal::string(s);
                return quote!(#doc pub const #name: &str = #lit;);
            }
            (Type::Binary, ConstValue::String(s)) => {
                let lit = Literal::byte_string(s.as_bytes());
                return quote!(#doc pub const #name: &[u8] = #lit;);
            }
            _ => {}
        }
        let ty = self.rust_type(scope, &c.ty, false);
        let value = self.const_expr(scope, &c.ty, &c.value, false);
        if !self.is_static(id) {
            return quote!(#doc #allow pub const #name: #ty = #value;);
        }
        // `|| Vec::new()` is a redundant closure to clippy: pass the function.
        let init = match syn::parse2::<syn::ExprCall>(value.clone()) {
            Ok(call) if call.args.is_empty() => {
                let func = call.func;
                quote!(#func)
            }
            _ => quote!(|| #value),
        };
        let complex = complexity_allow([10 + self.type_complexity(&c.ty, false, 2)]);
        // `LazyLock` is imported at the top of the file.
        quote! {
            #doc
            #allow
            #complex
            pub static #name: LazyLock<#ty> = LazyLock::new(#init);
        }
    }

    /// Whether constant `id` is a `static` (built on first use) rather than a `const`.
    pub(crate) fn is_static(&self, id: ConstId) -> bool {
        let c = self.program.const_(id);
        !matches!(
            (self.program.true_type(&c.ty), &c.value),
            (Type::String | Type::Binary, ConstValue::String(_))
                | (
                    Type::Bool
                        | Type::I8
                        | Type::I16
                        | Type::I32
                        | Type::I64
                        | Type::Double
                        | Type::Uuid
                        | Type::Enum(_),
                    _,
                )
        )
    }

    /// An expression of type `ty` (rendered with `key` context) for `value`.
    pub(crate) fn const_expr(
        &self,
        scope: Scope,
        ty: &Type,
        value: &ConstValue,
        key: bool,
    ) -> TokenStream {
        let p = self.program;
        if let Type::Typedef(id) = ty {
            return self.const_expr(scope, &p.typedef(*id).target, value, key);
        }
        match (ty, value) {
            (Type::Bool, ConstValue::Bool(b)) => quote!(#b),
            (Type::I8 | Type::I16 | Type::I32 | Type::I64, ConstValue::Int(i)) => int(*i),
            (Type::Double, ConstValue::Double(d)) => double(*d, key),
            (Type::Double, ConstValue::Int(i)) => double(*i as f64, key),
            (Type::String, ConstValue::String(s)) => {
                let lit = Literal::string(s);
                quote!(::std::string::String::from(#lit))
            }
            (Type::Binary, ConstValue::String(s)) => {
                let lit = Literal::byte_string(s.as_bytes());
                quote!(::mosaic_runtime::__private::Bytes::from_static(#lit))
            }
            (Type::Uuid, ConstValue::Uuid(bytes)) => {
                let bytes = bytes
                    .iter()
                    .map(|b| TokenStream::from_str(&format!("0x{b:02x}")).unwrap_or_default());
                quote!(::mosaic_runtime::Uuid::from_bytes([#(#bytes),*]))
            }
            (Type::Enum(id), ConstValue::Enum(_, v)) => {
                let path = self.rust_type(scope, ty, key);
                let e = p.enum_(*id);
                match e.values.iter().position(|x| x.value == *v) {
                    Some(i) => {
                        let name = ident(&self.names.enum_(*id).values[i]);
                        quote!(#path::#name)
                    }
                    None => {
                        let lit = int(i64::from(*v));
                        quote!(#path(#lit))
                    }
                }
            }
            (Type::List(e), ConstValue::List(items) | ConstValue::Set(items)) => {
                if items.is_empty() {
                    return quote!(::std::vec::Vec::new());
                }
                let items = items.iter().map(|i| self.const_expr(scope, e, i, key));
                quote!(::std::vec::Vec::from([#(#items),*]))
            }
            (Type::Set(e), ConstValue::Set(items) | ConstValue::List(items)) => {
                if items.is_empty() {
                    return quote!(::std::collections::BTreeSet::new());
                }
                let items = items.iter().map(|i| self.const_expr(scope, e, i, true));
                quote!(::std::collections::BTreeSet::from([#(#items),*]))
            }
            (Type::Map(k, v), ConstValue::Map(entries)) => {
                if entries.is_empty() {
                    return quote!(::std::collections::BTreeMap::new());
                }
                let entries = entries.iter().map(|(ek, ev)| {
                    let ek = self.const_expr(scope, k, ek, true);
                    let ev = self.const_expr(scope, v, ev, key);
                    quote!((#ek, #ev))
                });
                quote!(::std::collections::BTreeMap::from([#(#entries),*]))
            }
            (Type::Struct(id), ConstValue::Struct(_, given)) => {
                self.struct_literal(scope, ty, *id, given)
            }
            // Resolution converts every value to its type; anything else is a bug upstream,
            // and the default value at least compiles.
            _ => quote!(::std::default::Default::default()),
        }
    }

    fn struct_literal(
        &self,
        scope: Scope,
        ty: &Type,
        id: crate::ir::StructId,
        given: &[(i16, ConstValue)],
    ) -> TokenStream {
        let p = self.program;
        let s = p.struct_(id);
        let path = self.rust_type(scope, ty, false);
        let names = &self.names.struct_(id).members;
        let mut fields = Vec::new();
        for (fid, value) in given {
            let Some(i) = s.fields.iter().position(|f| f.id == *fid) else {
                continue;
            };
            let field = &s.fields[i];
            let expr = self.const_expr(scope, &field.ty, value, false);
            let repr = self.shapes.field_repr(p, id, i);
            fields.push((i, wrap(expr, repr)));
        }
        if s.kind == StructKind::Union {
            return match fields.last() {
                Some((i, expr)) => {
                    let variant = ident(&names[*i]);
                    quote!(#path::#variant(#expr))
                }
                None => {
                    let msg = format!("a constant of union `{}` sets no field", s.name);
                    quote!(::std::compile_error!(#msg))
                }
            };
        }
        // Later values for one field win, as in a map.
        let mut seen = vec![false; s.fields.len()];
        let mut inits = Vec::new();
        for (i, expr) in fields.iter().rev() {
            if !std::mem::replace(&mut seen[*i], true) {
                inits.push((*i, expr.clone()));
            }
        }
        inits.sort_by_key(|(i, _)| *i);
        let inits = inits.into_iter().map(|(i, expr)| {
            let name = ident(&names[i]);
            quote!(#name: #expr)
        });
        if seen.iter().all(|s| *s) {
            quote!(#path { #(#inits),* })
        } else if !seen.iter().any(|s| *s) {
            quote!(<#path as ::std::default::Default>::default())
        } else {
            quote!(#path { #(#inits,)* ..::std::default::Default::default() })
        }
    }
}

/// `expr` stored as `repr`.
pub(crate) fn wrap(expr: TokenStream, repr: Repr) -> TokenStream {
    match repr {
        Repr::Plain => expr,
        Repr::Option => quote!(::std::option::Option::Some(#expr)),
        Repr::OptionBox => {
            quote!(::std::option::Option::Some(::std::boxed::Box::new(#expr)))
        }
        Repr::Box => quote!(::std::boxed::Box::new(#expr)),
    }
}

fn int(i: i64) -> TokenStream {
    if i == i64::MIN {
        return quote!(i64::MIN);
    }
    TokenStream::from_str(&i.to_string()).unwrap_or_default()
}

fn double(d: f64, key: bool) -> TokenStream {
    let lit = if d.is_nan() {
        quote!(f64::NAN)
    } else if d == f64::INFINITY {
        quote!(f64::INFINITY)
    } else if d == f64::NEG_INFINITY {
        quote!(f64::NEG_INFINITY)
    } else {
        // `{:?}` prints the shortest text that reads back as the same `f64`, always with a
        // `.` or an exponent, so it is a float literal.
        TokenStream::from_str(&format!("{d:?}")).unwrap_or_default()
    };
    if key {
        quote!(::mosaic_runtime::OrderedF64(#lit))
    } else {
        lit
    }
}

/// Whether a value holds a double that clippy's `approx_constant` may take for one of
/// `std::f64::consts`.
pub(crate) fn contains_approx_constant(value: &ConstValue) -> bool {
    match value {
        ConstValue::Double(d) => is_approx_constant(*d),
        ConstValue::List(v) | ConstValue::Set(v) => v.iter().any(contains_approx_constant),
        ConstValue::Map(m) => m
            .iter()
            .any(|(k, v)| contains_approx_constant(k) || contains_approx_constant(v)),
        ConstValue::Struct(_, f) => f.iter().any(|(_, v)| contains_approx_constant(v)),
        _ => false,
    }
}

/// A conservative version of clippy's test: a literal of four or more characters within 0.5%
/// of a constant it knows.
fn is_approx_constant(d: f64) -> bool {
    use std::f64::consts as c;
    const KNOWN: [f64; 19] = [
        c::E,
        c::FRAC_1_PI,
        c::FRAC_1_SQRT_2,
        c::FRAC_2_PI,
        c::FRAC_2_SQRT_PI,
        c::FRAC_PI_2,
        c::FRAC_PI_3,
        c::FRAC_PI_4,
        c::FRAC_PI_6,
        c::FRAC_PI_8,
        c::LN_2,
        c::LN_10,
        c::LOG2_10,
        c::LOG2_E,
        c::LOG10_2,
        c::LOG10_E,
        c::PI,
        c::SQRT_2,
        c::TAU,
    ];
    let abs = d.abs();
    format!("{abs:?}").len() >= 4 && KNOWN.iter().any(|k| ((abs - k) / k).abs() < 0.005)
}
