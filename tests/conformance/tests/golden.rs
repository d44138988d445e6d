//! Golden bytes: every value in `tests/golden/corpus.json` (written by Apache Thrift's Python
//! runtime; `tests/python/test_golden.py` proves the file is current) decodes into Mosaic's
//! generated types and encodes back to the same bytes, in both protocols.
//!
//! Fields keep presence, so even values where Apache left out a field of default requiredness
//! come back as Apache wrote them. (The corpus's `*_filled` encodings, of the zero-filled
//! values, serve other languages.)

use std::fmt::Debug;
use std::path::PathBuf;

use mosaic_conformance::gen::thrift_test::*;
use mosaic_runtime::__private::{Bytes, BytesMut};
use mosaic_runtime::protocol::{decode_struct, encode_struct, DecodeLimits};
use mosaic_runtime::{Protocol, Struct};
use serde_json::Value;

fn corpus() -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../golden/corpus.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str::<Vec<Value>>(&text).expect("corpus.json is a JSON array")
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digits"))
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Decodes the entry in both protocols, checks both decode to the same value, and re-encodes.
/// Returns a description of every mismatch.
fn check<T: Struct + PartialEq + Debug>(entry: &Value) -> Vec<String> {
    let name = entry["name"].as_str().unwrap();
    let mut problems = Vec::new();
    let mut values = Vec::new();
    for (protocol, key) in [(Protocol::Binary, "binary"), (Protocol::Compact, "compact")] {
        let apache = unhex(entry[key].as_str().unwrap());
        let value: T = match decode_struct(Bytes::from(apache), protocol, DecodeLimits::default()) {
            Ok(v) => v,
            Err(e) => {
                problems.push(format!(
                    "{name} ({key}): Mosaic cannot decode Apache's bytes: {e}"
                ));
                continue;
            }
        };
        let expected = entry[key].as_str().unwrap();
        let mut out = BytesMut::new();
        encode_struct(&value, protocol, &mut out).unwrap();
        if hex(&out) != expected {
            problems.push(format!(
                "{name} ({key}): Mosaic writes\n    {}\n  Apache wrote\n    {expected}\n  value: {value:?}",
                hex(&out)
            ));
        }
        values.push(value);
    }
    if values.len() == 2 && values[0] != values[1] {
        problems.push(format!(
            "{name}: binary and compact decode to different values:\n  {:?}\n  {:?}",
            values[0], values[1]
        ));
    }
    problems
}

macro_rules! dispatch {
    ($entry:expr, $($ty:ident),* $(,)?) => {
        match $entry["type"].as_str().unwrap() {
            $(stringify!($ty) => check::<$ty>($entry),)*
            other => vec![format!("the corpus has type {other}, which this test does not know")],
        }
    };
}

#[test]
fn mosaic_writes_the_bytes_apache_writes() {
    let corpus = corpus();
    assert!(
        corpus.len() >= 80,
        "the corpus shrank to {} entries",
        corpus.len()
    );
    let mut problems = Vec::new();
    for entry in &corpus {
        problems.extend(dispatch!(
            entry,
            Bonk,
            BoolTest,
            Bools,
            CrazyNesting,
            EmptyStruct,
            GuessProtocolStruct,
            Insanity,
            LargeDeltas,
            ListBonks,
            ListTypeVersioningV1,
            ListTypeVersioningV2,
            NestedListsBonk,
            NestedListsI32x2,
            NestedListsI32x3,
            NestedMixedx2,
            OneField,
            OptionalBinary,
            OptionalSetDefaultTest,
            SomeUnion,
            StructA,
            StructB,
            VersioningTestV1,
            VersioningTestV2,
            Xception,
            Xception2,
            Xtruct,
            Xtruct2,
            Xtruct3,
        ));
    }
    assert!(
        problems.is_empty(),
        "{} of {} corpus entries differ:\n{}",
        problems.len(),
        corpus.len(),
        problems.join("\n")
    );
}
