//! The Rust back end: one module per IDL file, for servers and clients on `mosaic-runtime`.
//!
//! # Layout
//!
//! [`generate`] returns one file per IDL file, named after its stem in snake case
//! (`ThriftTest.thrift` → `thrift_test.rs`), and an index file (`mosaic.rs` by default) that
//! declares each of them as a module:
//!
//! ```text
//! // mosaic.rs
//! pub mod shared {
//!     include!("shared.rs");
//! }
//! pub mod thrift_test {
//!     include!("thrift_test.rs");
//! }
//! ```
//!
//! Included files are sibling modules, and generated code refers to them by relative paths
//! (`super::shared::SharedStruct`), so the modules can sit anywhere in a crate as long as they
//! stay siblings. The usual way in is the index file:
//!
//! ```ignore
//! mod idl {
//!     include!(concat!(env!("OUT_DIR"), "/mosaic.rs"));
//! }
//! use idl::thrift_test::{ThriftTest, ThriftTestClient, Xtruct};
//! ```
//!
//! # What each definition becomes
//!
//! | IDL | Rust |
//! | --- | --- |
//! | `typedef i64 UserId` | `pub type UserId = i64;` |
//! | `const i32 X = 1`, strings, enums, uuids | `pub const X: i32 = 1;` (`&str`, `&[u8]` for strings and binaries) |
//! | `const list<..> L = [..]`, structs | `pub static L: LazyLock<Vec<..>>` |
//! | `enum Numberz` | `pub struct Numberz(pub i32)` with `Numberz::ONE`; unknown values survive |
//! | `struct`, `exception` | `pub struct` with `Struct`, `Default`; exceptions add `Display` + `Error` |
//! | `union` | `pub enum` with one tuple variant per field, and `Unknown(i16)` for a member only a newer IDL has |
//! | `service ThriftTest` | `trait ThriftTest`, `ThriftTestService<H>` (server), `ThriftTestClient` |
//!
//! Fields: `required` → `T`; `optional` and default requiredness → `Option<T>`, which keeps
//! presence (absent decodes to `None`, only `Some` is written, so an echoed struct carries
//! exactly the fields that arrived); fields that recurse → `Option<Box<T>>`, required fields
//! of union type → `Option<T>`. `Default::default()` sets default-requiredness fields to their
//! IDL default or zero value (Thrift's "req-out"), except recursive and union-typed ones. The
//! arguments of service methods stay plain `T` in handlers and clients (a missing one decodes
//! to its zero value). Decoders check field types and container element types against the
//! IDL and skip what does not match (see `structs`, `codec`). Names are converted by
//! [`ident`]: types
//! `CamelCase`, fields and methods `snake_case`, constants `SCREAMING_SNAKE_CASE`, enum values
//! as written; keywords are escaped (`r#type`, `self_`).
//!
//! The modules:
//! - `ident`: naming and escaping; `names`: the name of everything, decided once;
//! - `shapes`: boxing, ordering and derivable traits;
//! - `types`, `codec`, `consts`: types, wire code and constant values;
//! - `structs`, `enums`, `services`: the items; `docs`: doc comments; `format`: printing.

mod codec;
mod consts;
mod docs;
mod enums;
pub(crate) mod ident;
mod names;
mod services;
mod shapes;
mod structs;
mod types;

mod format;

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::GeneratedFile;
use crate::ir::{Definition, FileId, Program};

use docs::doc_attrs;
use ident::ident;
use names::Names;
use shapes::Shapes;
use types::Scope;

/// What the Rust back end generates.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct RustOptions {
    /// Handler traits and dispatchers (`ThriftTest`, `ThriftTestService`). Default: `true`.
    pub server: bool,
    /// Typed clients (`ThriftTestClient`). Default: `true`.
    pub client: bool,
    /// The index file that declares one module per IDL file, or `None` for none.
    /// Default: `mosaic.rs`.
    pub index_file: Option<String>,
}

impl Default for RustOptions {
    fn default() -> Self {
        RustOptions {
            server: true,
            client: true,
            index_file: Some("mosaic.rs".to_string()),
        }
    }
}

/// Everything the generators share for one program.
pub(crate) struct Cx<'a> {
    pub program: &'a Program,
    pub options: &'a RustOptions,
    pub names: Names,
    pub shapes: Shapes,
}

/// Generates one Rust file per IDL file in `program` (every file, included ones too), then the
/// index file. Paths are relative to the output directory; the same program gives the same
/// bytes.
pub fn generate(program: &Program, options: &RustOptions) -> Vec<GeneratedFile> {
    let cx = Cx {
        program,
        options,
        names: Names::new(program),
        shapes: Shapes::new(program),
    };
    let mut files: Vec<GeneratedFile> = program
        .files
        .iter()
        .map(|f| GeneratedFile {
            path: PathBuf::from(cx.names.file_name(f.id)),
            contents: cx.file(f.id),
        })
        .collect();
    if let Some(index) = &options.index_file {
        files.push(GeneratedFile {
            path: PathBuf::from(index),
            contents: cx.index(),
        });
    }
    files
}

impl Cx<'_> {
    fn file(&self, id: FileId) -> String {
        let file = self.program.file(id);
        // Statics spell `LazyLock` unqualified, so that their lines stay short enough for
        // prettyplease and rustfmt to agree on them; `names` keeps the name free.
        let uses_lazy_lock = file
            .definitions
            .iter()
            .any(|def| matches!(*def, Definition::Const(c) if self.is_static(c)));
        let import = if uses_lazy_lock {
            quote!(
                use ::mosaic_runtime::__private::LazyLock;
            )
        } else {
            TokenStream::new()
        };
        let items = file.definitions.iter().map(|def| match *def {
            Definition::Typedef(t) => self.typedef_item(t),
            Definition::Const(c) => self.const_item(c),
            Definition::Enum(e) => self.enum_items(e),
            Definition::Struct(s) => self.struct_items(s),
            Definition::Service(s) => self.service_items(s),
        });
        let header = format!(
            "// This file is @generated by mosaic-codegen from {}. Do not edit.\n",
            super::source_name(self.program, id)
        );
        format::render(&header, quote!(#import #(#items)*))
    }

    fn typedef_item(&self, id: crate::ir::TypedefId) -> TokenStream {
        let t = self.program.typedef(id);
        let doc = doc_attrs(t.doc.as_deref());
        let name = ident(&self.names.typedefs[id.index()]);
        let target = self.rust_type(Scope::top(t.file), &t.target, false);
        quote!(#doc pub type #name = #target;)
    }

    fn index(&self) -> String {
        let modules = self.program.files.iter().map(|f| {
            let doc = doc_attrs(f.doc.as_deref());
            let module = ident(&self.names.modules[f.id.index()]);
            let path = self.names.file_name(f.id);
            quote! {
                #doc
                // Users often name the module that includes this file after the IDL file too.
                // A binary that uses part of the generated API leaves the rest unused.
                #[allow(clippy::module_inception, dead_code)]
                pub mod #module {
                    include!(#path);
                }
            }
        });
        let header = "// This file is @generated by mosaic-codegen. Do not edit.\n\
                      // One module per IDL file; a file's includes are its sibling modules.\n";
        format::render(header, quote!(#(#modules)*))
    }
}
