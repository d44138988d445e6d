//! The code that writes and reads one value of an IDL type with a `ProtocolWrite` `w` or a
//! `ProtocolRead` `r` (the names the `Struct` methods give them).
//!
//! Containers nest, so loop variables carry the nesting depth (`e0`, `k1`, ...).
//!
//! Decoding checks the element (key, value) types in each container header against the IDL,
//! with `mosaic_runtime::protocol::read_list_of` and its siblings: a container that does not
//! match is skipped, reads as empty, and clears a flag `ok` that the field's decoder declares
//! (see `structs`), which then leaves the field absent, as for a field of the wrong type. An
//! empty container matches whatever types its header names.

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::ir::Type;

use super::types::Scope;
use super::Cx;

/// An expression for a value to encode, and how it is held.
#[derive(Clone)]
pub(crate) enum Val {
    /// A place of type `T` (`self.thing`).
    Place(TokenStream),
    /// A reference `&T` (a loop or pattern binding).
    Ref(TokenStream),
    /// A reference `&Box<T>`.
    RefBox(TokenStream),
}

impl Val {
    /// `&T`.
    fn by_ref(&self) -> TokenStream {
        match self {
            Val::Place(p) => quote!(&#p),
            Val::Ref(r) => r.clone(),
            Val::RefBox(r) => quote!(&**#r),
        }
    }

    /// `T`, for `Copy` types.
    fn by_value(&self) -> TokenStream {
        match self {
            Val::Place(p) => p.clone(),
            Val::Ref(r) => quote!(*#r),
            Val::RefBox(r) => quote!(**#r),
        }
    }

    /// The expression itself, for method calls and field access (which auto-deref).
    fn expr(&self) -> TokenStream {
        match self {
            Val::Place(e) | Val::Ref(e) | Val::RefBox(e) => e.clone(),
        }
    }
}

fn var(prefix: &str, depth: usize) -> Ident {
    Ident::new(&format!("{prefix}{depth}"), Span::call_site())
}

impl Cx<'_> {
    /// Statements that write `val` (of type `ty`) with `w`.
    pub(crate) fn encode(&self, ty: &Type, key: bool, val: &Val, depth: usize) -> TokenStream {
        match ty {
            Type::Typedef(id) => {
                let target = &self.program.typedef(*id).target;
                self.encode(target, key, val, depth)
            }
            Type::Bool => {
                let v = val.by_value();
                quote!(w.write_bool(#v)?;)
            }
            Type::I8 => {
                let v = val.by_value();
                quote!(w.write_i8(#v)?;)
            }
            Type::I16 => {
                let v = val.by_value();
                quote!(w.write_i16(#v)?;)
            }
            Type::I32 => {
                let v = val.by_value();
                quote!(w.write_i32(#v)?;)
            }
            Type::I64 => {
                let v = val.by_value();
                quote!(w.write_i64(#v)?;)
            }
            Type::Double if key => {
                let v = val.expr();
                quote!(w.write_double(#v.0)?;)
            }
            Type::Double => {
                let v = val.by_value();
                quote!(w.write_double(#v)?;)
            }
            Type::String => {
                let v = val.by_ref();
                quote!(w.write_string(#v)?;)
            }
            Type::Binary => {
                let v = val.by_ref();
                quote!(w.write_bytes(#v)?;)
            }
            Type::Uuid => {
                let v = val.by_ref();
                quote!(w.write_uuid(#v)?;)
            }
            Type::Enum(_) => {
                let v = val.expr();
                quote!(w.write_i32(#v.0)?;)
            }
            Type::Struct(_) => {
                let v = val.by_ref();
                quote!(::mosaic_runtime::Struct::encode(#v, w)?;)
            }
            Type::List(e) | Type::Set(e) => {
                let (begin, end, elem_key) = match ty {
                    Type::List(_) => (quote!(write_list_begin), quote!(write_list_end), key),
                    _ => (quote!(write_set_begin), quote!(write_set_end), true),
                };
                let tt = self.ttype(e);
                let v = val.expr();
                let items = val.by_ref();
                let e_var = var("e", depth);
                let inner = self.encode(e, elem_key, &Val::Ref(quote!(#e_var)), depth + 1);
                quote! {
                    w.#begin(#tt, #v.len())?;
                    for #e_var in #items {
                        #inner
                    }
                    w.#end()?;
                }
            }
            Type::Map(k, v) => {
                let ktt = self.ttype(k);
                let vtt = self.ttype(v);
                let m = val.expr();
                let items = val.by_ref();
                let k_var = var("k", depth);
                let v_var = var("v", depth);
                let kenc = self.encode(k, true, &Val::Ref(quote!(#k_var)), depth + 1);
                let venc = self.encode(v, key, &Val::Ref(quote!(#v_var)), depth + 1);
                quote! {
                    w.write_map_begin(#ktt, #vtt, #m.len())?;
                    for (#k_var, #v_var) in #items {
                        #kenc
                        #venc
                    }
                    w.write_map_end()?;
                }
            }
        }
    }

    /// An expression that reads a value of type `ty` with `r`. For containers it clears a
    /// `bool` named `ok` in scope when element types do not match (the value is then partial).
    pub(crate) fn decode(&self, scope: Scope, ty: &Type, key: bool, depth: usize) -> TokenStream {
        match ty {
            Type::Typedef(id) => {
                let target = &self.program.typedef(*id).target;
                self.decode(scope, target, key, depth)
            }
            Type::Bool => quote!(r.read_bool()?),
            Type::I8 => quote!(r.read_i8()?),
            Type::I16 => quote!(r.read_i16()?),
            Type::I32 => quote!(r.read_i32()?),
            Type::I64 => quote!(r.read_i64()?),
            Type::Double if key => quote!(::mosaic_runtime::OrderedF64(r.read_double()?)),
            Type::Double => quote!(r.read_double()?),
            Type::String => quote!(r.read_string()?),
            Type::Binary => quote!(r.read_binary()?),
            Type::Uuid => quote!(r.read_uuid()?),
            Type::Enum(_) => {
                let path = self.rust_type(scope, ty, key);
                quote!(#path(r.read_i32()?))
            }
            Type::Struct(_) => {
                let path = self.rust_type(scope, ty, key);
                quote!(<#path as ::mosaic_runtime::Struct>::decode(r)?)
            }
            Type::List(e) => {
                let h = var("h", depth);
                let items = var("items", depth);
                let elem = self.decode(scope, e, key, depth + 1);
                let ett = self.ttype(e);
                quote! {{
                    let #h = ::mosaic_runtime::protocol::read_list_of(r, #ett, &mut ok)?;
                    let mut #items = ::std::vec::Vec::with_capacity(#h.len);
                    for _ in 0..#h.len {
                        #items.push(#elem);
                    }
                    r.read_list_end()?;
                    #items
                }}
            }
            Type::Set(e) => {
                let h = var("h", depth);
                let items = var("items", depth);
                let elem = self.decode(scope, e, true, depth + 1);
                let ett = self.ttype(e);
                quote! {{
                    let #h = ::mosaic_runtime::protocol::read_set_of(r, #ett, &mut ok)?;
                    let mut #items = ::std::collections::BTreeSet::new();
                    for _ in 0..#h.len {
                        #items.insert(#elem);
                    }
                    r.read_set_end()?;
                    #items
                }}
            }
            Type::Map(k, v) => {
                let h = var("h", depth);
                let items = var("items", depth);
                let kdec = self.decode(scope, k, true, depth + 1);
                let vdec = self.decode(scope, v, key, depth + 1);
                let ktt = self.ttype(k);
                let vtt = self.ttype(v);
                quote! {{
                    let #h = ::mosaic_runtime::protocol::read_map_of(r, #ktt, #vtt, &mut ok)?;
                    let mut #items = ::std::collections::BTreeMap::new();
                    for _ in 0..#h.len {
                        let key = #kdec;
                        let value = #vdec;
                        #items.insert(key, value);
                    }
                    r.read_map_end()?;
                    #items
                }}
            }
        }
    }
}
