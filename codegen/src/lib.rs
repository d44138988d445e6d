//! Mosaic's Thrift IDL compiler.
//!
//! Three stages, like a small compiler:
//! 1. the front end ([`syntax`]) lexes and parses Thrift IDL into a syntax tree;
//! 2. resolution ([`resolve`]) follows includes, builds the symbol tables, checks types and
//!    constant values, and lowers everything into one typed [`ir`];
//! 3. back ends ([`backend`]) read only the IR and produce source text.
//!
//! From a `build.rs`, [`compile`] and [`Builder`] run all three and write the Rust modules
//! into `OUT_DIR` (see [`builder`]).
//!
//! Problems are reported as [`diag::Diagnostic`]s that carry a file, a byte span, and render
//! like rustc's.

pub mod backend;
pub mod builder;
pub mod diag;
pub mod ir;
pub mod resolve;
pub mod span;
pub mod syntax;

pub use builder::{compile, Builder, CompileError};
