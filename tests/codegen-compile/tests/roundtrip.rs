//! Generated structs, unions and enums encode and decode through both protocols, and follow
//! Thrift's rules for defaults, required and unknown fields.

use std::collections::{BTreeMap, BTreeSet};

use mosaic_codegen_compile::thrift_test::thrift_test::{
    Bonk, Insanity, Numberz, Xception, Xception2, Xtruct, Xtruct2,
};
use mosaic_codegen_compile::tricky::common::{Level, Stamp};
use mosaic_codegen_compile::tricky::keywords::{self, Dyn, Match, Type};
use mosaic_codegen_compile::tricky::shapes::{
    self, Circle, Color, Defaults, Empty, Implicit, Keys, Nothing, Ping, Point, Pong, Problem,
    Requireds, Shape, Silent, Single, Tagged, Tree, Value,
};
use mosaic_runtime::__private::Bytes;
use mosaic_runtime::protocol::{DecodeLimits, decode_struct, encode_struct};
use mosaic_runtime::{OrderedF64, Protocol, ProtocolErrorKind, Struct, Uuid};

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
    Point { x, y }
}

fn tree(depth: u32) -> Tree {
    Tree {
        value: depth as i32,
        left: (depth > 0).then(|| Box::new(tree(depth - 1))),
        right: None,
    }
}

#[test]
fn thrift_test_structs_round_trip() {
    let xtruct = Xtruct {
        string_thing: "hello".to_owned(),
        byte_thing: -1,
        i32_thing: i32::MIN,
        i64_thing: i64::MAX,
    };
    assert_round_trip(&xtruct);
    assert_round_trip(&Xtruct2 {
        byte_thing: 1,
        struct_thing: xtruct.clone(),
        i32_thing: 3,
    });
    assert_round_trip(&Insanity {
        user_map: BTreeMap::from([(Numberz::FIVE, 5), (Numberz(42), -1)]),
        xtructs: vec![xtruct.clone(), Xtruct::default()],
    });
}

#[test]
fn enums_keep_values_they_do_not_name() {
    let newer = Insanity {
        user_map: BTreeMap::from([(Numberz(1234), 1)]),
        xtructs: Vec::new(),
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
        r#type: 39,
        self_: 33,
        r#async: 3,
        r#gen: 17,
        r#try: 38,
        self__: 48,
        r: 49,
        w: 50,
        field: 51,
        f_type: 52,
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
    assert_round_trip(&keywords::Some_ { x: 1 });
    assert_round_trip(&keywords::Option {
        some: keywords::Result {
            ok: "ok".into(),
            err: "err".into(),
        },
        none: 0,
    });
}

#[test]
fn recursive_types_round_trip() {
    assert_round_trip(&tree(5));
    let ping = Ping {
        pong: Some(Box::new(Pong {
            ping: Some(Box::new(Ping::default())),
            label: "inner".into(),
        })),
        pings: vec![Ping::default()],
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
        center: point(1.0, 2.0),
        radius: 3.0,
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
fn ordered_keys_hold_doubles_structs_and_unions() {
    let keys = Keys {
        doubles: BTreeSet::from([OrderedF64(f64::NAN), OrderedF64(-0.0), OrderedF64(0.0)]),
        by_double: BTreeMap::from([(OrderedF64(1.5), "x".into())]),
        by_point: BTreeMap::from([
            (point(f64::NAN, 1.0), "nan".into()),
            (point(0.0, 0.0), "o".into()),
        ]),
        tagged: BTreeSet::from([
            Tagged::default(),
            Tagged {
                weight: 1,
                ..Tagged::default()
            },
        ]),
        double_lists: BTreeSet::from([vec![OrderedF64(1.0)], vec![]]),
        prices: BTreeMap::from([(OrderedF64(1.0), 2.0)]),
        price_lists: BTreeSet::from([vec![OrderedF64(2.5)]]),
        values: BTreeSet::from([
            Value::DoubleValue(1.0),
            Value::IntValue(1),
            Value::Boxed(Box::new(Value::IntValue(0))),
        ]),
        shapes: BTreeMap::from([(Color::RED, BTreeSet::from([Shape::Point(point(1.0, 1.0))]))]),
        blobs: BTreeSet::from([Bytes::from_static(b"a")]),
        ids: BTreeSet::from([Uuid::NIL]),
        price_set: BTreeSet::from([OrderedF64(9.0)]),
        stamps: BTreeMap::from([(Stamp { at: 1, weight: 0.5 }, 2)]),
        singles: BTreeSet::from([Single::Only("a".into())]),
        trees: BTreeSet::from([tree(2), tree(1)]),
        empties: BTreeSet::from([Empty {}]),
    };
    assert_round_trip(&keys);
    assert_eq!(
        keys.doubles.len(),
        3,
        "-0.0 and 0.0 are distinct keys; NaN is one"
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

#[test]
fn defaults_apply_when_absent_and_in_default() {
    let d = Defaults::default();
    assert_eq!(d.answer, 42);
    assert_eq!(d.greeting, "hello");
    assert_eq!(d.primes, vec![2, 3, 5]);
    assert_eq!(d.colors.get("red"), Some(&Color::RED));
    assert_eq!(
        d.ratio,
        Some(0.5),
        "an optional field's default is set in Default"
    );
    assert!(d.flag);
    assert_eq!(d.origin, point(1.5, -2.0));
    assert_eq!(d.value, Some(Value::IntValue(3)));
    assert_eq!(&d.blob[..], b"bytes");
    assert_eq!(d.id.to_string(), "00112233-4455-6677-8899-aabbccddeeff");
    assert_eq!(d.shape, None, "a union field without a default is None");
    assert_eq!(d.price_set, BTreeSet::from([OrderedF64(1.5)]));
    assert_round_trip(&d);

    // Only `flag` (required) on the wire: everything else takes its default, optional
    // fields stay unset.
    let minimal = Defaults {
        flag: false,
        ..Defaults::default()
    };
    #[derive(Debug)]
    struct OnlyFlag;
    impl Struct for OnlyFlag {
        fn encode<W: mosaic_runtime::ProtocolWrite>(
            &self,
            w: &mut W,
        ) -> Result<(), mosaic_runtime::ProtocolError> {
            w.write_struct_begin()?;
            w.write_field_begin(mosaic_runtime::TType::Bool, 6)?;
            w.write_bool(false)?;
            w.write_field_stop()?;
            w.write_struct_end()
        }
        fn decode<R: mosaic_runtime::ProtocolRead>(
            _: &mut R,
        ) -> Result<Self, mosaic_runtime::ProtocolError> {
            Ok(OnlyFlag)
        }
    }
    for result in transcode::<OnlyFlag, Defaults>(&OnlyFlag) {
        let decoded = result.expect("only the required field is needed");
        assert_eq!(
            decoded,
            Defaults {
                ratio: None,
                ..minimal.clone()
            }
        );
    }
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
        string_thing: "s".into(),
        byte_thing: 1,
        i32_thing: 2,
        i64_thing: 3,
    };
    for result in transcode::<Xtruct, Bonk>(&xtruct) {
        let bonk = result.expect("unknown fields are skipped");
        assert_eq!(
            bonk,
            Bonk {
                message: "s".into(),
                r#type: 0
            }
        );
    }
    // Xtruct2 has field 1 as a byte and field 2 as a struct; Bonk wants a string and an i32.
    let nested = Xtruct2 {
        byte_thing: 7,
        struct_thing: xtruct,
        i32_thing: 9,
    };
    for result in transcode::<Xtruct2, Bonk>(&nested) {
        assert_eq!(
            result.expect("mistyped fields are skipped"),
            Bonk::default()
        );
    }
}

#[test]
fn implicit_negative_ids_round_trip() {
    assert_round_trip(&Implicit {
        first: "a".into(),
        second: "b".into(),
        tenth: 10,
        fifth: 5,
    });
}

#[test]
fn exceptions_display_their_message_or_fields() {
    let x = Xception {
        error_code: 1001,
        message: "boom".into(),
    };
    assert_eq!(x.to_string(), "Xception: boom");
    let x2 = Xception2 {
        error_code: 2002,
        struct_thing: Xtruct::default(),
    };
    assert!(x2.to_string().starts_with("Xception2 {"), "{x2}");
    let silent = Silent { code: 3 };
    assert_eq!(silent.to_string(), "Silent { code: 3 }");
    let p = Problem {
        message: "bad".into(),
        code: 1,
    };
    let as_error: &dyn std::error::Error = &p;
    assert_eq!(as_error.to_string(), "Problem: bad");
    assert_eq!(
        shapes::OptionalMessage { message: None }.to_string(),
        "OptionalMessage { message: None }"
    );
    assert_eq!(
        keywords::Crate {
            message: "m".into()
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
    assert_eq!(shapes::LEAF.left.as_ref().map(|l| l.value), Some(2));
    assert_eq!(*shapes::EMPTY_DEFAULTS, Defaults::default());
    assert_eq!(shapes::ACCOUNT, 5);
    assert_eq!(*shapes::SOME_PRICES, vec![1.0, 2.0]);
    assert_eq!(shapes::NESTED_MAP["a"]["b"], vec![1, 2]);
    assert_eq!(shapes::LIMIT, 100);
    assert_eq!(shapes::LEVEL, Level::LOW);
    assert!(shapes::EMPTY_LIST.is_empty());
    assert_eq!(shapes::EPOCH, 0);
}
