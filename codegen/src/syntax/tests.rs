//! Parser tests: the accepted forms, and recovery from errors.

use super::ast::*;
use super::parse;
use crate::diag::codes;
use crate::span::FileId;

fn ok(src: &str) -> Document {
    let (doc, diags) = parse(FileId(0), src);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors.is_empty(),
        "unexpected errors for {src:?}: {errors:#?}"
    );
    doc
}

fn error_codes(src: &str) -> Vec<&'static str> {
    let (_, diags) = parse(FileId(0), src);
    diags
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect()
}

#[test]
fn headers_and_file_doc() {
    let doc = ok(r#"/** The file. */
include "shared.thrift"
cpp_include "<vector>"
namespace * all
namespace py.twisted tw
namespace xsd test (uri = 'http://example.org/ns')
/** A struct. */
struct S {}
"#);
    assert_eq!(doc.doc.as_deref(), Some("The file."), "doc before headers");
    assert_eq!(doc.headers.len(), 5, "every header kept");
    let Header::Namespace(ns) = &doc.headers[4] else {
        panic!("namespace expected")
    };
    assert_eq!(ns.annotations.len(), 1, "namespace annotations kept");
    let Definition::Struct(s) = &doc.definitions[0] else {
        panic!("struct expected")
    };
    assert_eq!(s.doc.as_deref(), Some("A struct."), "definition doc");
}

#[test]
fn fields_in_every_form() {
    let doc = ok(r#"struct S {
  1: required i32 a = 1,
  2: optional list<map<string, set<i64>>> b;
  string c
  -1: i8 (x = "y") d = -5 (deprecated)
  4: S & e xsd_optional xsd_nillable
  5: byte namespace
  6: binary string, 7: uuid void
}"#);
    let Definition::Struct(s) = &doc.definitions[0] else {
        panic!()
    };
    let names: Vec<_> = s.fields.iter().map(|f| f.name.name.as_str()).collect();
    assert_eq!(
        names,
        ["a", "b", "c", "d", "e", "namespace", "string", "void"],
        "keywords are valid field names"
    );
    assert!(s.fields[2].id.is_none(), "missing id");
    assert_eq!(
        s.fields[3].id.map(|i| i.0),
        Some(-1),
        "negative id kept as written"
    );
    assert_eq!(s.fields[3].ty.annotations.len(), 1, "type annotations");
    assert_eq!(
        s.fields[3].annotations.len(),
        1,
        "field annotations, value-less"
    );
    assert!(s.fields[4].reference, "`&` kept");
}

#[test]
fn nested_containers_close_with_runs_of_angles() {
    ok("typedef map<string, list<map<i32, list<set<i32>>>>> Deep");
}

#[test]
fn enums_services_consts() {
    let doc = ok(r#"
enum E { A, B = 0x10, C = -3; D (x) }
const list<map<string, E>> L = [{"a": E.A}, {'b': shared.E.B}];
const double D1 = 1e10, const double D2 = .5
service Base {}
service S extends shared.Base {
  /** Doc. */
  oneway void ping(1: i32 x) (a = "b"),
  i32 add(1: i32 a, 2: i32 b) throws (1: Oops o);
  list<i32> l()
}
"#);
    let Definition::Enum(e) = &doc.definitions[0] else {
        panic!()
    };
    assert_eq!(e.values[1].value.map(|v| v.0), Some(16), "hex value");
    assert_eq!(e.values[2].value.map(|v| v.0), Some(-3), "negative value");
    let Definition::Service(s) = &doc.definitions[5] else {
        panic!()
    };
    assert_eq!(
        s.extends.as_ref().map(|e| e.name.as_str()),
        Some("shared.Base")
    );
    assert_eq!(s.functions.len(), 3, "three functions");
    assert_eq!(s.functions[0].doc.as_deref(), Some("Doc."), "function doc");
    assert!(s.functions[0].oneway.is_some(), "oneway");
    assert_eq!(s.functions[1].throws.len(), 1, "throws");
}

#[test]
fn reports_several_errors_per_file() {
    let codes = error_codes(
        "struct A {\n  1: i32\n  2: i32 ok\n  3 i32 c\n}\nstruct B { 1: list<i32 x }\nenum E { A = B }\n",
    );
    assert_eq!(codes.len(), 4, "one error per bad item: {codes:?}");
}

/// An argument list that fails just before a definition on the next line used to loop
/// forever (and allocate a diagnostic per turn): the list must end there instead.
#[test]
fn a_failed_list_ends_at_a_definition_on_the_next_line() {
    for src in [
        "service S {\n  void f(1: string x oneway\ntypedef i32 T\n}\n",
        "service S {\n  void f(1: oneway\ntypedef i32 T\n",
        "struct A {\n  1: i32 x = [1,\nstruct B {}\n",
        "const map<i32, i32> M = {1:\nenum E { X }\n",
    ] {
        let (doc, diags) = parse(FileId(0), src);
        assert!(
            diags.iter().any(|d| d.is_error()),
            "{src:?} is reported as an error"
        );
        assert!(
            diags.len() < 10,
            "a few diagnostics, not a flood: {diags:#?}"
        );
        let names: Vec<&str> = doc
            .definitions
            .iter()
            .map(|d| d.name().name.as_str())
            .collect();
        assert!(
            names.iter().any(|n| ["T", "B", "E"].contains(n)),
            "the definition after the broken list is parsed: {names:?} in {src:?}"
        );
    }
}

/// A parser that stops consuming tokens (a bug) runs out of look-ups, sees end of file and
/// returns, instead of spinning; `parse` then reports where it stopped.
#[test]
fn a_stuck_parser_ends_at_its_fuel() {
    let src = "struct A {\n  1: i32 x\n}\nstruct B {\n  1: list<i32> y\n}\n";
    let (tokens, _) = super::lexer::lex(FileId(0), src);
    let mut p = super::parser::Parser::new(FileId(0), src, tokens).with_fuel(12);
    let doc = p.document();
    let at = p.stuck_at().expect("ran out");
    assert!(doc.definitions.len() < 2, "the document ends early");
    assert!(
        at.start > 0 && (at.start as usize) < src.len(),
        "stopped inside: {at:?}"
    );
    // With its usual fuel the same parser reads it all.
    let (doc, diags) = parse(FileId(0), src);
    assert_eq!(doc.definitions.len(), 2);
    assert!(!diags.iter().any(|d| d.code == codes::PARSER_STUCK));
}

#[test]
fn keyword_as_a_definition_name_is_refused() {
    assert_eq!(
        error_codes("struct service {}"),
        [codes::KEYWORD_AS_NAME],
        "keywords are not names"
    );
    assert_eq!(
        error_codes("struct a.b {}"),
        [codes::DOTTED_NAME],
        "dotted name"
    );
}

#[test]
fn removed_forms_are_explained() {
    assert_eq!(error_codes("senum S { \"a\" }"), [codes::REMOVED_SYNTAX]);
    assert_eq!(error_codes("cpp_namespace foo"), [codes::REMOVED_SYNTAX]);
    assert_eq!(
        error_codes("struct S { 1: slist x }"),
        [codes::REMOVED_SYNTAX],
        "slist as a type"
    );
}

#[test]
fn apache_refusals_are_errors() {
    assert_eq!(
        error_codes("struct A {};"),
        [codes::SYNTAX],
        "no separator after a struct"
    );
    assert_eq!(
        error_codes("struct A {}\nnamespace py x"),
        [codes::SYNTAX],
        "header after a definition"
    );
    assert_eq!(
        error_codes("struct A { 1: Foo (a = \"b\") x }"),
        [codes::SYNTAX],
        "no annotations after a named type"
    );
}

#[test]
fn deep_nesting_is_refused_without_overflow() {
    let src = format!(
        "const list<i32> X = {}{}",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(error_codes(&src).contains(&codes::TOO_DEEP), "depth limit");
    let src = format!("typedef {}i32{} T", "list<".repeat(5000), ">".repeat(5000));
    assert!(
        error_codes(&src).contains(&codes::TOO_DEEP),
        "depth limit on types"
    );
}
