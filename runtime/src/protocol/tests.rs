//! Protocol tests: exact bytes from the specifications, round trips of arbitrary values, and
//! hostile input that must fail cleanly.

use super::*;
use proptest::prelude::*;

/// A struct of every Thrift type, written by hand the way generated code writes it.
#[derive(Clone, Debug, PartialEq, Default)]
struct AllTypes {
    b: bool,
    i8_: i8,
    i16_: i16,
    i32_: i32,
    i64_: i64,
    d: f64,
    s: String,
    bin: Bytes,
    uuid: Uuid,
    list: Vec<i64>,
    bools: Vec<bool>,
    map: Vec<(String, i32)>,
    nested: Option<Box<AllTypes>>,
    far_field: Option<i16>,
}

impl Struct for AllTypes {
    fn encode<W: ProtocolWrite>(&self, w: &mut W) -> Result<(), ProtocolError> {
        w.write_struct_begin()?;
        w.write_field_begin(TType::Bool, 1)?;
        w.write_bool(self.b)?;
        w.write_field_begin(TType::I8, 2)?;
        w.write_i8(self.i8_)?;
        w.write_field_begin(TType::I16, 3)?;
        w.write_i16(self.i16_)?;
        w.write_field_begin(TType::I32, 4)?;
        w.write_i32(self.i32_)?;
        w.write_field_begin(TType::I64, 5)?;
        w.write_i64(self.i64_)?;
        w.write_field_begin(TType::Double, 6)?;
        w.write_double(self.d)?;
        w.write_field_begin(TType::String, 7)?;
        w.write_string(&self.s)?;
        w.write_field_begin(TType::String, 8)?;
        w.write_binary(&self.bin)?;
        w.write_field_begin(TType::Uuid, 9)?;
        w.write_uuid(&self.uuid)?;
        w.write_field_begin(TType::List, 10)?;
        w.write_list_begin(TType::I64, self.list.len())?;
        for v in &self.list {
            w.write_i64(*v)?;
        }
        w.write_list_end()?;
        w.write_field_begin(TType::Set, 11)?;
        w.write_set_begin(TType::Bool, self.bools.len())?;
        for v in &self.bools {
            w.write_bool(*v)?;
        }
        w.write_set_end()?;
        w.write_field_begin(TType::Map, 12)?;
        w.write_map_begin(TType::String, TType::I32, self.map.len())?;
        for (k, v) in &self.map {
            w.write_string(k)?;
            w.write_i32(*v)?;
        }
        w.write_map_end()?;
        if let Some(n) = &self.nested {
            w.write_field_begin(TType::Struct, 13)?;
            n.encode(w)?;
        }
        if let Some(v) = self.far_field {
            // Far from the previous id: the compact protocol's long field header.
            w.write_field_begin(TType::I16, 4000)?;
            w.write_i16(v)?;
        }
        w.write_field_stop()?;
        w.write_struct_end()
    }

    fn decode<R: ProtocolRead>(r: &mut R) -> Result<Self, ProtocolError> {
        let mut out = AllTypes::default();
        r.read_struct_begin()?;
        while let Some(f) = r.read_field_begin()? {
            match (f.id, f.ty) {
                (1, TType::Bool) => out.b = r.read_bool()?,
                (2, TType::I8) => out.i8_ = r.read_i8()?,
                (3, TType::I16) => out.i16_ = r.read_i16()?,
                (4, TType::I32) => out.i32_ = r.read_i32()?,
                (5, TType::I64) => out.i64_ = r.read_i64()?,
                (6, TType::Double) => out.d = r.read_double()?,
                (7, TType::String) => out.s = r.read_string()?,
                (8, TType::String) => out.bin = r.read_binary()?,
                (9, TType::Uuid) => out.uuid = r.read_uuid()?,
                (10, TType::List) => {
                    let h = r.read_list_begin()?;
                    for _ in 0..h.len {
                        out.list.push(r.read_i64()?);
                    }
                    r.read_list_end()?;
                }
                (11, TType::Set) => {
                    let h = r.read_set_begin()?;
                    for _ in 0..h.len {
                        out.bools.push(r.read_bool()?);
                    }
                    r.read_set_end()?;
                }
                (12, TType::Map) => {
                    let h = r.read_map_begin()?;
                    for _ in 0..h.len {
                        out.map.push((r.read_string()?, r.read_i32()?));
                    }
                    r.read_map_end()?;
                }
                (13, TType::Struct) => out.nested = Some(Box::new(AllTypes::decode(r)?)),
                (4000, TType::I16) => out.far_field = Some(r.read_i16()?),
                (_, ty) => r.skip(ty)?,
            }
        }
        r.read_struct_end()?;
        Ok(out)
    }
}

fn encode(v: &impl Struct, protocol: Protocol) -> Bytes {
    let mut buf = BytesMut::new();
    encode_struct(v, protocol, &mut buf).unwrap();
    buf.freeze()
}

fn all_types() -> impl Strategy<Value = AllTypes> {
    let leaf = (
        (any::<bool>(), any::<i8>()),
        any::<i16>(),
        any::<i32>(),
        any::<i64>(),
        any::<f64>().prop_filter("NaN != NaN", |d| !d.is_nan()),
        ".{0,20}",
        proptest::collection::vec(any::<u8>(), 0..40),
        any::<[u8; 16]>(),
        proptest::collection::vec(any::<i64>(), 0..20),
        proptest::collection::vec(any::<bool>(), 0..20),
        proptest::collection::vec((".{0,5}", any::<i32>()), 0..5),
        proptest::option::of(any::<i16>()),
    )
        .prop_map(
            |((b, i8_), i16_, i32_, i64_, d, s, bin, uuid, list, bools, map, far_field)| AllTypes {
                b,
                i8_,
                i16_,
                i32_,
                i64_,
                d,
                s,
                bin: Bytes::from(bin),
                uuid: Uuid::from_bytes(uuid),
                list,
                bools,
                map,
                nested: None,
                far_field,
            },
        );
    leaf.prop_recursive(3, 8, 1, |inner| {
        (inner.clone(), inner).prop_map(|(mut outer, child)| {
            outer.nested = Some(Box::new(child));
            outer
        })
    })
}

proptest! {
    #[test]
    fn every_value_round_trips(v in all_types()) {
        for protocol in [Protocol::Binary, Protocol::Compact] {
            let bytes = encode(&v, protocol);
            let back: AllTypes = decode_struct(bytes, protocol, DecodeLimits::default()).unwrap();
            prop_assert_eq!(&back, &v);
        }
    }

    #[test]
    fn every_truncation_fails_cleanly(v in all_types()) {
        for protocol in [Protocol::Binary, Protocol::Compact] {
            let bytes = encode(&v, protocol);
            for cut in 0..bytes.len() {
                let r = decode_struct::<AllTypes>(bytes.slice(..cut), protocol, DecodeLimits::default());
                prop_assert!(r.is_err(), "a struct cut at {} of {} bytes decoded", cut, bytes.len());
            }
        }
    }

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        for protocol in [Protocol::Binary, Protocol::Compact] {
            let _ = decode_struct::<AllTypes>(Bytes::from(bytes.clone()), protocol, DecodeLimits::default());
            let mut skipper = BinaryReader::new(Bytes::from(bytes.clone()), DecodeLimits::default());
            let _ = skipper.skip(TType::Struct);
            let mut skipper = CompactReader::new(Bytes::from(bytes.clone()), DecodeLimits::default());
            let _ = skipper.skip(TType::Struct);
        }
    }
}

#[test]
fn binary_bytes_match_the_specification() {
    let mut buf = BytesMut::new();
    let mut w = BinaryWriter::new(&mut buf);
    w.write_message_begin("ping", MessageType::Call, 7).unwrap();
    w.write_field_begin(TType::I32, 1).unwrap();
    w.write_i32(-2).unwrap();
    w.write_field_stop().unwrap();
    assert_eq!(
        &buf[..],
        &[
            0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4, b'p', b'i', b'n', b'g', 0, 0, 0, 7, // header
            8, 0, 1, 0xff, 0xff, 0xff, 0xfe, // i32 field 1 = -2
            0,    // stop
        ]
    );
}

#[test]
fn compact_bytes_match_the_specification() {
    let mut buf = BytesMut::new();
    let mut w = CompactWriter::new(&mut buf);
    w.write_message_begin("ping", MessageType::Call, 300)
        .unwrap();
    w.write_struct_begin().unwrap();
    w.write_field_begin(TType::I32, 1).unwrap();
    w.write_i32(-2).unwrap();
    w.write_field_begin(TType::Bool, 2).unwrap();
    w.write_bool(true).unwrap();
    w.write_field_begin(TType::I64, 20).unwrap();
    w.write_i64(1).unwrap();
    w.write_field_stop().unwrap();
    w.write_struct_end().unwrap();
    assert_eq!(
        &buf[..],
        &[
            0x82, 0x21, 0xac, 0x02, 4, b'p', b'i', b'n', b'g', // header, seqid 300 as varint
            0x15, 0x03, // delta 1, i32, zigzag(-2) = 3
            0x11, // delta 1, bool true
            0x06, 0x28, // long form: i64, zigzag(20) = 40
            0x02, // zigzag(1) = 2
            0x00, // stop
        ]
    );
}

#[test]
fn non_strict_binary_headers_are_read() {
    let bytes = Bytes::from_static(&[0, 0, 0, 4, b'p', b'i', b'n', b'g', 1, 0, 0, 0, 9]);
    let h = BinaryReader::new(bytes, DecodeLimits::default())
        .read_message_begin()
        .unwrap();
    assert_eq!((h.name(), h.kind, h.seqid), ("ping", MessageType::Call, 9));
}

#[test]
fn binary_values_are_zero_copy_slices() {
    let v = AllTypes {
        bin: Bytes::from(vec![7u8; 4096]),
        ..AllTypes::default()
    };
    let bytes = encode(&v, Protocol::Binary);
    let back: AllTypes =
        decode_struct(bytes.clone(), Protocol::Binary, DecodeLimits::default()).unwrap();
    let inside = bytes.as_ptr_range();
    assert!(
        inside.contains(&back.bin.as_ptr()),
        "the binary field was copied"
    );
}

#[test]
fn lying_lengths_are_refused_before_allocating() {
    // A string claiming 2^31-1 bytes in a 10-byte message.
    let mut buf = BytesMut::new();
    buf.extend_from_slice(&[11, 0, 7, 0x7f, 0xff, 0xff, 0xff, b'a', b'b', 0]);
    let e = decode_struct::<AllTypes>(buf.freeze(), Protocol::Binary, DecodeLimits::default())
        .unwrap_err();
    assert_eq!(e.kind(), ProtocolErrorKind::SizeLimit, "{e}");

    // A list claiming a million i64s in a few bytes.
    let bytes = Bytes::from_static(&[
        15, 0, 10, 10, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 0, 0, 0, 0, 1, 0,
    ]);
    let e =
        decode_struct::<AllTypes>(bytes, Protocol::Binary, DecodeLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ProtocolErrorKind::Truncated, "{e}");
    assert!(e.message().contains("1000000 elements"), "{e}");

    // A negative list size.
    let bytes = Bytes::from_static(&[15, 0, 10, 10, 0xff, 0xff, 0xff, 0xfe, 0]);
    let e =
        decode_struct::<AllTypes>(bytes, Protocol::Binary, DecodeLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ProtocolErrorKind::NegativeSize, "{e}");
}

#[test]
fn deep_nesting_hits_the_depth_limit() {
    // Struct field 13 nested 10,000 times (compact: 0x1c = delta 1 struct... use long form).
    let depth = 10_000;
    let mut bytes = Vec::new();
    for _ in 0..depth {
        bytes.extend_from_slice(&[12, 0, 13]);
    }
    bytes.extend(std::iter::repeat_n(0u8, depth + 1));
    let e = decode_struct::<AllTypes>(
        Bytes::from(bytes.clone()),
        Protocol::Binary,
        DecodeLimits::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), ProtocolErrorKind::DepthLimit, "{e}");
    let mut skipper = BinaryReader::new(Bytes::from(bytes), DecodeLimits::default());
    let e = skipper.skip(TType::Struct).unwrap_err();
    assert_eq!(e.kind(), ProtocolErrorKind::DepthLimit, "{e}");

    // Lists of lists: 10,000 deep.
    let mut bytes = vec![15, 0, 99];
    for _ in 0..depth {
        bytes.extend_from_slice(&[15, 0, 0, 0, 1]);
    }
    let mut skipper = BinaryReader::new(Bytes::from(bytes), DecodeLimits::default());
    let e = skipper.skip(TType::Struct).unwrap_err();
    assert_eq!(e.kind(), ProtocolErrorKind::DepthLimit, "{e}");
}

#[test]
fn unknown_fields_are_skipped() {
    // Field 99: a map<string, list<i32>> the reader does not know, then field 4 it does.
    let mut buf = BytesMut::new();
    let mut w = BinaryWriter::new(&mut buf);
    w.write_field_begin(TType::Map, 99).unwrap();
    w.write_map_begin(TType::String, TType::List, 1).unwrap();
    w.write_string("k").unwrap();
    w.write_list_begin(TType::I32, 2).unwrap();
    w.write_i32(1).unwrap();
    w.write_i32(2).unwrap();
    w.write_field_begin(TType::I32, 4).unwrap();
    w.write_i32(42).unwrap();
    w.write_field_stop().unwrap();
    let v: AllTypes =
        decode_struct(buf.freeze(), Protocol::Binary, DecodeLimits::default()).unwrap();
    assert_eq!(v.i32_, 42);
}

#[test]
fn invalid_utf8_strings_are_refused() {
    let bytes = Bytes::from_static(&[11, 0, 7, 0, 0, 0, 2, 0xc3, 0x28, 0]);
    let e =
        decode_struct::<AllTypes>(bytes, Protocol::Binary, DecodeLimits::default()).unwrap_err();
    assert_eq!(e.kind(), ProtocolErrorKind::InvalidData, "{e}");
    assert!(e.message().contains("UTF-8"), "{e}");
}

#[test]
fn chunked_writers_write_the_same_bytes_without_copying_large_binaries() {
    let big = Bytes::from(vec![9u8; ZERO_COPY_MIN * 2]);
    let small = Bytes::from_static(b"small");
    for protocol in [Protocol::Binary, Protocol::Compact] {
        let mut plain = BytesMut::new();
        let mut buf = BytesMut::new();
        let mut chunks = Vec::new();
        macro_rules! write_all {
            ($w:expr) => {{
                let w = &mut $w;
                w.write_struct_begin().unwrap();
                w.write_field_begin(TType::String, 1).unwrap();
                w.write_bytes(&big).unwrap();
                w.write_field_begin(TType::String, 2).unwrap();
                w.write_bytes(&small).unwrap();
                w.write_field_begin(TType::String, 3).unwrap();
                w.write_bytes(&big).unwrap();
                w.write_field_stop().unwrap();
                w.write_struct_end().unwrap();
            }};
        }
        match protocol {
            Protocol::Binary => {
                write_all!(BinaryWriter::new(&mut plain));
                write_all!(BinaryWriter::with_chunks(&mut buf, &mut chunks));
            }
            Protocol::Compact => {
                write_all!(CompactWriter::new(&mut plain));
                write_all!(CompactWriter::with_chunks(&mut buf, &mut chunks));
            }
        }
        let mut joined = Vec::new();
        for c in &chunks {
            joined.extend_from_slice(c);
        }
        joined.extend_from_slice(&buf);
        assert_eq!(joined, plain.to_vec(), "{protocol:?}");
        let by_reference = chunks.iter().filter(|c| c.as_ptr() == big.as_ptr()).count();
        assert_eq!(
            by_reference, 2,
            "{protocol:?}: both large values are kept by reference"
        );
    }
}
