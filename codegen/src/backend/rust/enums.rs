//! Enums as open newtypes over `i32`, so that a value from a newer peer survives a round trip:
//! `pub struct Numberz(pub i32)` with one associated constant per IDL value
//! (`Numberz::ONE`), `name` / `from_name`, and a `Debug` that prints the name or the number.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::ir::EnumId;

use super::docs::{doc_attrs, doc_text};
use super::ident::{ident, unraw};
use super::structs::total_ord_via_ord;
use super::Cx;

impl Cx<'_> {
    pub(crate) fn enum_items(&self, id: EnumId) -> TokenStream {
        let e = self.program.enum_(id);
        let names = self.names.enum_(id);
        let name = ident(&names.name);
        let doc = doc_attrs(e.doc.as_deref());

        let consts = e.values.iter().zip(&names.values).map(|(v, n)| {
            let doc = doc_attrs(v.doc.as_deref());
            let n = ident(n);
            let value = Literal::i32_unsuffixed(v.value);
            quote!(#doc pub const #n: Self = Self(#value);)
        });
        let lowercase = names
            .values
            .iter()
            .any(|n| unraw(n).chars().any(|c| c.is_ascii_lowercase()));
        let allow = if lowercase {
            // Value names are kept as the IDL writes them.
            quote!(#[allow(non_upper_case_globals)])
        } else {
            TokenStream::new()
        };

        // The first name for each number: IDL enums may give one number two names.
        let mut seen = Vec::new();
        let name_arms: Vec<TokenStream> = e
            .values
            .iter()
            .filter(|v| {
                let fresh = !seen.contains(&v.value);
                seen.push(v.value);
                fresh
            })
            .map(|v| {
                let value = Literal::i32_unsuffixed(v.value);
                let text = &v.name;
                quote!(#value => Some(#text),)
            })
            .collect();
        let from_arms = e.values.iter().zip(&names.values).map(|(v, n)| {
            let n = ident(n);
            let text = &v.name;
            quote!(#text => Some(Self::#n),)
        });
        let (name_body, from_body, from_param) = if e.values.is_empty() {
            (quote!(None), quote!(None), quote!(_name))
        } else {
            (
                quote! {
                    match self.0 {
                        #(#name_arms)*
                        _ => None,
                    }
                },
                quote! {
                    match name {
                        #(#from_arms)*
                        _ => None,
                    }
                },
                quote!(name),
            )
        };
        let total_ord = if self.shapes.is_ordered_enum(id) {
            total_ord_via_ord(&names.name)
        } else {
            TokenStream::new()
        };
        let name_doc = doc_text(
            "The IDL name of this value, or `None` for a number this version does not name.",
        );
        let from_doc = doc_text("The value with this IDL name.");

        quote! {
            #doc
            #[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct #name(pub i32);

            #allow
            impl #name {
                #(#consts)*

                #name_doc
                pub fn name(self) -> ::std::option::Option<&'static str> {
                    #name_body
                }

                #from_doc
                pub fn from_name(#from_param: &str) -> ::std::option::Option<Self> {
                    #from_body
                }
            }

            impl ::std::fmt::Debug for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    match self.name() {
                        Some(name) => f.write_str(name),
                        None => ::std::fmt::Debug::fmt(&self.0, f),
                    }
                }
            }

            impl ::std::convert::From<i32> for #name {
                fn from(value: i32) -> Self {
                    Self(value)
                }
            }

            impl ::std::convert::From<#name> for i32 {
                fn from(value: #name) -> Self {
                    value.0
                }
            }

            #total_ord
        }
    }
}
