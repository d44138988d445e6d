//! Token streams to formatted source text.
//!
//! `prettyplease` prints rustfmt-style code without a rustfmt binary, but it puts no blank
//! lines between items; [`space_items`] adds one before each item that follows another, so
//! that the output reads like hand-written code (rustfmt keeps such blank lines as they are).

use proc_macro2::TokenStream;

/// The header, then `tokens` formatted.
pub(crate) fn render(header: &str, tokens: TokenStream) -> String {
    let body = match syn::parse2::<syn::File>(tokens.clone()) {
        Ok(file) => space_items(&prettyplease::unparse(&file)),
        // Generated code that does not parse is a bug in this back end. Emitting it unformatted
        // lets rustc point at the problem instead of a build script panicking.
        Err(e) => format!("// mosaic-codegen could not format this file: {e}\n{tokens}\n"),
    };
    let mut out = String::with_capacity(header.len() + body.len() + 1);
    out.push_str(header);
    if !body.is_empty() {
        out.push('\n');
        out.push_str(&body);
    }
    out
}

/// Starts of lines that begin an item (or an associated item) in generated code. Statements
/// in generated function bodies never start with these.
const ITEM_STARTS: &[&str] = &[
    "#[",
    "///",
    "pub ",
    "pub(",
    "fn ",
    "impl ",
    "impl<",
    "const ",
    "static ",
    "type ",
    "struct ",
    "enum ",
    "trait ",
    "mod ",
    "use ",
    "async fn ",
    "unsafe ",
];

/// Inserts a blank line before each item that directly follows the end of another item at the
/// same indentation.
pub(crate) fn space_items(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut prev: Option<&str> = None;
    for line in text.lines() {
        if let Some(p) = prev {
            if starts_item(line)
                && ends_item(p)
                && indent(p) == indent(line)
                && !(is_const(p) && is_const(line))
            {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        prev = Some(line);
    }
    out
}

/// A one-line constant: runs of them stay together, like a table.
fn is_const(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with("pub const ") || t.starts_with("const ")) && t.ends_with(';')
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

fn starts_item(line: &str) -> bool {
    let t = line.trim_start();
    ITEM_STARTS.iter().any(|s| t.starts_with(s))
}

/// The last line of an item: a closing brace, or a `;` that ends a declaration. Attributes and
/// doc lines end with neither.
fn ends_item(line: &str) -> bool {
    let t = line.trim();
    if t.starts_with("#[") || t.starts_with("//") {
        return false;
    }
    t == "}" || t == "};" || t.ends_with(';') || t.ends_with(" {}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_get_blank_lines_and_statements_do_not() {
        let text = "pub struct A;\nimpl A {\n    fn a() {\n        x();\n        y();\n    }\n    fn b() {}\n}\npub type B = A;\n";
        let expected = "pub struct A;\n\nimpl A {\n    fn a() {\n        x();\n        y();\n    }\n\n    fn b() {}\n}\n\npub type B = A;\n";
        assert_eq!(space_items(text), expected);
    }

    #[test]
    fn one_line_constants_stay_together() {
        let text = "impl A {\n    pub const ONE: Self = Self(1);\n    pub const TWO: Self = Self(2);\n    pub fn f() {}\n}\n";
        let expected = "impl A {\n    pub const ONE: Self = Self(1);\n    pub const TWO: Self = Self(2);\n\n    pub fn f() {}\n}\n";
        assert_eq!(space_items(text), expected);
    }

    #[test]
    fn attributes_stay_with_their_item() {
        let text = "#[derive(Debug)]\n/// doc\npub struct A;\n/// doc\npub struct B;\n";
        let expected = "#[derive(Debug)]\n/// doc\npub struct A;\n\n/// doc\npub struct B;\n";
        assert_eq!(space_items(text), expected);
    }
}
