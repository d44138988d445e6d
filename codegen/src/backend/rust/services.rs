//! Services: for `service ThriftTest`,
//! - `trait ThriftTest`: one async method per function, implemented by handlers
//!   (`extends` becomes a supertrait);
//! - `enum TestExceptionError`: per function with `throws`, one variant per declared
//!   exception and `Other(mosaic_runtime::Error)`;
//! - `struct ThriftTestService<H>`: the dispatcher, a `mosaic_runtime::Service` that decodes
//!   each call, runs the handler and encodes its result;
//! - `struct ThriftTestClient`: a typed client, with every inherited method too;
//! - `mod __thrift_test` (hidden): the argument and result structs of each function.

use proc_macro2::TokenStream;
use quote::quote;

use crate::ir::{self, Function, Requiredness, ServiceId, StructKind, Type};

use super::docs::{doc_attrs, doc_text};
use super::ident::{ident, unraw};
use super::names::FunctionNames;
use super::shapes::{is_union, Repr};
use super::structs::{Member, Record};
use super::types::{complexity_allow, Scope};
use super::Cx;

/// A function as seen from one scope: where it is declared and what its names are.
struct Method<'a> {
    owner: ServiceId,
    function: &'a Function,
    names: &'a FunctionNames,
}

impl Cx<'_> {
    fn method<'a>(&'a self, owner: ServiceId, function: &'a Function) -> Method<'a> {
        let index = self
            .program
            .service(owner)
            .functions
            .iter()
            .position(|g| std::ptr::eq(g, function))
            .unwrap_or(0);
        Method {
            owner,
            function,
            names: &self.names.service(owner).functions[index],
        }
    }

    /// Every item for service `id`.
    pub(crate) fn service_items(&self, id: ServiceId) -> TokenStream {
        let service = self.program.service(id);
        let own: Vec<Method<'_>> = service
            .functions
            .iter()
            .map(|f| self.method(id, f))
            .collect();
        let errors = own.iter().map(|m| self.error_enum(id, m));
        let server = if self.options.server {
            let t = self.handler_trait(id, &own);
            let d = self.dispatcher(id);
            quote!(#t #d)
        } else {
            TokenStream::new()
        };
        let client = if self.options.client {
            self.client(id)
        } else {
            TokenStream::new()
        };
        let module = self.wire_module(id, &own);
        quote!(#server #(#errors)* #client #module)
    }

    /// How an argument is stored: plain `T` unless `optional` or of union type, so that
    /// handlers and clients take plain values (arguments have default requiredness, but a
    /// missing one decodes to its zero value, as Apache's servers have it); never boxed
    /// (arguments cannot recurse).
    fn arg_repr(&self, arg: &ir::Field) -> Repr {
        if arg.requiredness == Requiredness::Optional || is_union(self.program, &arg.ty) {
            Repr::Option
        } else {
            Repr::Plain
        }
    }

    /// `(name: Type, ...)` parameters of a method.
    fn params(&self, scope: Scope, m: &Method<'_>) -> Vec<TokenStream> {
        m.function
            .args
            .iter()
            .zip(&m.names.arg_fields)
            .map(|(a, n)| {
                let n = ident(n);
                let ty = self.member_type(scope, &a.ty, self.arg_repr(a));
                quote!(#n: #ty)
            })
            .collect()
    }

    fn success_type(&self, scope: Scope, f: &Function) -> TokenStream {
        match &f.returns {
            Some(t) => self.rust_type(scope, t, false),
            None => quote!(()),
        }
    }

    /// The error type of a method: its error enum, or the runtime's error.
    fn error_type(&self, scope: Scope, m: &Method<'_>) -> TokenStream {
        match &m.names.error {
            Some(e) => self.path(scope, self.program.service(m.owner).file, e),
            None => quote!(::mosaic_runtime::Error),
        }
    }

    /// The path from `scope` to a struct in the owner's hidden module.
    fn wire_path(&self, scope: Scope, owner: ServiceId, name: &str) -> TokenStream {
        let module = self.path(
            scope,
            self.program.service(owner).file,
            &self.names.service(owner).module,
        );
        let name = ident(name);
        quote!(#module::#name)
    }

    fn handler_trait(&self, id: ServiceId, own: &[Method<'_>]) -> TokenStream {
        let service = self.program.service(id);
        let scope = Scope::top(service.file);
        let names = self.names.service(id);
        let name = ident(&names.trait_);
        let supertrait = match service.extends {
            Some(parent) => {
                let p = self.program.service(parent);
                self.path(scope, p.file, &self.names.service(parent).trait_)
            }
            None => quote!(::std::marker::Send + ::std::marker::Sync + 'static),
        };
        let methods = own.iter().map(|m| {
            let doc = doc_attrs(m.function.doc.as_deref());
            let method = ident(&m.names.method);
            let params = self.params(scope, m);
            let allow = self.signature_allows(m);
            let ok = self.success_type(scope, m.function);
            let err = self.error_type(scope, m);
            quote! {
                #doc
                #allow
                fn #method(&self, #(#params),*) -> impl ::std::future::Future<
                    Output = ::std::result::Result<#ok, #err>,
                > + ::std::marker::Send;
            }
        });
        let doc = doc_attrs(service.doc.as_deref());
        let how = doc_text(&format!(
            "Implement this for a handler (`async fn` works for each method) and serve it\n\
             with [`{}`].",
            unraw(&names.server)
        ));
        let gap = if service.doc.is_some() {
            quote!(#[doc = ""])
        } else {
            TokenStream::new()
        };
        quote! {
            #doc
            #gap
            #how
            pub trait #name: #supertrait {
                #(#methods)*
            }
        }
    }

    fn error_enum(&self, id: ServiceId, m: &Method<'_>) -> TokenStream {
        let Some(error) = &m.names.error else {
            return TokenStream::new();
        };
        let scope = Scope::top(self.program.service(id).file);
        let name = ident(error);
        let throws = &m.function.throws;
        let variants: Vec<_> = m.names.error_variants.iter().map(|v| ident(v)).collect();
        let types: Vec<_> = throws
            .iter()
            .map(|t| self.rust_type(scope, &t.ty, false))
            .collect();
        let docs = throws.iter().map(|t| doc_attrs(t.doc.as_deref()));
        // `From` for each exception type that only one variant holds.
        let froms = throws
            .iter()
            .zip(&variants)
            .zip(&types)
            .filter_map(|((t, v), ty)| {
                let target = self.program.true_type(&t.ty);
                let holders = throws
                    .iter()
                    .filter(|o| self.program.true_type(&o.ty) == target)
                    .count();
                let first = throws
                    .iter()
                    .position(|o| self.program.true_type(&o.ty) == target)
                    .is_some_and(|i| std::ptr::eq(&throws[i], t));
                (holders == 1 && first).then(|| {
                    quote! {
                        impl ::std::convert::From<#ty> for #name {
                            fn from(e: #ty) -> Self {
                                Self::#v(e)
                            }
                        }
                    }
                })
            });
        let displays = throws.iter().zip(&variants).map(|(t, v)| {
            if self.is_exception(&t.ty) {
                quote!(Self::#v(e) => ::std::fmt::Display::fmt(e, f),)
            } else {
                quote!(Self::#v(e) => ::std::fmt::Debug::fmt(e, f),)
            }
        });
        let sources = throws.iter().zip(&variants).map(|(t, v)| {
            if self.is_exception(&t.ty) {
                quote!(Self::#v(e) => ::std::error::Error::source(e),)
            } else {
                quote!(Self::#v(_) => None,)
            }
        });
        let doc = doc_text(&format!(
            "The error of `{}`: an exception it declares, or [`Other`](Self::Other)\n\
             for any other failure.",
            m.function.name
        ));
        quote! {
            #doc
            #[derive(Debug)]
            // The variants hold the exceptions by value, as handlers build them.
            #[allow(clippy::large_enum_variant)]
            pub enum #name {
                #(#docs #variants(#types),)*
                /// A failure the method does not declare: transport, protocol, deadline, or an
                /// application exception.
                Other(::mosaic_runtime::Error),
            }

            #(#froms)*

            impl ::std::convert::From<::mosaic_runtime::Error> for #name {
                fn from(e: ::mosaic_runtime::Error) -> Self {
                    Self::Other(e)
                }
            }

            impl ::std::fmt::Display for #name {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    match self {
                        #(#displays)*
                        Self::Other(e) => ::std::fmt::Display::fmt(e, f),
                    }
                }
            }

            impl ::std::error::Error for #name {
                fn source(&self) -> ::std::option::Option<&(dyn ::std::error::Error + 'static)> {
                    match self {
                        #(#sources)*
                        Self::Other(e) => ::std::error::Error::source(e),
                    }
                }
            }
        }
    }

    fn is_exception(&self, ty: &Type) -> bool {
        matches!(self.program.true_type(ty), Type::Struct(s) if self.program.struct_(*s).kind == StructKind::Exception)
    }

    fn dispatcher(&self, id: ServiceId) -> TokenStream {
        let service = self.program.service(id);
        let scope = Scope::top(service.file);
        let names = self.names.service(id);
        let name = ident(&names.server);
        let trait_ = ident(&names.trait_);
        let idl_name = &service.name;
        let arms: Vec<TokenStream> = self
            .program
            .all_functions(id)
            .into_iter()
            .map(|(owner, f)| {
                let m = self.method(owner, f);
                self.dispatch_arm(scope, &m)
            })
            .collect();
        let dispatch = if arms.is_empty() {
            quote!(call.unknown_method())
        } else {
            quote! {
                match call.method() {
                    #(#arms)*
                    _ => call.unknown_method(),
                }
            }
        };
        let doc = doc_text(&format!(
            "Serves a [`{trait_}`] handler: decodes each call, runs the handler's method\n\
             and encodes its result. Register it with a `mosaic_runtime::Server`; its\n\
             multiplexed name is `{idl_name}`.",
            trait_ = unraw(&names.trait_),
        ));
        quote! {
            #doc
            pub struct #name<H>(::std::sync::Arc<H>);

            impl<H: #trait_> #name<H> {
                /// Serves `handler`.
                pub fn new(handler: H) -> Self {
                    Self(::std::sync::Arc::new(handler))
                }

                /// Serves a handler that is shared with other code.
                pub fn from_arc(handler: ::std::sync::Arc<H>) -> Self {
                    Self(handler)
                }
            }

            impl<H> ::std::clone::Clone for #name<H> {
                fn clone(&self) -> Self {
                    Self(::std::sync::Arc::clone(&self.0))
                }
            }

            impl<H: #trait_> ::mosaic_runtime::Service for #name<H> {
                fn name(&self) -> &'static str {
                    #idl_name
                }

                fn call(&self, call: ::mosaic_runtime::Call) -> ::mosaic_runtime::CallFuture {
                    #dispatch
                }
            }
        }
    }

    fn dispatch_arm(&self, scope: Scope, m: &Method<'_>) -> TokenStream {
        let f = m.function;
        let wire_name = &f.name;
        let owner = self.program.service(m.owner);
        let trait_path = self.path(scope, owner.file, &self.names.service(m.owner).trait_);
        let method = ident(&m.names.method);
        let args_ty = self.wire_path(scope, m.owner, &m.names.args);
        let decode = if f.args.is_empty() {
            quote! {
                if let Err(e) = call.decode::<#args_ty>() {
                    return call.protocol_error(e);
                }
            }
        } else {
            quote! {
                let args = match call.decode::<#args_ty>() {
                    Ok(args) => args,
                    Err(e) => return call.protocol_error(e),
                };
            }
        };
        let values = m.names.arg_fields.iter().map(|a| {
            let a = ident(a);
            quote!(args.#a)
        });
        let invoke = quote!(<H as #trait_path>::#method(&handler, #(#values),*).await);
        let body = if f.oneway {
            quote! {
                // A oneway call has no reply that could carry a failure.
                let _ = #invoke;
                ::mosaic_runtime::Reply::none()
            }
        } else {
            let result_ty = self.wire_path(scope, m.owner, &m.names.result);
            let field_count = usize::from(f.returns.is_some()) + f.throws.len();
            let with = |field: TokenStream| {
                if field_count > 1 {
                    quote!(#result_ty { #field, ..::std::default::Default::default() })
                } else {
                    quote!(#result_ty { #field })
                }
            };
            let ok = match &f.returns {
                Some(_) => {
                    let success = ident(&m.names.success);
                    let value = with(quote!(#success: Some(success)));
                    quote!(Ok(success) => call.reply(&#value),)
                }
                None if field_count == 0 => quote!(Ok(()) => call.reply(&#result_ty {}),),
                None => quote! {
                    Ok(()) => call.reply(&<#result_ty as ::std::default::Default>::default()),
                },
            };
            match &m.names.error {
                None => quote! {
                    match #invoke {
                        #ok
                        Err(e) => call.error(&e),
                    }
                },
                Some(error) => {
                    let error = self.path(scope, owner.file, error);
                    let arms = m
                        .names
                        .error_variants
                        .iter()
                        .zip(&m.names.throws_fields)
                        .map(|(v, field)| {
                            let v = ident(v);
                            let field = ident(field);
                            let value = with(quote!(#field: Some(e)));
                            quote!(Err(#error::#v(e)) => call.reply(&#value),)
                        });
                    quote! {
                        match #invoke {
                            #ok
                            #(#arms)*
                            Err(#error::Other(e)) => call.error(&e),
                        }
                    }
                }
            }
        };
        quote! {
            #wire_name => {
                #decode
                let handler = ::std::sync::Arc::clone(&self.0);
                ::std::boxed::Box::pin(async move {
                    #body
                })
            }
        }
    }

    fn client(&self, id: ServiceId) -> TokenStream {
        let service = self.program.service(id);
        let scope = Scope::top(service.file);
        let names = self.names.service(id);
        let name = ident(&names.client);
        let idl_name = &service.name;
        let methods: Vec<TokenStream> = self
            .program
            .all_functions(id)
            .into_iter()
            .map(|(owner, f)| self.client_method(scope, &self.method(owner, f)))
            .collect();
        let unused = if methods.is_empty() {
            // A service without functions leaves its client nothing to call.
            quote!(#[allow(dead_code)])
        } else {
            TokenStream::new()
        };
        let doc = doc_text(&format!(
            "A typed client for the `{idl_name}` service, over a shared\n\
             [`mosaic_runtime::Client`] (cheap to clone).\n\n\
             Each method sends one call and waits for its reply. Cancel safety: dropping\n\
             the future abandons the call, which the server may still run."
        ));
        let multiplexed_doc = doc_text(&format!(
            "A client for a server that multiplexes services: calls go to `{idl_name}:method`."
        ));
        quote! {
            #doc
            #[derive(Clone, Debug)]
            #unused
            pub struct #name {
                client: ::mosaic_runtime::Client,
                service: ::std::option::Option<&'static str>,
            }

            impl #name {
                /// A client for a server that serves this service alone (no multiplexing).
                pub fn new(client: ::mosaic_runtime::Client) -> Self {
                    Self { client, service: None }
                }

                #multiplexed_doc
                pub fn multiplexed(client: ::mosaic_runtime::Client) -> Self {
                    Self { client, service: Some(#idl_name) }
                }

                #(#methods)*
            }
        }
    }

    fn client_method(&self, scope: Scope, m: &Method<'_>) -> TokenStream {
        let f = m.function;
        let wire_name = &f.name;
        let doc = doc_attrs(f.doc.as_deref());
        let method = ident(&m.names.method);
        let params = self.params(scope, m);
        let allow = self.signature_allows(m);
        let ok = self.success_type(scope, f);
        let err = self.error_type(scope, m);
        let args_ty = self.wire_path(scope, m.owner, &m.names.args);
        let fields = m.names.arg_fields.iter().map(|a| ident(a));
        let args = quote!(&#args_ty { #(#fields),* });
        if f.oneway {
            return quote! {
                #doc
                #allow
                pub async fn #method(&self, #(#params),*) -> ::std::result::Result<(), ::mosaic_runtime::Error> {
                    self.client.oneway(self.service, #wire_name, #args).await
                }
            };
        }
        let result_ty = self.wire_path(scope, m.owner, &m.names.result);
        let message = format!("{wire_name} failed: unknown result");
        let missing = quote! {
            ::mosaic_runtime::Error::Application(::mosaic_runtime::ApplicationException::new(
                ::mosaic_runtime::ApplicationExceptionKind::MISSING_RESULT,
                #message,
            ))
        };
        let success = ident(&m.names.success);
        let exceptions: Vec<TokenStream> = match &m.names.error {
            None => Vec::new(),
            Some(error) => {
                let error = self.path(scope, self.program.service(m.owner).file, error);
                m.names
                    .error_variants
                    .iter()
                    .zip(&m.names.throws_fields)
                    .map(|(v, field)| {
                        let v = ident(v);
                        let field = ident(field);
                        quote! {
                            if let Some(e) = result.#field {
                                return Err(#error::#v(e));
                            }
                        }
                    })
                    .collect()
            }
        };
        let missing = match &m.names.error {
            Some(error) => {
                let error = self.path(scope, self.program.service(m.owner).file, error);
                quote!(#error::Other(#missing))
            }
            None => missing,
        };
        let finish = match &f.returns {
            Some(_) if exceptions.is_empty() => quote! {
                match result.#success {
                    Some(success) => Ok(success),
                    None => Err(#missing),
                }
            },
            Some(_) => quote! {
                if let Some(success) = result.#success {
                    return Ok(success);
                }
                #(#exceptions)*
                Err(#missing)
            },
            None if exceptions.is_empty() => {
                return quote! {
                    #doc
                    #allow
                    pub async fn #method(&self, #(#params),*) -> ::std::result::Result<#ok, #err> {
                        let _: #result_ty = self.client.call(self.service, #wire_name, #args).await?;
                        Ok(())
                    }
                };
            }
            None => quote! {
                #(#exceptions)*
                Ok(())
            },
        };
        quote! {
            #doc
            #allow
            pub async fn #method(&self, #(#params),*) -> ::std::result::Result<#ok, #err> {
                let result: #result_ty = self.client.call(self.service, #wire_name, #args).await?;
                #finish
            }
        }
    }

    /// The hidden module with each function's argument and result structs.
    fn wire_module(&self, id: ServiceId, own: &[Method<'_>]) -> TokenStream {
        if own.is_empty() {
            return TokenStream::new();
        }
        let service = self.program.service(id);
        let scope = Scope::top(service.file).nested();
        let module = ident(&self.names.service(id).module);
        let items = own.iter().map(|m| self.wire_structs(scope, m));
        let doc = doc_text(&format!(
            "The argument and result structs of `{}`'s methods, as they travel.",
            service.name
        ));
        quote! {
            #doc
            #[doc(hidden)]
            pub mod #module {
                #(#items)*
            }
        }
    }

    fn wire_structs(&self, scope: Scope, m: &Method<'_>) -> TokenStream {
        let f = m.function;
        let args = Record {
            idl_name: &m.names.args,
            name: m.names.args.clone(),
            kind: StructKind::Struct,
            members: f
                .args
                .iter()
                .zip(&m.names.arg_fields)
                .map(|(field, name)| Member {
                    field,
                    name: name.clone(),
                    repr: self.arg_repr(field),
                })
                .collect(),
            scope,
        };
        let args_doc = doc_text(&format!("The arguments of `{}`.", f.name));
        let args_attrs = quote!(#args_doc #[derive(Debug, Default)]);
        let args_def = self.struct_def(&args, args_attrs);
        let args_codec = self.struct_codec(&args);
        if f.oneway {
            return quote!(#args_def #args_codec);
        }

        // The result struct: `success` (field 0) unless void, then each declared exception,
        // all optional: exactly one is set on the wire.
        let mut fields: Vec<ir::Field> = Vec::new();
        if let Some(ret) = &f.returns {
            fields.push(synthetic_field(0, "success", ret.clone()));
        }
        for t in &f.throws {
            let mut t = t.clone();
            t.requiredness = Requiredness::Optional;
            t.default = None;
            fields.push(t);
        }
        let names: Vec<String> = f
            .returns
            .iter()
            .map(|_| m.names.success.clone())
            .chain(m.names.throws_fields.iter().cloned())
            .collect();
        let result = Record {
            idl_name: &m.names.result,
            name: m.names.result.clone(),
            kind: StructKind::Struct,
            members: fields
                .iter()
                .zip(names)
                .map(|(field, name)| Member {
                    field,
                    name,
                    repr: Repr::Option,
                })
                .collect(),
            scope,
        };
        let result_doc = doc_text(&format!("The result of `{}`.", f.name));
        let result_attrs = quote!(#result_doc #[derive(Debug, Default)]);
        let result_def = self.struct_def(&result, result_attrs);
        let result_codec = self.struct_codec(&result);
        quote!(#args_def #args_codec #result_def #result_codec)
    }
}

fn synthetic_field(id: i16, name: &str, ty: Type) -> ir::Field {
    ir::Field {
        id,
        implicit_id: false,
        name: name.to_string(),
        ty,
        requiredness: Requiredness::Optional,
        default: None,
        type_annotations: ir::Annotations::default(),
        annotations: ir::Annotations::default(),
        doc: None,
        span: ir::Span::default(),
    }
}

/// Clippy's limit is seven parameters, `&self` included; IDL methods take what they take.
fn too_many_arguments(f: &Function) -> TokenStream {
    if f.args.len() + 1 > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        TokenStream::new()
    }
}

impl Cx<'_> {
    /// Lints a method's signature may trip because of its IDL types.
    fn signature_allows(&self, m: &Method<'_>) -> TokenStream {
        let many = too_many_arguments(m.function);
        let params = m
            .function
            .args
            .iter()
            .map(|a| self.complexity(&a.ty, self.arg_repr(a)));
        // `Result<T, E>`: the `Result` path, then `T` and `E` one level down.
        let ret = m
            .function
            .returns
            .iter()
            .map(|t| 10 + self.type_complexity(t, false, 2) + 20);
        let complex = complexity_allow(params.chain(ret));
        quote!(#many #complex)
    }
}
