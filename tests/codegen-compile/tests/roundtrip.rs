//! Generated structs, unions and enums encode and decode through both protocols, and follow
//! Thrift's rules for defaults, required and unknown fields.

use std::collections::{BTreeMap, BTreeSet};

use mosaic_codegen_compile::thrift_test::thrift_test::{
    Bonk, Insanity, Numberz, Xception, Xception2, Xtruct, Xtruct2,
};
use mosaic_codegen_compile::tricky::common::{Level, Stamp};
use mosaic_codegen_compile::tricky::keywords::{self, Dyn, Match, Type};
use mosaic_codegen_compile::tricky::shapes::{
    self, Circle, Color, Defaults, Empty, Implicit, ImplicitChoice, Keys, Nothing, Ping, Point,
    Pong, Problem, Requireds, Shape, Silent, Single, Tagged, Tree, Value,
};
use mosaic_runtime::__private::Bytes;
use mosaic_runtime::protocol::{DecodeLimits, decode_struct, encode_struct};
use mosaic_runtime::{
    OrderedF64, Protocol, ProtocolError, ProtocolErrorKind, ProtocolRead, ProtocolWrite, Struct,
    TType, Uuid,
};

const PROTOCOLS: [Protocol; 2] = [Protocol::Binary, Protocol::Compact];

fn encode<T: Struct>(value: &T, protocol: Protocol) -> Bytes {
    let mut out = mosaic_runtime::__private::bytes::BytesMut::new();
    encode_struct(value, protocol, &mut out).expect("generated values encode");
    out.freeze()
}

fn decode<T: Struct>(bytes: Bytes, protocol: Protocol) -> Result<T, mosaic_runtime::ProtocolError> {
    decode_struct(bytes, protocol, DecodeLimits::default())
}

/// Encodes `value`, decodes it as `U`, in each protocol.
fn transcode<T: Struct, U: Struct>(value: &T) -> Vec<Result<U, mosaic_runtime::ProtocolError>> {
    PROTOCOLS
        .iter()
        .map(|&p| decode(encode(value, p), p))
        .collect()
}

fn assert_round_trip<T: Struct + PartialEq + std::fmt::Debug>(value: &T) {
    for p in PROTOCOLS {
        let back: T = decode(encode(value, p), p)
            .unwrap_or_else(|e| panic!("{value:?} decodes in {p:?}: {e}"));
        assert_eq!(&back, value, "{p:?} round trip");
    }
}

fn point(x: f64, y: f64) -> Point {
    Point {
        x: Some(x),
        y: Some(y),
    }
}

fn tree(depth: u32) -> Tree {
    Tree {
        value: Some(depth as i32),
        left: (depth > 0).then(|| Box::new(tree(depth - 1))),
        right: None,
    }
}

#[test]
fn thrift_test_structs_round_trip() {
    let xtruct = Xtruct {
        string_thing: Some("hello".to_owned()),
        byte_thing: Some(-1),
        i32_thing: Some(i32::MIN),
        i64_thing: Some(i64::MAX),
    };
    assert_round_trip(&xtruct);
    assert_round_trip(&Xtruct2 {
        byte_thing: Some(1),
        struct_thing: Some(xtruct.clone()),
        i32_thing: Some(3),
    });
    assert_round_trip(&Insanity {
        user_map: Some(BTreeMap::from([(Numberz::FIVE, 5), (Numberz(42), -1)])),
        xtructs: Some(vec![xtruct.clone(), Xtruct::default()]),
    });
}

#[test]
fn enums_keep_values_they_do_not_name() {
    let newer = Insanity {
        user_map: Some(BTreeMap::from([(Numberz(1234), 1)])),
        xtructs: Some(Vec::new()),
    };
    assert_round_trip(&newer);
    assert_eq!(
        format!("{:?}", Numberz::ONE),
        "ONE",
        "known values print their name"
    );
    assert_eq!(
        format!("{:?}", Numberz(1234)),
        "1234",
        "unknown ones their number"
    );
    assert_eq!(Numberz::from_name("EIGHT"), Some(Numberz::EIGHT));
    assert_eq!(Numberz(7).name(), None, "7 is not a Numberz");
    assert_eq!(i32::from(Numberz::TWO), 2);
    assert_eq!(
        shapes::Signed::ZERO.name(),
        Some("ZERO"),
        "the first name of a number wins"
    );
    assert_eq!(shapes::Signed::MINUS.0, -1);
}

#[test]
fn keyword_names_round_trip() {
    let value = Type {
        r#type: Some(39),
        self_: Some(33),
        r#async: Some(3),
        r#gen: Some(17),
        r#try: Some(38),
        self__: Some(48),
        r: Some(49),
        w: Some(50),
        field: Some(51),
        f_type: None,
        ..Type::default()
    };
    assert_round_trip(&value);
    assert_round_trip(&Match::Loop(value));
    assert_round_trip(&Match::While(Dyn::self_));
    assert_eq!(
        format!("{:?}", Dyn::Self_),
        "Self",
        "values print their IDL name"
    );
    assert_eq!(
        Dyn::from_name("name"),
        Some(Dyn::name_),
        "reserved names get a suffix"
    );
    assert_round_trip(&keywords::Some_ { x: Some(1) });
    assert_round_trip(&keywords::Option {
        some: Some(keywords::Result {
            ok: Some("ok".into()),
            err: Some("err".into()),
        }),
        none: Some(0),
    });
}

#[test]
fn recursive_types_round_trip() {
    assert_round_trip(&tree(5));
    let ping = Ping {
        pong: Some(Box::new(Pong {
            ping: Some(Box::new(Ping::default())),
            label: Some("inner".into()),
        })),
        pings: Some(vec![Ping::default()]),
    };
    assert_round_trip(&ping);
    let value = Value::MapValue(BTreeMap::from([
        (
            "list".to_owned(),
            Value::ListValue(vec![Value::IntValue(1), Value::DoubleValue(0.5)]),
        ),
        (
            "boxed".to_owned(),
            Value::Boxed(Box::new(Value::StringValue("s".into()))),
        ),
    ]));
    assert_round_trip(&value);
}

#[test]
fn unions_encode_one_field_and_need_one() {
    assert_round_trip(&Shape::Circle(Circle {
        center: Some(point(1.0, 2.0)),
        radius: Some(3.0),
    }));
    assert_round_trip(&Single::Only("only".into()));
    for result in transcode::<Empty, Value>(&Empty {}) {
        let e = result.expect_err("a union with no field set is an error");
        assert!(
            e.message().contains("Value"),
            "the error names the union: {e}"
        );
    }
    for result in transcode::<Empty, Nothing>(&Empty {}) {
        assert!(result.is_err(), "an empty union can never decode");
    }
}

#[test]
fn a_member_from_a_newer_idl_decodes_as_unknown_and_is_never_written() {
    // Field 9 is no member of Shape: a peer with a newer IDL sent it.
    assert_reads_as(&Raw(vec![(9, Wire::I32(7))]), &Shape::Unknown(9));
    assert_reads_as(&Raw(vec![(9, Wire::I32(7))]), &Nothing::Unknown(9));
    // A member this code knows wins over one it does not, in either order.
    for fields in [
        vec![(9, Wire::I32(7)), (1, Wire::Str("a"))],
        vec![(1, Wire::Str("a")), (9, Wire::I32(7))],
    ] {
        assert_reads_as(&Raw(fields), &Single::Only("a".into()));
    }
    for protocol in PROTOCOLS {
        let mut out = mosaic_runtime::__private::bytes::BytesMut::new();
        let e = encode_struct(&Shape::Unknown(9), protocol, &mut out)
            .expect_err("Unknown cannot be written");
        assert!(
            e.message().contains("Shape") && e.message().contains("field id 9"),
            "the error names the union and the id: {e}"
        );
    }
    // Implicit (negative) ids are members too.
    assert_round_trip(&ImplicitChoice::First("a".into()));
    assert_round_trip(&ImplicitChoice::Second(2));
    assert_reads_as(&Raw(vec![(-2, Wire::I32(2))]), &ImplicitChoice::Second(2));
    assert_reads_as(&Raw(vec![(-3, Wire::I32(3))]), &ImplicitChoice::Unknown(-3));
    // Unknown members order after every known one, by id.
    let mut shapes = vec![
        Shape::Unknown(3),
        Shape::Point(point(0.0, 0.0)),
        Shape::Unknown(2),
    ];
    shapes.sort_by(mosaic_runtime::TotalOrd::total_cmp);
    assert_eq!(
        shapes,
        [
            Shape::Point(point(0.0, 0.0)),
            Shape::Unknown(2),
            Shape::Unknown(3)
        ]
    );
}

#[test]
fn ordered_keys_hold_doubles_structs_and_unions() {
    let keys = Keys {
        doubles: Some(BTreeSet::from([
            OrderedF64(f64::NAN),
            OrderedF64(-0.0),
            OrderedF64(0.0),
        ])),
        by_double: Some(BTreeMap::from([(OrderedF64(1.5), "x".into())])),
        by_point: Some(BTreeMap::from([
            (point(f64::NAN, 1.0), "nan".into()),
            (point(0.0, 0.0), "o".into()),
            (Point { x: None, y: None }, "unset".into()),
        ])),
        tagged: Some(BTreeSet::from([
            Tagged::default(),
            Tagged {
                weight: Some(1),
                ..Tagged::default()
            },
            Tagged {
                name: None,
                ..Tagged::default()
            },
        ])),
        double_lists: Some(BTreeSet::from([vec![OrderedF64(1.0)], vec![]])),
        prices: Some(BTreeMap::from([(OrderedF64(1.0), 2.0)])),
        price_lists: Some(BTreeSet::from([vec![OrderedF64(2.5)]])),
        values: Some(BTreeSet::from([
            Value::DoubleValue(1.0),
            Value::IntValue(1),
            Value::Boxed(Box::new(Value::IntValue(0))),
        ])),
        shapes: Some(BTreeMap::from([(
            Color::RED,
            BTreeSet::from([Shape::Point(point(1.0, 1.0))]),
        )])),
        blobs: Some(BTreeSet::from([Bytes::from_static(b"a")])),
        ids: Some(BTreeSet::from([Uuid::NIL])),
        price_set: Some(BTreeSet::from([OrderedF64(9.0)])),
        stamps: Some(BTreeMap::from([(
            Stamp {
                at: Some(1),
                weight: Some(0.5),
            },
            2,
        )])),
        singles: Some(BTreeSet::from([Single::Only("a".into())])),
        trees: Some(BTreeSet::from([tree(2), tree(1)])),
        empties: None,
    };
    assert_round_trip(&keys);
    assert_eq!(
        keys.doubles.as_ref().map(BTreeSet::len),
        Some(3),
        "-0.0 and 0.0 are distinct keys; NaN is one"
    );
    assert!(
        Point { x: None, y: None } < point(f64::NEG_INFINITY, 0.0),
        "an unset field orders first"
    );
    assert!(
        point(f64::NAN, 0.0) == point(f64::NAN, 0.0),
        "ordered structs compare NaN equal"
    );
    assert!(
        Value::IntValue(9) < Value::DoubleValue(0.0),
        "variants order by position first"
    );
}

/// A struct written field by field as a peer might write it: any ids, any types.
#[derive(Clone, Debug)]
struct Raw(Vec<(i16, Wire)>);

/// A value as it travels, with the types its container headers claim.
#[derive(Clone, Debug)]
enum Wire {
    Bool(bool),
    I32(i32),
    I64(i64),
    Str(&'static str),
    List(TType, Vec<Wire>),
    Set(TType, Vec<Wire>),
    Map(TType, TType, Vec<(Wire, Wire)>),
    Struct(Vec<(i16, Wire)>),
}

impl Wire {
    fn ttype(&self) -> TType {
        match self {
            Wire::Bool(_) => TType::Bool,
            Wire::I32(_) => TType::I32,
            Wire::I64(_) => TType::I64,
            Wire::Str(_) => TType::String,
            Wire::List(..) => TType::List,
            Wire::Set(..) => TType::Set,
            Wire::Map(..) => TType::Map,
            Wire::Struct(_) => TType::Struct,
        }
    }

    fn write<W: ProtocolWrite>(&self, w: &mut W) -> Result<(), ProtocolError> {
        match self {
            Wire::Bool(b) => w.write_bool(*b),
            Wire::I32(i) => w.write_i32(*i),
            Wire::I64(i) => w.write_i64(*i),
            Wire::Str(s) => w.write_string(s),
            Wire::List(t, items) => {
                w.write_list_begin(*t, items.len())?;
                items.iter().try_for_each(|e| e.write(w))?;
                w.write_list_end()
            }
            Wire::Set(t, items) => {
                w.write_set_begin(*t, items.len())?;
                items.iter().try_for_each(|e| e.write(w))?;
                w.write_set_end()
            }
            Wire::Map(k, v, entries) => {
                w.write_map_begin(*k, *v, entries.len())?;
                for (key, value) in entries {
                    key.write(w)?;
                    value.write(w)?;
                }
                w.write_map_end()
            }
            Wire::Struct(fields) => write_fields(fields, w),
        }
    }
}

fn write_fields<W: ProtocolWrite>(fields: &[(i16, Wire)], w: &mut W) -> Result<(), ProtocolError> {
    w.write_struct_begin()?;
    for (id, value) in fields {
        w.write_field_begin(value.ttype(), *id)?;
        value.write(w)?;
    }
    w.write_field_stop()?;
    w.write_struct_end()
}

impl Struct for Raw {
    fn encode<W: ProtocolWrite>(&self, w: &mut W) -> Result<(), ProtocolError> {
        write_fields(&self.0, w)
    }

    fn decode<R: ProtocolRead>(_: &mut R) -> Result<Self, ProtocolError> {
        Err(ProtocolError::new(
            ProtocolErrorKind::InvalidData,
            "Raw is only written",
        ))
    }
}

/// Decodes `raw` as `T` in each protocol and checks the result.
fn assert_reads_as<T: Struct + PartialEq + std::fmt::Debug>(raw: &Raw, expected: &T) {
    for (p, result) in PROTOCOLS.iter().zip(transcode::<Raw, T>(raw)) {
        let value = result.unwrap_or_else(|e| panic!("{raw:?} decodes in {p:?}: {e}"));
        assert_eq!(&value, expected, "{raw:?} in {p:?}");
    }
}

#[test]
fn default_requiredness_fields_keep_presence() {
    // Fields left out stay out, fields set to zero stay set: an echo writes what arrived.
    let partial = Xtruct {
        string_thing: Some(String::new()),
        byte_thing: None,
        i32_thing: Some(0),
        i64_thing: None,
    };
    assert_round_trip(&partial);
    assert_reads_as(
        &Raw(vec![(9, Wire::I32(0))]),
        &Xtruct {
            string_thing: None,
            byte_thing: None,
            i32_thing: Some(0),
            i64_thing: None,
        },
    );
    for p in PROTOCOLS {
        let nothing = Xtruct {
            string_thing: None,
            byte_thing: None,
            i32_thing: None,
            i64_thing: None,
        };
        assert_eq!(
            encode(&nothing, p),
            encode(&Empty {}, p),
            "unset fields are not written"
        );
        assert_ne!(
            encode(&Xtruct::default(), p),
            encode(&Empty {}, p),
            "a default struct writes its fields"
        );
    }

    // `Default` is req-out: every default-requiredness field is set, to its zero value.
    assert_eq!(
        Xtruct::default(),
        Xtruct {
            string_thing: Some(String::new()),
            byte_thing: Some(0),
            i32_thing: Some(0),
            i64_thing: Some(0),
        }
    );
    assert_eq!(
        Xtruct2::default().struct_thing,
        Some(Xtruct::default()),
        "nested structs too"
    );
    assert_eq!(Insanity::default().xtructs, Some(Vec::new()));
    assert_eq!(
        Tree::default(),
        Tree {
            value: Some(0),
            left: None,
            right: None,
        },
        "optional fields are unset"
    );
    let ping = Ping::default();
    assert_eq!(ping.pong, None, "a recursive field is unset");
    assert_eq!(ping.pings, Some(Vec::new()));
    assert_eq!(Circle::default().center, Some(Point::default()));
    assert_eq!(
        Point::default(),
        Point {
            x: Some(0.0),
            y: Some(0.0)
        }
    );
}

#[test]
fn defaults_apply_when_absent_and_in_default() {
    let d = Defaults::default();
    assert_eq!(d.answer, Some(42));
    assert_eq!(d.greeting.as_deref(), Some("hello"));
    assert_eq!(d.primes, Some(vec![2, 3, 5]));
    assert_eq!(
        d.colors.as_ref().and_then(|c| c.get("red")),
        Some(&Color::RED)
    );
    assert_eq!(
        d.ratio,
        Some(0.5),
        "an optional field's default is set in Default"
    );
    assert!(d.flag);
    assert_eq!(d.origin, Some(point(1.5, -2.0)));
    assert_eq!(d.value, Some(Value::IntValue(3)));
    assert_eq!(d.blob.as_deref(), Some(&b"bytes"[..]));
    assert_eq!(
        d.id.map(|id| id.to_string()).as_deref(),
        Some("00112233-4455-6677-8899-aabbccddeeff")
    );
    assert_eq!(d.zero, Some(0), "a zero default is a default too");
    assert_eq!(d.shape, None, "a union field without a default is None");
    assert_eq!(d.maybe_shape, None);
    assert_eq!(d.off, Some(false));
    assert_eq!(d.price_set, Some(BTreeSet::from([OrderedF64(1.5)])));
    assert_round_trip(&d);

    // Only `flag` (required) on the wire: default-requiredness fields with an IDL default take
    // it (as Apache's runtimes read them), the others and optional fields stay unset.
    let only_flag = Raw(vec![(6, Wire::Bool(false))]);
    assert_reads_as(
        &only_flag,
        &Defaults {
            ratio: None,
            flag: false,
            ..Defaults::default()
        },
    );
}

#[test]
fn required_fields_must_be_present() {
    for result in transcode::<Empty, Requireds>(&Empty {}) {
        let e = result.expect_err("required fields are missing");
        assert_eq!(e.kind(), ProtocolErrorKind::MissingField);
        assert!(
            e.message().contains("name"),
            "the first missing field is named: {e}"
        );
    }
    let complete = Requireds {
        name: "n".into(),
        tree: tree(1),
        maybe: None,
        value: Some(Value::IntValue(1)),
        color: Color::GREEN,
    };
    assert_round_trip(&complete);
    let unset = Requireds {
        value: None,
        ..complete
    };
    for p in PROTOCOLS {
        let mut out = mosaic_runtime::__private::bytes::BytesMut::new();
        let e = encode_struct(&unset, p, &mut out)
            .expect_err("a required field left unset does not encode");
        assert_eq!(e.kind(), ProtocolErrorKind::MissingField);
    }
}

#[test]
fn unknown_and_mistyped_fields_are_skipped() {
    let xtruct = Xtruct {
        string_thing: Some("s".into()),
        byte_thing: Some(1),
        i32_thing: Some(2),
        i64_thing: Some(3),
    };
    for result in transcode::<Xtruct, Bonk>(&xtruct) {
        let bonk = result.expect("unknown fields are skipped");
        assert_eq!(
            bonk,
            Bonk {
                message: Some("s".into()),
                r#type: None,
            }
        );
    }
    // Xtruct2 has field 1 as a byte and field 2 as a struct; Bonk wants a string and an i32.
    let nested = Xtruct2 {
        byte_thing: Some(7),
        struct_thing: Some(xtruct),
        i32_thing: Some(9),
    };
    for result in transcode::<Xtruct2, Bonk>(&nested) {
        assert_eq!(
            result.expect("mistyped fields are skipped"),
            Bonk {
                message: None,
                r#type: None,
            }
        );
    }
}

#[test]
fn containers_with_other_element_types_are_skipped() {
    use mosaic_codegen_compile::thrift_test::thrift_test::{
        ListTypeVersioningV1, ListTypeVersioningV2, NestedListsI32x2, NestedMixedx2,
        VersioningTestV2,
    };

    // list<string> where the IDL says list<i32>, and back: the field is absent, the rest read.
    let strings = ListTypeVersioningV2 {
        strings: Some(vec!["a".into(), "b".into()]),
        hello: Some("hello".into()),
    };
    for result in transcode::<_, ListTypeVersioningV1>(&strings) {
        assert_eq!(
            result.expect("the mismatched list is skipped"),
            ListTypeVersioningV1 {
                myints: None,
                hello: Some("hello".into()),
            }
        );
    }
    let ints = ListTypeVersioningV1 {
        myints: Some(vec![1, 2, 3]),
        hello: None,
    };
    for result in transcode::<_, ListTypeVersioningV2>(&ints) {
        assert_eq!(
            result.expect("the mismatched list is skipped"),
            ListTypeVersioningV2 {
                strings: None,
                hello: None,
            }
        );
    }

    // Sets, map keys and map values, each followed by a field that still decodes.
    let unset_v2 = VersioningTestV2 {
        begin_in_both: None,
        newint: None,
        newbyte: None,
        newshort: None,
        newlong: None,
        newdouble: None,
        newstruct: None,
        newlist: None,
        newset: None,
        newmap: None,
        newstring: None,
        end_in_both: Some(12),
    };
    let end = (12, Wire::I32(12));
    for mismatched in [
        (9, Wire::Set(TType::I64, vec![Wire::I64(1), Wire::I64(2)])),
        (
            10,
            Wire::Map(
                TType::String,
                TType::I32,
                vec![(Wire::Str("k"), Wire::I32(1))],
            ),
        ),
        (
            10,
            Wire::Map(TType::I32, TType::I64, vec![(Wire::I32(1), Wire::I64(1))]),
        ),
        (
            8,
            Wire::List(TType::Struct, vec![Wire::Struct(vec![(1, Wire::I32(1))])]),
        ),
    ] {
        assert_reads_as(&Raw(vec![mismatched, end.clone()]), &unset_v2);
    }

    // An empty container matches whatever types its header names.
    assert_reads_as(
        &Raw(vec![
            (8, Wire::List(TType::String, vec![])),
            (9, Wire::Set(TType::Struct, vec![])),
            (10, Wire::Map(TType::String, TType::List, vec![])),
            end.clone(),
        ]),
        &VersioningTestV2 {
            newlist: Some(Vec::new()),
            newset: Some(BTreeSet::new()),
            newmap: Some(BTreeMap::new()),
            ..unset_v2.clone()
        },
    );

    // Nested containers: a mismatch at any depth leaves the whole field absent, and the
    // elements after it are still read past correctly.
    let inner = |t: TType, items: Vec<Wire>| Wire::List(t, items);
    assert_reads_as(
        &Raw(vec![(
            1,
            Wire::List(
                TType::List,
                vec![
                    inner(TType::I32, vec![Wire::I32(1)]),
                    inner(TType::String, vec![Wire::Str("x")]),
                    inner(TType::I32, vec![Wire::I32(3)]),
                ],
            ),
        )]),
        &NestedListsI32x2 { integerlist: None },
    );
    assert_reads_as(
        &Raw(vec![(
            1,
            Wire::List(
                TType::List,
                vec![
                    inner(TType::I32, vec![Wire::I32(1)]),
                    inner(TType::Bool, vec![]),
                ],
            ),
        )]),
        &NestedListsI32x2 {
            integerlist: Some(vec![vec![1], vec![]]),
        },
    );
    // `set<string>` deep inside, or a set of i64 in its place.
    let strset = |t: TType| match t {
        TType::String => Wire::Set(t, vec![Wire::Str("s")]),
        _ => Wire::Set(t, vec![Wire::I64(1)]),
    };
    let mixed = |t: TType| {
        Raw(vec![
            (
                1,
                Wire::List(TType::Set, vec![Wire::Set(TType::I32, vec![Wire::I32(1)])]),
            ),
            (
                2,
                Wire::Map(TType::I32, TType::Set, vec![(Wire::I32(1), strset(t))]),
            ),
            (
                3,
                Wire::List(
                    TType::Map,
                    vec![Wire::Map(
                        TType::I32,
                        TType::Set,
                        vec![(Wire::I32(2), strset(t)), (Wire::I32(3), strset(t))],
                    )],
                ),
            ),
        ])
    };
    let sets = BTreeMap::from([(1, BTreeSet::from(["s".to_owned()]))]);
    assert_reads_as(
        &mixed(TType::String),
        &NestedMixedx2 {
            int_set_list: Some(vec![BTreeSet::from([1])]),
            map_int_strset: Some(sets),
            map_int_strset_list: Some(vec![BTreeMap::from([
                (2, BTreeSet::from(["s".to_owned()])),
                (3, BTreeSet::from(["s".to_owned()])),
            ])]),
        },
    );
    assert_reads_as(
        &mixed(TType::I64),
        &NestedMixedx2 {
            int_set_list: Some(vec![BTreeSet::from([1])]),
            map_int_strset: None,
            map_int_strset_list: None,
        },
    );

    // In a union, a mismatched container is no field: an earlier one stays, none is an error.
    let ints = Wire::List(TType::I32, vec![Wire::I32(1)]);
    assert_reads_as(
        &Raw(vec![(1, Wire::I64(5)), (4, ints.clone())]),
        &Value::IntValue(5),
    );
    for result in transcode::<_, Value>(&Raw(vec![(4, ints)])) {
        let e = result.expect_err("no field of the union was readable");
        assert!(e.message().contains("Value"), "{e}");
    }
}

#[test]
fn implicit_negative_ids_round_trip() {
    assert_round_trip(&Implicit {
        first: Some("a".into()),
        second: Some("b".into()),
        tenth: Some(10),
        fifth: None,
    });
}

#[test]
fn exceptions_display_their_message_or_fields() {
    let x = Xception {
        error_code: Some(1001),
        message: Some("boom".into()),
    };
    assert_eq!(x.to_string(), "Xception: boom");
    let x2 = Xception2 {
        error_code: Some(2002),
        struct_thing: Some(Xtruct::default()),
    };
    assert!(x2.to_string().starts_with("Xception2 {"), "{x2}");
    let silent = Silent { code: Some(3) };
    assert_eq!(silent.to_string(), "Silent { code: Some(3) }");
    let p = Problem {
        message: Some("bad".into()),
        code: Some(1),
    };
    let as_error: &dyn std::error::Error = &p;
    assert_eq!(as_error.to_string(), "Problem: bad");
    assert_eq!(
        Problem {
            message: None,
            code: Some(2)
        }
        .to_string(),
        "Problem { message: None, code: Some(2) }",
        "an unset message shows the fields"
    );
    assert_eq!(
        shapes::OptionalMessage { message: None }.to_string(),
        "OptionalMessage { message: None }"
    );
    assert_eq!(
        keywords::Crate {
            message: Some("m".into())
        }
        .to_string(),
        "Crate: m"
    );
}

#[test]
fn constants_have_their_values() {
    assert_eq!(shapes::SMALL, -128);
    assert_eq!(shapes::MEDIUM, 32767);
    assert_eq!(shapes::INT_MIN, i32::MIN);
    assert_eq!(shapes::LONG_MIN, i64::MIN);
    assert_eq!(shapes::NEG, -0.5);
    assert_eq!(shapes::BIG, 1e100);
    assert_eq!(shapes::ESCAPED, "quote\" backslash\\ tab\t newline\n");
    assert_eq!(shapes::BLOB, b"raw bytes");
    assert_eq!(
        shapes::ROOT.to_string(),
        "00112233-4455-6677-8899-aabbccddeeff"
    );
    assert_eq!(shapes::FAVOURITE, Color::blue);
    assert_eq!(*shapes::POINTS, vec![point(1.0, 2.0)]);
    assert_eq!(
        *shapes::DOUBLE_SET,
        BTreeSet::from([OrderedF64(1.5), OrderedF64(2.5)])
    );
    assert_eq!(shapes::PRICE_TABLE[&OrderedF64(1.0)], vec![2.0]);
    assert_eq!(
        *shapes::NESTED_VALUE,
        Value::ListValue(vec![Value::IntValue(1), Value::StringValue("two".into())])
    );
    assert_eq!(
        shapes::LEAF.left.as_ref().and_then(|l| l.value),
        Some(2),
        "fields a constant names are set"
    );
    assert_eq!(shapes::LEAF.right, None);
    assert_eq!(*shapes::EMPTY_DEFAULTS, Defaults::default());
    assert_eq!(shapes::ACCOUNT, 5);
    assert_eq!(*shapes::SOME_PRICES, vec![1.0, 2.0]);
    assert_eq!(shapes::NESTED_MAP["a"]["b"], vec![1, 2]);
    assert_eq!(shapes::LIMIT, 100);
    assert_eq!(shapes::LEVEL, Level::LOW);
    assert!(shapes::EMPTY_LIST.is_empty());
    assert_eq!(shapes::EPOCH, 0);
}
