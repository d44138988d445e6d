//! The front end: Thrift IDL text to a syntax tree.
//!
//! - [`lexer`]: tokens with Apache Thrift's rules (dotted identifiers, hex and signed integers,
//!   doubles in every form, both quote styles, `#`/`//`/`/* */` comments, `/** */` docs).
//! - `parser`: recursive descent over the grammar of Apache's current compiler, with error
//!   recovery so that one run reports several errors.
//! - [`ast`]: the tree, unresolved; [`crate::resolve`] turns it into the IR.
//!
//! [`parse`] never panics, whatever the input.

pub mod ast;
pub mod lexer;
mod parser;

use crate::diag::{codes, Diagnostic};
use crate::span::FileId;

/// Parses one file. Always returns a document (partial when there are errors) and every
/// problem found, in source order.
pub fn parse(file: FileId, text: &str) -> (ast::Document, Vec<Diagnostic>) {
    let (tokens, mut diags) = lexer::lex(file, text);
    let mut p = parser::Parser::new(file, text, tokens);
    let doc = p.document();
    if let Some(at) = p.stuck_at() {
        diags.push(
            Diagnostic::error(codes::PARSER_STUCK, "the parser stopped making progress")
                .with_primary(at, "stuck here")
                .with_note(
                    "this is a bug in Mosaic's IDL parser; the rest of the file was not read",
                )
                .with_help("please report it, with this file"),
        );
    }
    diags.append(&mut p.diags);
    diags.sort_by_key(|d| d.sort_key());
    (doc, diags)
}

#[cfg(test)]
mod tests;
