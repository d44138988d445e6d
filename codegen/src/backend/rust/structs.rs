//! Structs, exceptions and unions: the type, its `Struct` codec, `Default`, ordering, and for
//! exceptions `Display` + `Error`.
//!
//! The same code serves user types and the argument and result structs of service methods
//! ([`Record`] describes either).
//!
//! Wire rules, as Apache's runtimes have them:
//! - a field is decoded only when its id and wire type both match, and for containers their
//!   element types too (see `codec`); anything else is skipped, so newer peers' fields and
//!   mistyped fields are ignored;
//! - `required` fields are plain `T` and fail decoding with `ProtocolError::missing_field`
//!   when absent;
//! - default-requiredness and `optional` fields are `Option<T>` and keep presence: absent
//!   decodes to `None` (to `Some(IDL default)` for a default-requiredness field that has one,
//!   as Apache's Python and Rust runtimes read it), and only `Some` is written, so a struct
//!   echoed back carries exactly the fields that arrived;
//! - `Default` is Thrift's "req-out": default-requiredness fields are `Some(IDL default)` or
//!   `Some(zero)`, so a struct built by hand writes them, as Apache's C++ and Java do. Fields
//!   that cannot have such a value stay `None`: recursive ones (`Option<Box<T>>`) and those of
//!   union type. `optional` fields are `None` unless the IDL gives a default;
//! - the argument structs of service methods are the exception: their fields are plain `T`
//!   (handlers take plain arguments), and a missing argument decodes to its zero value (or
//!   IDL default), as Apache's servers do;
//! - a union is written as its one field (the last one wins when several arrive). A field
//!   id this code does not know (a newer peer's member) decodes to the extra variant `Unknown(id)`,
//!   so a server can answer "unsupported" instead of failing the whole call; that variant
//!   cannot be written. Decoding fails with `ProtocolError::bad_union` only when no field
//!   was present at all.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{self, Requiredness, StructId, StructKind, Type};

use super::codec::Val;
use super::consts::{contains_approx_constant, wrap};
use super::docs::doc_attrs;
use super::ident::{ident, unraw};
use super::names::UNION_UNKNOWN;
use super::shapes::{is_union, is_zero_value, Repr};
use super::types::{complexity_allow, Scope};
use super::Cx;

/// A struct-like type to generate.
pub(crate) struct Record<'a> {
    /// The IDL name, for error messages.
    pub idl_name: &'a str,
    /// The Rust name (escaped).
    pub name: String,
    pub kind: StructKind,
    pub members: Vec<Member<'a>>,
    pub scope: Scope,
}

/// A field of a [`Record`].
pub(crate) struct Member<'a> {
    pub field: &'a ir::Field,
    /// The Rust field or variant name (escaped).
    pub name: String,
    pub repr: Repr,
}

impl Member<'_> {
    /// The local that holds the field while decoding: `f_` and the unescaped name.
    fn local(&self) -> proc_macro2::Ident {
        proc_macro2::Ident::new(
            &format!("f_{}", unraw(&self.name)),
            proc_macro2::Span::call_site(),
        )
    }
}

impl Cx<'_> {
    /// The record for user struct `id`.
    pub(crate) fn user_record(&self, id: StructId) -> Record<'_> {
        let s = self.program.struct_(id);
        let names = self.names.struct_(id);
        Record {
            idl_name: &s.name,
            name: names.name.clone(),
            kind: s.kind,
            members: s
                .fields
                .iter()
                .enumerate()
                .map(|(i, field)| Member {
                    field,
                    name: names.members[i].clone(),
                    repr: self.shapes.field_repr(self.program, id, i),
                })
                .collect(),
            scope: Scope::top(s.file),
        }
    }

    /// Every item for user struct, union or exception `id`.
    pub(crate) fn struct_items(&self, id: StructId) -> TokenStream {
        let s = self.program.struct_(id);
        let record = self.user_record(id);
        let caps = self.shapes.caps(id);
        let ordered = self.shapes.is_ordered(id);
        let manual_ord = ordered && !self.shapes.derives_ord(self.program, id);
        let default_derived = record
            .members
            .iter()
            .all(|m| self.default_init(record.scope, m).is_none());

        let mut derives = vec![quote!(Clone), quote!(Debug)];
        if s.kind != StructKind::Union && default_derived {
            derives.push(quote!(Default));
        }
        if !manual_ord {
            derives.push(quote!(PartialEq));
            if caps.eq {
                derives.push(quote!(Eq));
            }
        }
        if caps.hash {
            derives.push(quote!(Hash));
        }
        if ordered && !manual_ord {
            derives.extend([quote!(PartialOrd), quote!(Ord)]);
        }

        let doc = doc_attrs(s.doc.as_deref());
        let attrs = quote!(#doc #[derive(#(#derives),*)]);
        let def = match s.kind {
            StructKind::Union => self.union_def(&record, attrs),
            _ => self.struct_def(&record, attrs),
        };
        let codec = match s.kind {
            StructKind::Union => self.union_codec(&record),
            _ => self.struct_codec(&record),
        };
        let default = if s.kind != StructKind::Union && !default_derived {
            self.default_impl(&record)
        } else {
            TokenStream::new()
        };
        let order = if manual_ord {
            self.manual_ord(&record)
        } else if ordered {
            total_ord_via_ord(&record.name)
        } else {
            TokenStream::new()
        };
        let exception = if s.kind == StructKind::Exception {
            exception_impls(self.program, &record)
        } else {
            TokenStream::new()
        };
        quote!(#def #codec #default #order #exception)
    }

    /// `pub struct Name { pub field: T, ... }`.
    pub(crate) fn struct_def(&self, record: &Record<'_>, attrs: TokenStream) -> TokenStream {
        let name = ident(&record.name);
        let allow = complexity_allow(
            record
                .members
                .iter()
                .map(|m| self.complexity(&m.field.ty, m.repr)),
        );
        let fields = record.members.iter().map(|m| {
            let doc = doc_attrs(m.field.doc.as_deref());
            let fname = ident(&m.name);
            let ty = self.member_type(record.scope, &m.field.ty, m.repr);
            quote!(#doc pub #fname: #ty)
        });
        quote! {
            #attrs
            #allow
            pub struct #name {
                #(#fields),*
            }
        }
    }

    /// `pub enum Name { Variant(T), ... }`.
    fn union_def(&self, record: &Record<'_>, attrs: TokenStream) -> TokenStream {
        let name = ident(&record.name);
        let allow = complexity_allow(
            record
                .members
                .iter()
                .map(|m| self.complexity(&m.field.ty, m.repr)),
        );
        let variants = record.members.iter().map(|m| {
            let doc = doc_attrs(m.field.doc.as_deref());
            let vname = ident(&m.name);
            let ty = self.member_type(record.scope, &m.field.ty, m.repr);
            quote!(#doc #vname(#ty),)
        });
        let unknown = ident(UNION_UNKNOWN);
        quote! {
            #attrs
            // Variants are as large as their types; boxing them would cost every user.
            #[allow(clippy::large_enum_variant)]
            #allow
            pub enum #name {
                #(#variants)*
                /// A member this code does not know, sent by a peer with a newer IDL: its field
                /// id. Only ever decoded; writing it fails.
                #unknown(i16),
            }
        }
    }

    /// The `match` arm that decodes member `m` of `record` and stores it with `store`, which
    /// makes an assignment expression of the value. A container is stored only when its
    /// element types matched the IDL's (see `codec`).
    fn decode_arm(
        &self,
        record: &Record<'_>,
        m: &Member<'_>,
        store: impl Fn(TokenStream) -> TokenStream,
    ) -> TokenStream {
        let id = proc_macro2::Literal::i16_unsuffixed(m.field.id);
        let tt = self.ttype(&m.field.ty);
        let value = self.decode_member(record, m);
        if !matches!(
            self.program.true_type(&m.field.ty),
            Type::List(_) | Type::Set(_) | Type::Map(..)
        ) {
            let assign = store(value);
            return quote!((#id, #tt) => #assign,);
        }
        let assign = store(quote!(value));
        quote! {
            (#id, #tt) => {
                let mut ok = true;
                let value = #value;
                if ok {
                    #assign;
                }
            }
        }
    }

    /// The decoded value of member `m`, stored as its repr's inner type (`T` or `Box<T>`).
    fn decode_member(&self, record: &Record<'_>, m: &Member<'_>) -> TokenStream {
        let value = self.decode(record.scope, &m.field.ty, false, 0);
        if m.repr.is_boxed() {
            quote!(::std::boxed::Box::new(#value))
        } else {
            value
        }
    }

    /// Statements that write member `m` held in `val`, field header included.
    fn encode_member(&self, m: &Member<'_>, val: &Val) -> TokenStream {
        let id = proc_macro2::Literal::i16_unsuffixed(m.field.id);
        let tt = self.ttype(&m.field.ty);
        let body = self.encode(&m.field.ty, false, val, 0);
        quote! {
            w.write_field_begin(#tt, #id)?;
            #body
        }
    }

    /// `impl Struct` for a struct or exception.
    pub(crate) fn struct_codec(&self, record: &Record<'_>) -> TokenStream {
        let name = ident(&record.name);
        let idl_name = record.idl_name;

        let writes = record.members.iter().map(|m| {
            let fname = ident(&m.name);
            if !m.repr.is_option() {
                return self.encode_member(m, &Val::Place(quote!(self.#fname)));
            }
            let v = if m.repr.is_boxed() {
                Val::RefBox(quote!(v))
            } else {
                Val::Ref(quote!(v))
            };
            let write = self.encode_member(m, &v);
            if m.field.requiredness == Requiredness::Required {
                let field_name = &m.field.name;
                quote! {
                    match &self.#fname {
                        Some(v) => { #write }
                        None => {
                            return Err(::mosaic_runtime::ProtocolError::missing_field(#idl_name, #field_name));
                        }
                    }
                }
            } else {
                quote! {
                    if let Some(v) = &self.#fname {
                        #write
                    }
                }
            }
        });

        let locals = record.members.iter().map(|m| {
            let local = m.local();
            quote!(let mut #local = None;)
        });
        let arms = record.members.iter().map(|m| {
            let local = m.local();
            self.decode_arm(record, m, |value| quote!(#local = Some(#value)))
        });
        let inits = record.members.iter().map(|m| {
            let fname = ident(&m.name);
            let value = self.decoded_field(record, m);
            quote!(#fname: #value)
        });
        let read_loop = if record.members.is_empty() {
            quote! {
                while let Some(field) = r.read_field_begin()? {
                    r.skip(field.ty)?;
                }
            }
        } else {
            quote! {
                while let Some(field) = r.read_field_begin()? {
                    match (field.id, field.ty) {
                        #(#arms)*
                        (_, ty) => r.skip(ty)?,
                    }
                }
            }
        };

        let allow = approx_allow(record);
        quote! {
            #allow
            impl ::mosaic_runtime::Struct for #name {
                fn encode<W: ::mosaic_runtime::ProtocolWrite>(
                    &self,
                    w: &mut W,
                ) -> ::std::result::Result<(), ::mosaic_runtime::ProtocolError> {
                    w.write_struct_begin()?;
                    #(#writes)*
                    w.write_field_stop()?;
                    w.write_struct_end()
                }

                fn decode<R: ::mosaic_runtime::ProtocolRead>(
                    r: &mut R,
                ) -> ::std::result::Result<Self, ::mosaic_runtime::ProtocolError> {
                    r.read_struct_begin()?;
                    #(#locals)*
                    #read_loop
                    r.read_struct_end()?;
                    Ok(Self {
                        #(#inits),*
                    })
                }
            }
        }
    }

    /// The value of member `m` after decoding, from its local.
    fn decoded_field(&self, record: &Record<'_>, m: &Member<'_>) -> TokenStream {
        let local = m.local();
        let field = m.field;
        if field.requiredness == Requiredness::Required {
            let idl_name = record.idl_name;
            let field_name = &field.name;
            let missing = quote! {
                #local.ok_or_else(|| ::mosaic_runtime::ProtocolError::missing_field(#idl_name, #field_name))?
            };
            return if m.repr.is_option() {
                quote!(Some(#missing))
            } else {
                missing
            };
        }
        if field.requiredness == Requiredness::Optional {
            // Absent is `None`; an optional field's default is `Default`'s business.
            return quote!(#local);
        }
        match (&field.default, m.repr.is_option()) {
            (None, true) => quote!(#local),
            (Some(value), true) => {
                let expr = self.const_expr(record.scope, &field.ty, value, false);
                let cheap = m.repr == Repr::Option && self.is_cheap(&field.ty, value);
                let expr = wrap(expr, m.repr);
                if cheap {
                    quote!(#local.or(#expr))
                } else {
                    quote!(#local.or_else(|| #expr))
                }
            }
            // Plain default-requiredness members are the arguments of service methods.
            (Some(value), false) if !is_zero_value(value) => {
                let expr = self.const_expr(record.scope, &field.ty, value, false);
                if self.is_cheap(&field.ty, value) {
                    quote!(#local.unwrap_or(#expr))
                } else {
                    quote!(#local.unwrap_or_else(|| #expr))
                }
            }
            (_, false) => quote!(#local.unwrap_or_default()),
        }
    }

    /// `impl Struct` for a union.
    fn union_codec(&self, record: &Record<'_>) -> TokenStream {
        let name = ident(&record.name);
        let idl_name = record.idl_name;
        let unknown = ident(UNION_UNKNOWN);
        let w = if record.members.is_empty() {
            quote!(_w)
        } else {
            quote!(w)
        };
        let write = if record.members.is_empty() {
            // `Unknown` is the only value an empty union has.
            quote! {
                let Self::#unknown(id) = self;
                Err(::mosaic_runtime::ProtocolError::unknown_union_member(#idl_name, *id))
            }
        } else {
            let arms = record.members.iter().map(|m| {
                let vname = ident(&m.name);
                let v = if m.repr.is_boxed() {
                    Val::RefBox(quote!(v))
                } else {
                    Val::Ref(quote!(v))
                };
                let write = self.encode_member(m, &v);
                quote!(Self::#vname(v) => { #write })
            });
            quote! {
                if let Self::#unknown(id) = self {
                    return Err(::mosaic_runtime::ProtocolError::unknown_union_member(#idl_name, *id));
                }
                w.write_struct_begin()?;
                match self {
                    #(#arms)*
                    Self::#unknown(_) => {}
                }
                w.write_field_stop()?;
                w.write_struct_end()
            }
        };
        let read = if record.members.is_empty() {
            quote! {
                let mut unknown = None;
                while let Some(field) = r.read_field_begin()? {
                    r.skip(field.ty)?;
                    unknown = unknown.or(Some(field.id));
                }
                r.read_struct_end()?;
                unknown
                    .map(Self::#unknown)
                    .ok_or_else(|| ::mosaic_runtime::ProtocolError::bad_union(#idl_name, 0))
            }
        } else {
            let arms = record.members.iter().map(|m| {
                let vname = ident(&m.name);
                self.decode_arm(
                    record,
                    m,
                    |value| quote!(found = Some(Self::#vname(#value))),
                )
            });
            // A declared id with another wire type is skipped like a struct's, not unknown.
            let ids = id_pattern(record.members.iter().map(|m| m.field.id));
            let declared = quote!((#ids, ty) => r.skip(ty)?,);
            quote! {
                let mut found = None;
                let mut unknown = None;
                while let Some(field) = r.read_field_begin()? {
                    match (field.id, field.ty) {
                        #(#arms)*
                        #declared
                        (id, ty) => {
                            r.skip(ty)?;
                            unknown = unknown.or(Some(id));
                        }
                    }
                }
                r.read_struct_end()?;
                // A known member wins over one this code cannot read.
                found
                    .or(unknown.map(Self::#unknown))
                    .ok_or_else(|| ::mosaic_runtime::ProtocolError::bad_union(#idl_name, 0))
            }
        };
        quote! {
            impl ::mosaic_runtime::Struct for #name {
                fn encode<W: ::mosaic_runtime::ProtocolWrite>(
                    &self,
                    #w: &mut W,
                ) -> ::std::result::Result<(), ::mosaic_runtime::ProtocolError> {
                    #write
                }

                fn decode<R: ::mosaic_runtime::ProtocolRead>(
                    r: &mut R,
                ) -> ::std::result::Result<Self, ::mosaic_runtime::ProtocolError> {
                    r.read_struct_begin()?;
                    #read
                }
            }
        }
    }

    /// What `Default::default()` gives member `m`, or `None` when that is what a derived
    /// `Default` gives it (`None`, or its type's default).
    fn default_init(&self, scope: Scope, m: &Member<'_>) -> Option<TokenStream> {
        let field = m.field;
        match &field.default {
            Some(v) if m.repr.is_option() || !is_zero_value(v) => {
                Some(wrap(self.const_expr(scope, &field.ty, v, false), m.repr))
            }
            Some(_) => None,
            // Req-out: a default-requiredness field is set, when it has a finite zero value.
            None if field.requiredness == Requiredness::Default
                && m.repr == Repr::Option
                && !is_union(self.program, &field.ty) =>
            {
                Some(quote!(Some(::std::default::Default::default())))
            }
            None => None,
        }
    }

    /// `impl Default` with the IDL's default values.
    fn default_impl(&self, record: &Record<'_>) -> TokenStream {
        let name = ident(&record.name);
        let inits = record.members.iter().map(|m| {
            let fname = ident(&m.name);
            let value = self.default_init(record.scope, m).unwrap_or_else(|| {
                if m.repr.is_option() {
                    quote!(None)
                } else {
                    quote!(::std::default::Default::default())
                }
            });
            quote!(#fname: #value)
        });
        let allow = approx_allow(record);
        quote! {
            #allow
            impl ::std::default::Default for #name {
                fn default() -> Self {
                    Self {
                        #(#inits),*
                    }
                }
            }
        }
    }

    /// `PartialEq`, `Eq`, `PartialOrd`, `Ord` and `TotalOrd` by hand, for ordered types with
    /// `f64` fields: fields compare in declaration order with `TotalOrd` (IEEE total order for
    /// doubles); union variants compare by position first.
    fn manual_ord(&self, record: &Record<'_>) -> TokenStream {
        let name = ident(&record.name);
        let body = if record.kind == StructKind::Union {
            let same = record.members.iter().map(|m| {
                let vname = ident(&m.name);
                quote! {
                    (Self::#vname(a), Self::#vname(b)) => ::mosaic_runtime::TotalOrd::total_cmp(a, b),
                }
            });
            let positions = record.members.iter().enumerate().map(|(i, m)| {
                let vname = ident(&m.name);
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                quote!(#name::#vname(_) => #i,)
            });
            // `Unknown` comes last, as a derived ordering would put it.
            let unknown = ident(UNION_UNKNOWN);
            let last = proc_macro2::Literal::usize_unsuffixed(record.members.len());
            quote! {
                fn position(v: &#name) -> usize {
                    match v {
                        #(#positions)*
                        #name::#unknown(_) => #last,
                    }
                }
                match (self, other) {
                    #(#same)*
                    (Self::#unknown(a), Self::#unknown(b)) => ::std::cmp::Ord::cmp(a, b),
                    _ => ::std::cmp::Ord::cmp(&position(self), &position(other)),
                }
            }
        } else {
            let mut cmps = record.members.iter().map(|m| {
                let fname = ident(&m.name);
                quote!(::mosaic_runtime::TotalOrd::total_cmp(&self.#fname, &other.#fname))
            });
            match cmps.next() {
                Some(first) => quote!(#first #(.then_with(|| #cmps))*),
                None => quote!(::std::cmp::Ordering::Equal),
            }
        };
        quote! {
            impl ::mosaic_runtime::TotalOrd for #name {
                fn total_cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                    #body
                }
            }

            impl ::std::cmp::PartialEq for #name {
                fn eq(&self, other: &Self) -> bool {
                    ::mosaic_runtime::TotalOrd::total_cmp(self, other).is_eq()
                }
            }

            impl ::std::cmp::Eq for #name {}

            impl ::std::cmp::PartialOrd for #name {
                fn partial_cmp(&self, other: &Self) -> ::std::option::Option<::std::cmp::Ordering> {
                    Some(::std::cmp::Ord::cmp(self, other))
                }
            }

            impl ::std::cmp::Ord for #name {
                fn cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                    ::mosaic_runtime::TotalOrd::total_cmp(self, other)
                }
            }
        }
    }
}

/// `TotalOrd` through a derived `Ord`, so that types with hand-written orders can hold this one.
pub(crate) fn total_ord_via_ord(name: &str) -> TokenStream {
    let name = ident(name);
    quote! {
        impl ::mosaic_runtime::TotalOrd for #name {
            fn total_cmp(&self, other: &Self) -> ::std::cmp::Ordering {
                ::std::cmp::Ord::cmp(self, other)
            }
        }
    }
}

/// `Display` (the `message` field when the exception has a string one, the fields otherwise)
/// and `Error`.
fn exception_impls(program: &ir::Program, record: &Record<'_>) -> TokenStream {
    let name = ident(&record.name);
    let type_name = format!("{}: ", unraw(&record.name));
    let message = record.members.iter().find(|m| {
        m.field.name == "message" && matches!(program.true_type(&m.field.ty), Type::String)
    });
    let body = match message {
        Some(m) if !m.repr.is_option() => {
            let fname = ident(&m.name);
            quote! {
                f.write_str(#type_name)?;
                f.write_str(&self.#fname)
            }
        }
        Some(m) => {
            let fname = ident(&m.name);
            quote! {
                match &self.#fname {
                    Some(message) => {
                        f.write_str(#type_name)?;
                        f.write_str(message)
                    }
                    None => ::std::fmt::Debug::fmt(self, f),
                }
            }
        }
        None => quote!(::std::fmt::Debug::fmt(self, f)),
    };
    quote! {
        impl ::std::fmt::Display for #name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #body
            }
        }

        impl ::std::error::Error for #name {}
    }
}

impl Cx<'_> {
    /// Whether the expression for a default is literals and constructors only (no calls, no
    /// allocation), so that clippy asks for `unwrap_or` / `or` rather than a closure.
    fn is_cheap(&self, ty: &Type, value: &ir::ConstValue) -> bool {
        let p = self.program;
        match (p.true_type(ty), value) {
            (Type::String | Type::Binary | Type::List(_) | Type::Set(_) | Type::Map(..), _) => {
                false
            }
            (Type::Struct(id), ir::ConstValue::Struct(_, given)) => {
                let s = p.struct_(*id);
                let all_given = s
                    .fields
                    .iter()
                    .all(|f| given.iter().any(|(g, _)| *g == f.id));
                // A struct literal that leaves fields out calls `Default::default()`.
                (s.kind == StructKind::Union || all_given)
                    && given.iter().all(|(fid, v)| {
                        let Some(i) = s.fields.iter().position(|f| f.id == *fid) else {
                            return true;
                        };
                        // `Some` is a constructor, `Box::new` a call.
                        !self.shapes.field_repr(p, *id, i).is_boxed()
                            && self.is_cheap(&s.fields[i].ty, v)
                    })
            }
            _ => true,
        }
    }
}

/// `#[allow(clippy::approx_constant)]` for code that spells out IDL defaults with doubles:
/// the IDL's numbers are what they are, even when one is close to `PI`.
fn approx_allow(record: &Record<'_>) -> TokenStream {
    let doubles = record.members.iter().any(|m| {
        m.field
            .default
            .as_ref()
            .is_some_and(contains_approx_constant)
    });
    if doubles {
        quote!(#[allow(clippy::approx_constant)])
    } else {
        TokenStream::new()
    }
}

/// A pattern matching exactly `ids`: runs of consecutive ids as ranges (`1..=5 | 9`).
fn id_pattern(ids: impl Iterator<Item = i16>) -> TokenStream {
    let mut ids: Vec<i16> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    let mut runs: Vec<(i16, i16)> = Vec::new();
    for id in ids {
        match runs.last_mut() {
            Some((_, end)) if i32::from(*end) + 1 == i32::from(id) => *end = id,
            _ => runs.push((id, id)),
        }
    }
    let alternatives = runs.into_iter().map(|(start, end)| {
        let (a, b) = (
            proc_macro2::Literal::i16_unsuffixed(start),
            proc_macro2::Literal::i16_unsuffixed(end),
        );
        if start == end {
            quote!(#a)
        } else {
            quote!(#a..=#b)
        }
    });
    quote!(#(#alternatives)|*)
}
