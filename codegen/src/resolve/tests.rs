//! Resolution tests over in-memory files.

use super::*;
use crate::diag::codes;
use crate::ir::{ConstValue, Requiredness, Type};

fn load_src(files: &[(&str, &str)]) -> Result<Loaded, Failed> {
    let mut l = MemoryLoader::new();
    for (p, t) in files {
        l.add(p, *t);
    }
    load_with(&l, &[files[0].0], &LoadOptions::default())
}

fn ok(files: &[(&str, &str)]) -> Loaded {
    match load_src(files) {
        Ok(l) => l,
        Err(f) => panic!("expected success:\n{}", f.render()),
    }
}

fn errors(files: &[(&str, &str)]) -> Vec<&'static str> {
    match load_src(files) {
        Ok(_) => panic!("expected errors"),
        Err(f) => f.errors().map(|d| d.code).collect(),
    }
}

#[test]
fn includes_come_first_and_names_are_qualified() {
    let l = ok(&[
        (
            "main.thrift",
            "include \"inc/shared.thrift\"\nstruct A { 1: shared.S s = {\"x\": shared.K} }\nservice Svc extends shared.Base {}",
        ),
        (
            "inc/shared.thrift",
            "const i32 K = 7\nstruct S { 1: i32 x }\nservice Base { void ping() }",
        ),
    ]);
    let p = &l.program;
    assert_eq!(p.files[0].name, "shared", "the include gets the first id");
    assert_eq!(
        p.files[1].includes,
        vec![crate::span::FileId(0)],
        "include edge"
    );
    assert_eq!(
        p.roots,
        vec![crate::span::FileId(1)],
        "root is the last file"
    );
    let a = &p.structs[1];
    assert_eq!(
        a.fields[0].default,
        Some(ConstValue::Struct(
            p.structs[0].id,
            vec![(1, ConstValue::Int(7))]
        )),
        "struct literal with an included constant"
    );
    assert_eq!(
        p.all_functions(p.services[1].id).len(),
        1,
        "inherited function"
    );
}

#[test]
fn include_errors() {
    assert_eq!(
        errors(&[("a.thrift", "include \"missing.thrift\"")]),
        [codes::INCLUDE_NOT_FOUND]
    );
    assert_eq!(
        errors(&[
            ("a.thrift", "include \"b.thrift\""),
            ("b.thrift", "include \"a.thrift\"")
        ]),
        [codes::INCLUDE_CYCLE]
    );
    assert_eq!(
        errors(&[
            ("a.thrift", "include \"b.thrift\"\nstruct A { 1: c.C x }"),
            ("b.thrift", "include \"c.thrift\""),
            ("c.thrift", "struct C {}")
        ]),
        [codes::UNKNOWN_TYPE],
        "includes are not transitive"
    );
}

#[test]
fn implicit_ids_are_negative_with_warnings() {
    let l = ok(&[(
        "a.thrift",
        "struct A { string a, 5: string b, string c, 0: i32 d }",
    )]);
    let ids: Vec<i16> = l.program.structs[0].fields.iter().map(|f| f.id).collect();
    assert_eq!(ids, [-1, 5, -2, -3], "Apache's implicit ids");
    assert_eq!(l.warnings.len(), 3, "one warning per implicit id");
}

#[test]
fn typedef_chains_are_kept() {
    let l = ok(&[(
        "a.thrift",
        "typedef i64 Id\ntypedef Id UserId\nstruct U { 1: UserId id }",
    )]);
    let p = &l.program;
    assert_eq!(
        p.structs[0].fields[0].ty,
        Type::Typedef(p.typedefs[1].id),
        "kept"
    );
    assert_eq!(
        p.true_type(&p.structs[0].fields[0].ty),
        &Type::I64,
        "resolved"
    );
}

#[test]
fn const_checks() {
    let cases: &[(&str, &str)] = &[
        ("const i8 X = 128", codes::CONST_RANGE),
        ("const i32 X = 2147483648", codes::CONST_RANGE),
        ("const i32 X = \"a\"", codes::CONST_MISMATCH),
        ("const i32 X = 1.5", codes::CONST_MISMATCH),
        ("const bool X = 2", codes::CONST_RANGE),
        ("enum E { A }\nconst E X = E.B", codes::UNKNOWN_ENUM_VALUE),
        ("enum E { A }\nconst E X = 3", codes::UNKNOWN_ENUM_VALUE),
        ("enum E { A }\nconst E X = A", codes::UNKNOWN_CONST),
        (
            "struct S { 1: i32 a }\nconst S X = {\"b\": 1}",
            codes::UNKNOWN_STRUCT_FIELD,
        ),
        ("const uuid X = \"nope\"", codes::INVALID_UUID),
        ("const i32 A = B\nconst i32 B = A", codes::CONST_CYCLE),
        ("const list<i32> X = [1, \"two\"]", codes::CONST_MISMATCH),
        ("const map<string, i8> X = {\"a\": 300}", codes::CONST_RANGE),
    ];
    for (src, code) in cases {
        let got = errors(&[("a.thrift", src)]);
        assert_eq!(got.first(), Some(code), "for {src:?}: {got:?}");
    }
}

#[test]
fn const_conversions() {
    let l = ok(&[(
        "a.thrift",
        "enum E { A = 1, B }\nconst double D = 3\nconst E e = E.B\nconst i32 I = E.A\nconst bool T = 1\nconst set<i16> S = [1, 2]\nconst i64 J = I\nconst uuid U = '{00112233-4455-6677-8899-aabbccddeeff}'",
    )]);
    let v: Vec<&ConstValue> = l.program.consts.iter().map(|c| &c.value).collect();
    assert_eq!(v[0], &ConstValue::Double(3.0), "int to double");
    assert_eq!(
        v[1],
        &ConstValue::Enum(l.program.enums[0].id, 2),
        "enum by name"
    );
    assert_eq!(v[2], &ConstValue::Int(1), "enum value as an integer");
    assert_eq!(v[3], &ConstValue::Bool(true), "1 as bool");
    assert_eq!(
        v[4],
        &ConstValue::Set(vec![ConstValue::Int(1), ConstValue::Int(2)]),
        "list literal for a set"
    );
    assert_eq!(v[5], &ConstValue::Int(1), "reference to another constant");
    assert!(matches!(v[6], ConstValue::Uuid(_)), "uuid in braces");
}

#[test]
fn semantic_errors() {
    let cases: &[(&str, &str)] = &[
        ("struct A {}\nstruct A {}", codes::DUPLICATE_DEFINITION),
        ("struct A {}\nservice A {}", codes::DUPLICATE_DEFINITION),
        (
            "struct A { 1: i32 a, 2: i32 a }",
            codes::DUPLICATE_FIELD_NAME,
        ),
        ("struct A { 1: i32 a, 1: i32 b }", codes::DUPLICATE_FIELD_ID),
        ("struct A { 40000: i32 a }", codes::FIELD_ID_RANGE),
        ("enum E { A, A }", codes::DUPLICATE_ENUM_VALUE),
        ("enum E { A = 4294967296 }", codes::ENUM_VALUE_RANGE),
        (
            "service S { void f(), void f() }",
            codes::DUPLICATE_FUNCTION,
        ),
        ("service S { oneway i32 f() }", codes::ONEWAY_RETURNS),
        (
            "exception X {}\nservice S { oneway void f() throws (1: X x) }",
            codes::ONEWAY_THROWS,
        ),
        (
            "struct X {}\nservice S { void f() throws (1: X x) }",
            codes::THROWS_NOT_EXCEPTION,
        ),
        ("struct A { 1: B b }", codes::UNKNOWN_TYPE),
        ("service S extends T {}", codes::UNKNOWN_SERVICE),
        (
            "struct T {}\nservice S extends T {}",
            codes::WRONG_KIND_OF_NAME,
        ),
        (
            "service S {}\nstruct A { 1: S s }",
            codes::WRONG_KIND_OF_NAME,
        ),
        (
            "struct A { 1: required B b }\nstruct B { 1: required A a }",
            codes::REQUIRED_CYCLE,
        ),
        ("struct A { 1: required A a }", codes::REQUIRED_CYCLE),
        ("typedef A B\ntypedef B A", codes::TYPEDEF_CYCLE),
        ("typedef list<L> L", codes::TYPEDEF_CYCLE),
        (
            "service A extends B {}\nservice B extends A {}",
            codes::EXTENDS_CYCLE,
        ),
        (
            "service A { void f() }\nservice B extends A { void f() }",
            codes::DUPLICATE_FUNCTION,
        ),
        (
            "union U { 1: i32 a = 1, 2: i32 b = 2 }",
            codes::UNION_DEFAULTS,
        ),
    ];
    for (src, code) in cases {
        let got = errors(&[("a.thrift", src)]);
        assert_eq!(got, [*code], "for {src:?}");
    }
}

#[test]
fn recursion_through_optional_fields_and_containers_is_fine() {
    ok(&[(
        "a.thrift",
        "struct A { 1: optional A a, 2: list<A> l, 3: A & r }\nstruct B { 1: required C c }\nstruct C { 1: B b }\nunion U { 1: U u }",
    )]);
}

#[test]
fn namespace_scopes() {
    let l = ok(&[(
        "a.thrift",
        "namespace noexist x\nnamespace cpp.noexist y\nnamespace py p\nnamespace * star\nnamespace php.path q",
    )]);
    let codes: Vec<_> = l.warnings.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        [codes::UNKNOWN_NAMESPACE, codes::UNKNOWN_NAMESPACE],
        "two warnings"
    );
    assert_eq!(
        l.program.files[0].namespace("py"),
        Some("p"),
        "scope lookup"
    );
    assert_eq!(
        l.program.files[0].namespace("java"),
        Some("star"),
        "`*` fallback"
    );
}

#[test]
fn union_members_are_optional() {
    let l = ok(&[("a.thrift", "union U { 1: i32 a, 2: string b }")]);
    assert!(
        l.program.structs[0]
            .fields
            .iter()
            .all(|f| f.requiredness == Requiredness::Optional),
        "Apache makes union members optional"
    );
}
