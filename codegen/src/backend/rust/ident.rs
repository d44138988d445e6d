//! Rust names for IDL names: case conversion, keyword escaping, and collision-free allocation.
//!
//! Every identifier the Rust back end emits goes through this module, so that any name the
//! IDL allows compiles:
//! - [`snake`], [`camel`] and [`screaming`] convert case the way `heck` does (word breaks at
//!   `_`, at lower-to-upper changes and before the last capital of an acronym);
//! - [`escape`] turns a keyword into a raw identifier (`r#type`), or appends `_` for the four
//!   keywords that cannot be raw (`self`, `Self`, `super`, `crate`);
//! - [`Allocator`] hands out names in one namespace and appends `_` until a name is free, so
//!   that `fooBar` and `foo_bar`, or a user type and a generated one, never collide;
//! - [`ident`] makes the token for an allocated name.

use std::collections::BTreeSet;

use proc_macro2::{Ident, Span};

/// Keywords that are reserved in every edition Mosaic targets (strict and reserved ones, the
/// 2018 additions `async`, `await`, `dyn`, `try`, and 2024's `gen`).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Keywords that `r#` cannot escape.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

/// Whether `name` is a Rust keyword in any edition from 2015 to 2024.
pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// A usable Rust identifier for `name`: a raw identifier for keywords, `name_` for the
/// keywords that cannot be raw, and `name` itself otherwise. `_` alone becomes `__`.
pub(crate) fn escape(name: &str) -> String {
    if NOT_RAW.contains(&name) {
        format!("{name}_")
    } else if is_keyword(name) {
        format!("r#{name}")
    } else if name == "_" {
        "__".to_string()
    } else {
        name.to_string()
    }
}

/// The token for an escaped name (`r#type` becomes a raw identifier).
pub(crate) fn ident(escaped: &str) -> Ident {
    match escaped.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(escaped, Span::call_site()),
    }
}

/// The words of an identifier: split at non-alphanumerics, at lower-or-digit-to-upper
/// changes, and before the last capital of a run of capitals followed by a lower-case letter
/// (`HTTPServer` is `HTTP`, `Server`). Characters that Rust does not allow in identifiers act
/// as separators.
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            let breaks = prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower);
            if breaks {
                words.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// A name that starts with a digit gets a leading `_`; an empty one becomes `fallback`.
fn finish(joined: String, fallback: &str) -> String {
    if joined.is_empty() {
        fallback.to_string()
    } else if joined.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{joined}")
    } else {
        joined
    }
}

/// `snake_case`, for fields, methods, arguments and modules.
pub(crate) fn snake(name: &str) -> String {
    let joined = words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    finish(joined, "unnamed")
}

/// `UpperCamelCase`, for types, traits and enum variants.
pub(crate) fn camel(name: &str) -> String {
    let joined: String = words(name)
        .iter()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut chars = lower.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect();
    // `_1` would be a snake-case name: types that start with a digit get a letter instead.
    if joined.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("T{joined}");
    }
    finish(joined, "Unnamed")
}

/// `SCREAMING_SNAKE_CASE`, for constants.
pub(crate) fn screaming(name: &str) -> String {
    let joined = words(name)
        .iter()
        .map(|w| w.to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join("_");
    finish(joined, "UNNAMED")
}

/// A name kept as written (enum values), with characters Rust does not allow replaced by `_`.
pub(crate) fn verbatim(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    finish(cleaned, "UNNAMED")
}

/// Names taken in one Rust namespace; [`Allocator::take`] returns a free escaped name.
#[derive(Clone, Debug, Default)]
pub(crate) struct Allocator {
    taken: BTreeSet<String>,
}

impl Allocator {
    /// An allocator where `reserved` names are already taken.
    pub(crate) fn with_reserved(reserved: &[&str]) -> Self {
        Allocator {
            taken: reserved.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Escapes `name` and appends `_` until it is free, then takes it.
    pub(crate) fn take(&mut self, name: &str) -> String {
        let mut candidate = escape(name);
        while self.taken.contains(&candidate) || self.taken.contains(unraw(&candidate)) {
            // `r#type_` is not a keyword any more, so the prefix goes.
            candidate = format!("{}_", unraw(&candidate));
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

/// The name without a raw prefix (`type` for `r#type`), for file names and string literals.
pub(crate) fn unraw(escaped: &str) -> &str {
    escaped.strip_prefix("r#").unwrap_or(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_becomes_a_valid_identifier() {
        for kw in KEYWORDS {
            let escaped = escape(kw);
            let parsed: Result<syn::Ident, _> = syn::parse_str(&escaped);
            assert!(
                parsed.is_ok(),
                "`{kw}` escapes to `{escaped}`, which must parse"
            );
            let tokens = ident(&escaped).to_string();
            assert_eq!(
                tokens, escaped,
                "the token for `{kw}` must print as escaped"
            );
            if NOT_RAW.contains(kw) {
                assert_eq!(escaped, format!("{kw}_"), "`{kw}` cannot be raw");
            } else {
                assert_eq!(
                    escaped,
                    format!("r#{kw}"),
                    "`{kw}` must be a raw identifier"
                );
            }
        }
    }

    #[test]
    fn keyword_list_covers_every_edition() {
        for kw in [
            "async", "await", "dyn", "try", "gen", "abstract", "yield", "Self", "crate",
        ] {
            assert!(is_keyword(kw), "`{kw}` is a keyword");
        }
        for not in ["union", "macro_rules", "raw", "safe", "String", "Result"] {
            assert!(!is_keyword(not), "`{not}` is not a keyword");
            assert_eq!(escape(not), not, "`{not}` needs no escaping");
        }
    }

    #[test]
    fn case_conversion_follows_word_breaks() {
        assert_eq!(snake("testString"), "test_string");
        assert_eq!(snake("testI32"), "test_i32");
        assert_eq!(snake("HTTPServer"), "http_server");
        assert_eq!(snake("string_thing"), "string_thing");
        assert_eq!(snake("ThriftTest"), "thrift_test");
        assert_eq!(snake("my-service.v2"), "my_service_v2");
        assert_eq!(snake("Xtruct2"), "xtruct2");
        assert_eq!(camel("ThriftTest"), "ThriftTest");
        assert_eq!(camel("string_thing"), "StringThing");
        assert_eq!(camel("HTTPServer"), "HttpServer");
        assert_eq!(camel("err1"), "Err1");
        assert_eq!(camel("xtruct"), "Xtruct");
        assert_eq!(screaming("myNumberz"), "MY_NUMBERZ");
        assert_eq!(screaming("MAX_SIZE"), "MAX_SIZE");
        assert_eq!(verbatim("ONE"), "ONE");
        assert_eq!(verbatim("a.b"), "a_b");
    }

    #[test]
    fn odd_names_still_make_identifiers() {
        assert_eq!(snake("_"), "unnamed");
        assert_eq!(snake("1st"), "_1st");
        assert_eq!(camel("1st"), "T1st");
        assert_eq!(camel("__"), "Unnamed");
        assert_eq!(escape("_"), "__");
        assert_eq!(verbatim("9"), "_9");
        for name in ["_", "1st", "a.b.c", "Self", "self", "type", "__x__"] {
            for converted in [snake(name), camel(name), screaming(name), verbatim(name)] {
                let escaped = escape(&converted);
                assert!(
                    syn::parse_str::<syn::Ident>(&escaped).is_ok(),
                    "`{name}` converts to `{escaped}`, which must parse"
                );
            }
        }
    }

    #[test]
    fn allocator_never_hands_out_a_name_twice() {
        let mut a = Allocator::with_reserved(&["new"]);
        assert_eq!(a.take("new"), "new_", "reserved names are skipped");
        assert_eq!(a.take("foo"), "foo");
        assert_eq!(a.take("foo"), "foo_", "a second `foo` gets a suffix");
        assert_eq!(a.take("type"), "r#type");
        assert_eq!(
            a.take("type"),
            "type_",
            "a suffixed keyword needs no raw prefix"
        );
        assert_eq!(a.take("self"), "self_");
        assert_eq!(a.take("self_"), "self__", "an escaped name counts as taken");
    }
}
