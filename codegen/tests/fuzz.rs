//! The front end never panics: on arbitrary bytes, on soups of Thrift tokens, and on valid IDL
//! (our `tests/data/`) with random edits. Every result, accepted or not, must also render.

use std::path::Path;

use mosaic_codegen::diag::codes;
use mosaic_codegen::resolve::{load_with, LoadOptions, MemoryLoader};
use proptest::prelude::*;

const DATA: &[(&str, &str)] = &[
    ("everything.thrift", include_str!("data/everything.thrift")),
    (
        "common/shared.thrift",
        include_str!("data/common/shared.thrift"),
    ),
];

/// Loads `root` with `text` beside our data files, and renders whatever comes out.
fn check(root: &str, text: &[u8]) {
    let mut loader = MemoryLoader::new();
    for (p, t) in DATA {
        loader.add(p, *t);
    }
    loader.add(root, text.to_vec());
    let rendered = match load_with(&loader, &[Path::new(root)], &LoadOptions::default()) {
        Ok(l) => l.render_warnings(),
        Err(f) => {
            assert!(f.errors().next().is_some(), "a failure carries an error");
            assert!(
                f.errors().all(|d| d.code != codes::PARSER_STUCK),
                "the parser got stuck: {}",
                f.render()
            );
            f.render()
        }
    };
    let _ = rendered;
}

const TOKENS: &[&str] = &[
    "struct",
    "union",
    "exception",
    "service",
    "enum",
    "const",
    "typedef",
    "include",
    "namespace",
    "cpp_include",
    "extends",
    "throws",
    "oneway",
    "void",
    "required",
    "optional",
    "i8",
    "byte",
    "i16",
    "i32",
    "i64",
    "double",
    "string",
    "binary",
    "uuid",
    "bool",
    "map",
    "list",
    "set",
    "cpp_type",
    "xsd_all",
    "xsd_attrs",
    "true",
    "false",
    "senum",
    "Foo",
    "shared.Header",
    "shared.Priority.LOW",
    "Everything",
    "Shape.SQUARE",
    "x",
    "1",
    "-1",
    "0x10",
    "1.5",
    ".5",
    "1e10",
    "99999999999999999999",
    "\"s\"",
    "'t'",
    "\"common/shared.thrift\"",
    "{",
    "}",
    "(",
    ")",
    "<",
    ">",
    "[",
    "]",
    ":",
    ";",
    ",",
    "=",
    "*",
    "&",
    "/**",
    "*/",
    "/*",
    "//",
    "#",
    "\n",
    "\"",
    "\\",
    "@",
    "é",
];

/// 512 cases per property in CI; `PROPTEST_CASES=300000` fuzzes deeper by hand (minutes).
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn mutate(base: &[u8], edits: &[(u8, usize, Vec<u8>)]) -> Vec<u8> {
    let mut text = base.to_vec();
    for (kind, at, bytes) in edits {
        let at = if text.is_empty() {
            0
        } else {
            at % (text.len() + 1)
        };
        match kind % 4 {
            0 => {
                let end = (at + bytes.len()).min(text.len());
                text.drain(at..end);
            }
            1 => {
                text.splice(at..at, bytes.iter().copied());
            }
            2 => {
                let end = (at + bytes.len() * 4).min(text.len());
                let copy = text[at..end].to_vec();
                text.splice(at..at, copy);
            }
            _ => {
                if let Some(b) = text.get_mut(at) {
                    *b = bytes.first().copied().unwrap_or(b'}');
                }
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        check("fuzz.thrift", &bytes);
    }

    #[test]
    fn token_soup(picks in prop::collection::vec(0..TOKENS.len(), 0..300)) {
        let text: Vec<String> = picks.iter().map(|&i| TOKENS[i].to_string()).collect();
        check("fuzz.thrift", text.join(" ").as_bytes());
    }

    #[test]
    fn mutated_valid_idl(
        which in 0..DATA.len(),
        edits in prop::collection::vec(
            (any::<u8>(), any::<usize>(), prop::collection::vec(any::<u8>(), 0..12)),
            1..6,
        ),
    ) {
        let (name, text) = DATA[which];
        check(name, &mutate(text.as_bytes(), &edits));
    }

    #[test]
    fn mutated_valid_idl_with_tokens(
        which in 0..DATA.len(),
        edits in prop::collection::vec((any::<usize>(), 0..TOKENS.len(), any::<bool>()), 1..8),
    ) {
        let (name, text) = DATA[which];
        let mut text = text.to_string();
        for (at, tok, replace_word) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let end = if replace_word {
                text[at..].find(char::is_whitespace).map_or(text.len(), |e| at + e)
            } else {
                at
            };
            text.replace_range(at..end, TOKENS[tok]);
        }
        check(name, text.as_bytes());
    }
}
