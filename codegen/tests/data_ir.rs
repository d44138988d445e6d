//! Loads our own IDL (`tests/data/`, written for these tests) from disk and checks the IR:
//! ids, defaults, implicit negative ids, typedef chains, const conversions, doc comments and
//! annotations.

use std::path::{Path, PathBuf};

use mosaic_codegen::ir::{ConstValue, Definition, Program, Requiredness, StructKind, Type};
use mosaic_codegen::resolve::{load, LoadOptions, Loaded};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn everything() -> Loaded {
    match load(&[data("everything.thrift")], &LoadOptions::default()) {
        Ok(l) => l,
        Err(f) => panic!("tests/data/everything.thrift must load:\n{}", f.render()),
    }
}

fn const_value<'a>(p: &'a Program, name: &str) -> &'a ConstValue {
    &p.consts
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no constant {name}"))
        .value
}

#[test]
fn files_in_dependency_order_with_headers() {
    let l = everything();
    let p = &l.program;
    assert_eq!(p.files.len(), 2, "root and its include");
    assert_eq!(p.files[0].name, "shared", "the include comes first");
    assert_eq!(p.roots, [p.files[1].id], "the root is last");
    let root = &p.files[1];
    assert_eq!(root.includes, [p.files[0].id], "include edge");
    assert_eq!(root.cpp_includes, ["<vector>"], "cpp_include kept");
    assert_eq!(
        root.namespace("java"),
        Some("org.mosaic.everything"),
        "java namespace"
    );
    assert_eq!(root.namespace("py"), None, "no `*` in the root");
    assert_eq!(
        p.files[0].namespace("go"),
        Some("mosaic.shared"),
        "`*` fallback"
    );
    let xsd = root.namespaces.iter().find(|n| n.scope == "xsd").unwrap();
    assert_eq!(
        xsd.annotations.get("uri"),
        Some("http://example.org/everything"),
        "namespace annotations"
    );
    assert!(
        root.doc
            .as_deref()
            .unwrap()
            .starts_with("Every IDL construct"),
        "file doc: {:?}",
        root.doc
    );
    assert_eq!(
        p.files[0].doc.as_deref(),
        Some("Types shared by every Mosaic test service."),
        "file doc cleaned of its margin"
    );
}

#[test]
fn only_implicit_ids_warn() {
    let l = everything();
    let codes: Vec<&str> = l.warnings.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        ["M0900", "M0900"],
        "two implicit ids: {}",
        l.render_warnings()
    );
}

#[test]
fn enums_with_implicit_negative_and_hex_values() {
    let l = everything();
    let p = &l.program;
    let prio = &p.enums[0];
    let values: Vec<(&str, i32)> = prio
        .values
        .iter()
        .map(|v| (v.name.as_str(), v.value))
        .collect();
    assert_eq!(
        values,
        [
            ("LOW", 0),
            ("NORMAL", 5),
            ("HIGH", 6),
            ("NEGATIVE", -1),
            ("MASK", 127)
        ],
        "implicit values follow the previous one"
    );
    assert_eq!(
        prio.doc.as_deref(),
        Some("How urgent a request is."),
        "enum doc"
    );
    assert_eq!(
        prio.values[3].doc.as_deref(),
        Some("Below everything."),
        "value doc"
    );
    assert_eq!(
        prio.values[4].annotations.get("deprecated"),
        Some("use bits"),
        "value annotation"
    );
    let shape = p.enums.iter().find(|e| e.name == "Shape").unwrap();
    assert_eq!(shape.values[1].value, 2, "after an explicit 1");
    assert_eq!(
        shape.annotations.get("cpp.enum_type"),
        Some("uint8_t"),
        "enum annotation"
    );
}

#[test]
fn typedef_chains_are_kept_and_resolve() {
    let l = everything();
    let p = &l.program;
    let deadline = p.typedefs.iter().find(|t| t.name == "Deadline").unwrap();
    let Type::Typedef(when) = deadline.target else {
        panic!("Deadline aliases When")
    };
    assert_eq!(p.typedef(when).name, "When", "chain kept");
    assert_eq!(
        p.true_type(&deadline.target),
        &Type::I64,
        "through shared.Timestamp"
    );
    assert_eq!(
        deadline.annotations.get("unit"),
        Some("ms"),
        "typedef annotation"
    );
    let small = p.typedefs.iter().find(|t| t.name == "Small").unwrap();
    assert_eq!(small.target, Type::I8, "byte is i8");
    let nested = p.typedefs.iter().find(|t| t.name == "Nested").unwrap();
    assert_eq!(
        nested.target,
        Type::List(Box::new(Type::Map(
            Box::new(Type::String),
            Box::new(Type::Set(Box::new(Type::I64)))
        ))),
        "nested containers"
    );
}

#[test]
fn constants_are_converted_to_their_types() {
    let l = everything();
    let p = &l.program;
    assert_eq!(const_value(p, "RATIO"), &ConstValue::Double(2.5));
    assert_eq!(const_value(p, "BIG"), &ConstValue::Double(1e10));
    assert_eq!(const_value(p, "HALF"), &ConstValue::Double(0.5));
    assert_eq!(const_value(p, "TINY"), &ConstValue::Double(-1.5e-3));
    assert_eq!(
        const_value(p, "WHOLE"),
        &ConstValue::Double(2.0),
        "integer to double"
    );
    assert_eq!(const_value(p, "HEX"), &ConstValue::Int(255));
    assert_eq!(const_value(p, "NEG_HEX"), &ConstValue::Int(-16));
    assert_eq!(
        const_value(p, "MINUS"),
        &ConstValue::Int(-32768),
        "i16 minimum"
    );
    assert_eq!(
        const_value(p, "QUOTES"),
        &ConstValue::String("single \"double\" inside".into())
    );
    assert_eq!(
        const_value(p, "ESCAPES"),
        &ConstValue::String("tab\tnewline\nquote\" backslash\\".into())
    );
    assert_eq!(const_value(p, "YES"), &ConstValue::Bool(true));
    assert_eq!(const_value(p, "NO"), &ConstValue::Bool(false), "0 as bool");
    assert_eq!(
        const_value(p, "TAGS"),
        &ConstValue::Set(vec![
            ConstValue::String("a".into()),
            ConstValue::String("b".into())
        ]),
        "list literal for a set"
    );
    let prio = p.enums[0].id;
    assert_eq!(
        const_value(p, "NAMES"),
        &ConstValue::Map(vec![
            (ConstValue::Enum(prio, 0), ConstValue::String("low".into())),
            (ConstValue::Enum(prio, 6), ConstValue::String("high".into())),
        ]),
        "enum keys from an included file, in source order"
    );
    assert_eq!(
        const_value(p, "DEFAULT_PRIORITY"),
        &ConstValue::Enum(prio, 6)
    );
    assert_eq!(
        const_value(p, "LIMIT"),
        &ConstValue::Int(1000),
        "included constant"
    );
    assert_eq!(
        const_value(p, "ROOT_ID"),
        &ConstValue::Uuid([
            0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff
        ])
    );
    let header = p.structs.iter().find(|s| s.name == "Header").unwrap().id;
    assert_eq!(
        const_value(p, "EMPTY_HEADER"),
        &ConstValue::Struct(
            header,
            vec![
                (1, ConstValue::String("none".into())),
                (3, ConstValue::Enum(prio, 0))
            ]
        ),
        "struct literal by field id"
    );
}

#[test]
fn fields_ids_requiredness_defaults_and_annotations() {
    let l = everything();
    let p = &l.program;
    let s = p.structs.iter().find(|s| s.name == "Everything").unwrap();
    assert_eq!(s.kind, StructKind::Struct);
    let field = |name: &str| s.fields.iter().find(|f| f.name == name).unwrap();
    let ids: Vec<i16> = s.fields.iter().map(|f| f.id).collect();
    assert_eq!(
        ids,
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, -1, -2, 15, 16, 17],
        "declaration order, implicit ids negative"
    );
    assert!(
        field("no_id").implicit_id && !field("id").implicit_id,
        "implicit flag"
    );
    assert_eq!(field("id").requiredness, Requiredness::Required);
    assert_eq!(field("name").requiredness, Requiredness::Optional);
    assert_eq!(field("data").requiredness, Requiredness::Default);
    assert_eq!(
        field("name").default,
        Some(ConstValue::String("unnamed".into()))
    );
    assert_eq!(field("tiny").default, Some(ConstValue::Int(-128)));
    assert_eq!(
        field("deadline").default,
        Some(ConstValue::Int(1000)),
        "through typedefs"
    );
    assert_eq!(field("flag").default, Some(ConstValue::Bool(true)));
    let shape = p.enums.iter().find(|e| e.name == "Shape").unwrap().id;
    assert_eq!(field("shape").default, Some(ConstValue::Enum(shape, 2)));
    let point = p.structs.iter().find(|s| s.name == "Point").unwrap().id;
    assert_eq!(
        field("points").default,
        Some(ConstValue::List(vec![
            ConstValue::Struct(
                point,
                vec![(1, ConstValue::Double(1.0)), (2, ConstValue::Double(2.0))]
            ),
            ConstValue::Struct(point, vec![(1, ConstValue::Double(3.0))]),
        ])),
        "struct literals in a list, integers as doubles"
    );
    assert_eq!(field("header").annotations.get("annotated"), Some("yes"));
    assert_eq!(
        field("typed_annotation").type_annotations.get("js.type"),
        Some("number"),
        "type annotations apart from field annotations"
    );
    assert_eq!(field("key").ty, Type::Uuid);
    assert_eq!(field("data").ty, Type::Binary);
    assert_eq!(
        field("self_ref").ty,
        Type::Struct(s.id),
        "recursion through `&`"
    );
    assert_eq!(
        field("namespace").name,
        "namespace",
        "keyword as a field name"
    );
    let pt = p.struct_(point);
    assert_eq!(
        pt.doc.as_deref(),
        Some("A point in the plane.\n  Indented doc lines keep their extra indentation."),
        "doc cleaned of margins, relative indentation kept"
    );
    assert_eq!(pt.fields[0].doc.as_deref(), Some("Across."), "field doc");
}

#[test]
fn unions_and_exceptions() {
    let l = everything();
    let p = &l.program;
    let u = p.structs.iter().find(|s| s.name == "Choice").unwrap();
    assert_eq!(u.kind, StructKind::Union);
    assert!(
        u.fields
            .iter()
            .all(|f| f.requiredness == Requiredness::Optional),
        "union members are optional"
    );
    let e = p.structs.iter().find(|s| s.name == "Failure").unwrap();
    assert_eq!(e.kind, StructKind::Exception);
    assert_eq!(e.annotations.get("retryable"), Some("false"));
}

#[test]
fn services_with_extends_oneway_and_throws() {
    let l = everything();
    let p = &l.program;
    let svc = p.services.iter().find(|s| s.name == "Everywhere").unwrap();
    let base = p.services.iter().find(|s| s.name == "Base").unwrap();
    assert_eq!(svc.extends, Some(base.id), "extends across files");
    assert_eq!(svc.doc.as_deref(), Some("The main service."));
    assert_eq!(svc.annotations.get("service.version"), Some("1"));
    let names: Vec<&str> = p
        .all_functions(svc.id)
        .iter()
        .map(|(_, f)| f.name.as_str())
        .collect();
    assert_eq!(
        names,
        ["ping", "version", "add", "fire", "get", "points", "nothing"],
        "inherited first"
    );
    let add = &svc.functions[0];
    assert_eq!(add.doc.as_deref(), Some("Adds two numbers."));
    assert_eq!(add.returns, Some(Type::I32));
    assert_eq!(
        add.args[1].default,
        Some(ConstValue::Int(2)),
        "argument default"
    );
    assert_eq!(add.throws.len(), 2, "two exceptions");
    assert_eq!(
        add.throws[1].ty,
        Type::Struct(p.structs[1].id),
        "shared.NotFound"
    );
    assert!(
        svc.functions[1].oneway && svc.functions[1].returns.is_none(),
        "oneway void"
    );
    assert_eq!(svc.functions[2].annotations.get("http.method"), Some("GET"));
    let defs = &p.files[1].definitions;
    assert!(
        matches!(defs.last(), Some(Definition::Service(id)) if *id == svc.id),
        "definitions in declaration order"
    );
}

#[test]
fn loading_is_deterministic() {
    let a = format!("{:?}", everything().program);
    let b = format!("{:?}", everything().program);
    assert_eq!(a, b, "same input, same IR");
}
