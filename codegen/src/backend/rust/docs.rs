//! IDL doc comments as `#[doc]` attributes (printed as `///` lines).
//!
//! IDL comments are prose written for any language, so two things are made safe for rustdoc:
//! code fences without a language become ` ```text ` (rustdoc would compile them as doctests),
//! and indented blocks, which Markdown reads as code, are wrapped in a ` ```text ` fence too.

use proc_macro2::TokenStream;
use quote::quote;

/// One `#[doc = "..."]` per line of `doc` (nothing for `None` or blank docs).
pub(crate) fn doc_attrs(doc: Option<&str>) -> TokenStream {
    let lines = match doc {
        Some(d) => lines(d),
        None => return TokenStream::new(),
    };
    let attrs = lines.iter().map(|l| {
        // A leading space, as `///` comments have.
        let text = if l.is_empty() {
            String::new()
        } else {
            format!(" {l}")
        };
        quote!(#[doc = #text])
    });
    quote!(#(#attrs)*)
}

/// A doc attribute with generated text (several lines allowed).
pub(crate) fn doc_text(text: &str) -> TokenStream {
    doc_attrs(Some(text))
}

/// The lines of a doc comment: dedented, trailing space trimmed, leading and trailing blank
/// lines dropped, code-like blocks fenced as text.
fn lines(doc: &str) -> Vec<String> {
    let raw: Vec<&str> = doc.lines().map(str::trim_end).collect();
    let indent = raw
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let dedented: Vec<String> = raw
        .iter()
        .map(|l| l.get(indent..).unwrap_or("").to_string())
        .collect();
    let start = dedented.iter().position(|l| !l.is_empty());
    let end = dedented.iter().rposition(|l| !l.is_empty());
    let body = match (start, end) {
        (Some(s), Some(e)) => &dedented[s..=e],
        _ => return Vec::new(),
    };
    fence(body)
}

/// Marks fences and indented blocks as plain text.
fn fence(body: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(body.len());
    let mut in_fence = false;
    let mut in_indented = false;
    for (i, line) in body.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            if !in_fence && trimmed.trim_end() == "```" {
                out.push(format!("{}```text", &line[..line.len() - trimmed.len()]));
            } else {
                out.push(line.clone());
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push(line.clone());
            continue;
        }
        let indented = line.starts_with("    ") || line.starts_with('\t');
        let after_blank = i == 0 || body[i - 1].is_empty();
        if indented && !in_indented && after_blank {
            out.push("```text".to_string());
            in_indented = true;
        } else if in_indented && !indented && !line.is_empty() {
            // The blank line before this one belongs outside the fence.
            let blank = out.last().is_some_and(|l: &String| l.is_empty());
            if blank {
                out.pop();
            }
            out.push("```".to_string());
            if blank {
                out.push(String::new());
            }
            in_indented = false;
        }
        out.push(line.clone());
    }
    if in_fence {
        out.push("```".to_string());
    }
    if in_indented {
        out.push("```".to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(doc: &str) -> Vec<String> {
        lines(doc)
    }

    #[test]
    fn dedents_and_trims() {
        assert_eq!(
            render("\n   first\n     second  \n\n"),
            vec!["first", "  second"],
            "common indentation and blank edges go"
        );
        assert!(render("  \n \n").is_empty(), "a blank doc has no lines");
    }

    #[test]
    fn code_is_never_a_doctest() {
        assert_eq!(
            render("text\n```\ncode\n```"),
            vec!["text", "```text", "code", "```"],
            "a bare fence becomes a text fence"
        );
        assert_eq!(
            render("text\n\n    code()\n\nmore"),
            vec!["text", "", "```text", "    code()", "```", "", "more"],
            "an indented block is fenced"
        );
        assert_eq!(
            render("text\n```\nunclosed"),
            vec!["text", "```text", "unclosed", "```"],
            "an unclosed fence is closed"
        );
    }
}
