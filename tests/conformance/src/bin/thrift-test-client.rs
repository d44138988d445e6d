//! `thrift-test-client`: Mosaic's generated `ThriftTestClient` (and `SecondServiceClient`)
//! against any ThriftTest server, under the contract of Apache Thrift's cross test:
//!
//! ```text
//! thrift-test-client [--host=H] [--port=N] [--protocol=binary|compact|multi|multic]
//!                    [--transport=buffered|framed] [--testloops=N] [--no-uuid]
//! ```
//!
//! It calls every `ThriftTest` method with the values `shared/conformance/README.md` lists
//! (and more), checks each reply, prints one `FAIL` line per failed check with what was
//! expected and what came back, and exits with Apache's bit mask: 0 when everything passed,
//! else 1 base types, 2 structs, 4 containers, 8 exceptions, 64 set-up, 128 timeout.
//! With `multi`/`multic` it also calls `SecondService.secondtestString`.
//!
//! All calls go over one connection, as Apache's C++, Java and Rust clients make them.
//! `--no-uuid` is for servers built from an IDL without `uuid` (Apache Thrift before 0.18,
//! e.g. Apache's Python `TestServer.py` of 0.17): an `UNKNOWN_METHOD` answer to `testUuid`
//! then counts as "not supported" instead of a failure.

use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Debug};
use std::future::Future;
use std::hash::BuildHasher;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mosaic_conformance::gen::thrift_test::{
    Insanity, Numberz, SecondServiceClient, TestExceptionError, TestMultiExceptionError,
    ThriftTestClient, Xception, Xception2, Xtruct, Xtruct2,
};
use mosaic_runtime::__private::Bytes;
use mosaic_runtime::transport::Framing;
use mosaic_runtime::{ApplicationExceptionKind, Client, Error, Protocol, Uuid};

const USAGE: &str = "usage: thrift-test-client [--host=H] [--port=N] \
                     [--protocol=binary|compact|multi|multic] [--transport=buffered|framed] \
                     [--testloops=N] [--no-uuid]";

/// Apache's exit-code bits.
const BASE_TYPES: u8 = 1;
const STRUCTS: u8 = 2;
const CONTAINERS: u8 = 4;
const EXCEPTIONS: u8 = 8;
const SETUP: u8 = 64;
const TIMEOUT: u8 = 128;

/// The deadline of every call: far above any honest server's answer time.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);
/// How many `testString` and `testI32` calls are in flight together at the end.
const PIPELINED: i32 = 32;
/// How long sending `testOneway(1)` may take (it must not wait for the server's sleep).
const ONEWAY_BOUND: Duration = Duration::from_millis(1000);

// ---- the values sent ------------------------------------------------------------------

const BOOLS: &[bool] = &[true, false];
const BYTES: &[i8] = &[0, 1, -1, 42, -42, 63, 127, -127, -128];
const I32S: &[i32] = &[0, 1, -1, 190_000_013, -190_000_013, i32::MAX, i32::MIN];
const I64S: &[i64] = &[
    0,
    1,
    -1,
    -34_359_738_368,
    7_000_000_000_000_000_123,
    -7_000_000_000_000_000_123,
    1 << 32,
    -(1 << 32),
    (1 << 32) + 1,
    -((1 << 32) + 1),
    i64::MAX,
    i64::MIN,
];
// The literal as Apache's clients write it (it has more digits than an f64 keeps).
#[allow(clippy::excessive_precision)]
const DOUBLES: &[f64] = &[
    0.0,
    -0.0,
    -1.0,
    -5.235098235,
    -0.000341012439638598279,
    4_294_967_296.0,
    -4_294_967_296.0,
    4_294_967_297.0,
    -4_294_967_297.0,
    9_007_199_254_740_991.0,
    -9_007_199_254_740_991.0,
    1e307,
    1e-292,
    f64::MAX,
    f64::MIN_POSITIVE,
    5e-324, // the smallest subnormal
    f64::INFINITY,
    f64::NEG_INFINITY,
];
const STRINGS: &[&str] = &[
    "",
    "Test",
    "Mosaic",
    // Escapes that JSON writers and C string handling trip over.
    "quote \" backslash \\ slash / braces {} colon : bracket [] comma ,",
    "\u{8}\t\n\u{c}\r\u{b}\u{0}\u{1}\u{1f}\u{7f}",
    "\\u0041 is not A, \\n is not a newline, %s %d %% are not formats",
    // Separators and marks that are easy to mangle.
    "\u{feff}byte order mark, \u{2028}line separator, \u{2029}paragraph separator",
    "e\u{301} (combining acute) \u{fb01} (ligature) \u{200d}\u{200b} (zero width)",
    // Text in many scripts, one, two, three and four bytes per character in UTF-8.
    "English, Deutsch: Grüße, français: à l'œuvre, español: ¿qué?, polski: źdźbło",
    "Ελληνικά, русский язык, українська, български, ქართული, Հայերեն",
    "עברית, العربية, فارسی, اردو, हिन्दी, বাংলা, தமிழ், ไทย, ລາວ, မြန်မာ",
    "中文，日本語のテキスト、한국어 문장, Tiếng Việt, ᏣᎳᎩ, ᐃᓄᒃᑎᑐᑦ",
    "𝕄𝕠𝕤𝕒𝕚𝕔 😀🎉🦀 𐍈 𝄞 (four-byte UTF-8)",
];

/// The checks, grouped as Apache's exit code groups them.
struct Report {
    code: u8,
    checks: usize,
    failures: usize,
}

impl Report {
    fn new() -> Self {
        Report {
            code: 0,
            checks: 0,
            failures: 0,
        }
    }

    fn pass(&mut self) {
        self.checks += 1;
    }

    fn fail(
        &mut self,
        area: u8,
        call: &str,
        expected: impl fmt::Display,
        actual: impl fmt::Display,
    ) {
        self.checks += 1;
        self.failures += 1;
        self.code |= area;
        println!("FAIL {call}: expected {expected}, got {actual}");
    }

    /// A call that failed with ERROR where EXPECTED should have come back.
    fn error(&mut self, area: u8, call: &str, expected: impl fmt::Display, error: &Error) {
        if matches!(error, Error::Timeout(_)) {
            self.code |= TIMEOUT;
        }
        self.fail(area, call, expected, format_args!("error: {error}"));
    }

    /// Checks that a call returned EXPECTED.
    fn expect<T: PartialEq + Debug>(
        &mut self,
        area: u8,
        call: &str,
        expected: &T,
        got: Result<T, Error>,
    ) {
        match got {
            Ok(value) if value == *expected => self.pass(),
            Ok(value) => self.fail(area, call, show(expected), show(&value)),
            Err(e) => self.error(area, call, show(expected), &e),
        }
    }
}

/// `Debug` output, shortened in the middle if it is long.
fn show<T: Debug + ?Sized>(value: &T) -> String {
    const LIMIT: usize = 240;
    let text = format!("{value:?}");
    if text.chars().count() <= LIMIT {
        return text;
    }
    let head: String = text.chars().take(LIMIT / 2).collect();
    let tail: String = {
        let mut t: Vec<char> = text.chars().rev().take(LIMIT / 2).collect();
        t.reverse();
        t.into_iter().collect()
    };
    format!("{head}…{tail} ({} chars)", text.chars().count())
}

/// A `double` compared bit for bit, shown with its bits.
#[derive(Clone, Copy)]
struct Bits(f64);

impl PartialEq for Bits {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

impl Debug for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:e} (bits {:#018x})", self.0, self.0.to_bits())
    }
}

/// A `binary` shown by its length and where it differs, not byte by byte.
#[derive(Clone, PartialEq)]
struct Blob(Bytes);

impl Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = &self.0[..self.0.len().min(8)];
        write!(f, "{} bytes starting {head:02x?}", self.0.len())
    }
}

/// Calls METHOD once per value of VALUES and checks that each comes back unchanged.
async fn echo_all<T, F, Fut>(report: &mut Report, area: u8, method: &str, values: &[T], call: F)
where
    T: Clone + PartialEq + Debug,
    F: Fn(T) -> Fut,
    Fut: Future<Output = Result<T, Error>>,
{
    for value in values {
        let label = format!("{method}({})", show(value));
        let got = call(value.clone()).await;
        report.expect(area, &label, value, got);
    }
}

fn xtruct(s: &str, b: i8, i: i32, l: i64) -> Xtruct {
    Xtruct {
        string_thing: Some(s.to_owned()),
        byte_thing: Some(b),
        i32_thing: Some(i),
        i64_thing: Some(l),
    }
}

/// A version-4 uuid from the process's random hash keys.
fn random_uuid_v4() -> Uuid {
    let state = RandomState::new();
    let high = state.hash_one(1u8).to_be_bytes();
    let low = state.hash_one(2u8).to_be_bytes();
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&high);
    bytes[8..].copy_from_slice(&low);
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    Uuid::from_bytes(bytes)
}

// ---- the tests --------------------------------------------------------------------------

struct Tests {
    test: ThriftTestClient,
    second: Option<SecondServiceClient>,
    uuid: bool,
}

impl Tests {
    async fn run(&self, r: &mut Report) {
        let t = &self.test;

        r.expect(BASE_TYPES, "testVoid()", &(), t.test_void().await);
        let strings: Vec<String> = STRINGS
            .iter()
            .map(|s| (*s).to_owned())
            .chain([
                "Python".repeat(20),
                STRINGS[8..].concat().repeat(8),
                "x".repeat(70_000),
            ])
            .collect();
        echo_all(r, BASE_TYPES, "testString", &strings, |v| t.test_string(v)).await;
        echo_all(r, BASE_TYPES, "testBool", BOOLS, |v| t.test_bool(v)).await;
        echo_all(r, BASE_TYPES, "testByte", BYTES, |v| t.test_byte(v)).await;
        echo_all(r, BASE_TYPES, "testI32", I32S, |v| t.test_i32(v)).await;
        echo_all(r, BASE_TYPES, "testI64", I64S, |v| t.test_i64(v)).await;
        let doubles: Vec<Bits> = DOUBLES.iter().copied().map(Bits).collect();
        echo_all(r, BASE_TYPES, "testDouble", &doubles, |v| async move {
            t.test_double(v.0).await.map(Bits)
        })
        .await;
        self.binary(r).await;
        if let Some(second) = &self.second {
            r.expect(
                BASE_TYPES,
                "SecondService.secondtestString(\"foobar\")",
                &"testString(\"foobar\")".to_owned(),
                second.secondtest_string("foobar".to_owned()).await,
            );
        }
        self.uuid(r).await;

        let structs = [
            xtruct("Zero", 1, -3, -5),
            xtruct("", 0, 0, 0),
            xtruct("Ünïcødé", -128, i32::MIN, i64::MAX),
        ];
        echo_all(r, STRUCTS, "testStruct", &structs, |v| t.test_struct(v)).await;
        let nests = [
            Xtruct2 {
                byte_thing: Some(0),
                struct_thing: Some(xtruct("Zero", 1, -3, -5)),
                i32_thing: Some(0),
            },
            Xtruct2 {
                byte_thing: Some(1),
                struct_thing: Some(xtruct("Zero", 1, -3, -5)),
                i32_thing: Some(5),
            },
        ];
        echo_all(r, STRUCTS, "testNest", &nests, |v| t.test_nest(v)).await;

        self.containers(r).await;

        let enums = [
            Numberz::ONE,
            Numberz::TWO,
            Numberz::THREE,
            Numberz::FIVE,
            Numberz::SIX,
            Numberz::EIGHT,
        ];
        echo_all(r, STRUCTS, "testEnum", &enums, |v| t.test_enum(v)).await;
        let user_ids = [0xff_ffff_ffff_ffff, 309_858_235_082_523, 0, -1];
        echo_all(r, STRUCTS, "testTypedef", &user_ids, |v| t.test_typedef(v)).await;

        self.insanity(r).await;
        r.expect(
            STRUCTS,
            "testMulti(74, 0xff00ff, 0xffffffffd0d0, {0: \"abc\"}, FIVE, 0xf0f0f0)",
            &xtruct("Hello2", 74, 0xff00ff, 0xffff_ffff_d0d0),
            t.test_multi(
                74,
                0xff00ff,
                0xffff_ffff_d0d0,
                BTreeMap::from([(0, "abc".to_owned())]),
                Numberz::FIVE,
                0xf0f0f0,
            )
            .await,
        );

        self.exceptions(r).await;
        self.oneway(r).await;
        self.pipelined(r).await;
    }

    /// Calls in flight together on the one connection (Mosaic's client pipelines them; the
    /// server answers in turn): each reply must reach its own call.
    async fn pipelined(&self, r: &mut Report) {
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..PIPELINED {
            let t = self.test.clone();
            calls.spawn(async move {
                let text = format!("pipelined call {i}");
                let label = format!("pipelined testString({text:?})");
                let got = t.test_string(text.clone()).await;
                (label, text, got)
            });
            let t = self.test.clone();
            calls.spawn(async move {
                let label = format!("pipelined testI32({i})");
                (
                    label,
                    i.to_string(),
                    t.test_i32(i).await.map(|v| v.to_string()),
                )
            });
        }
        while let Some(done) = calls.join_next().await {
            match done {
                Ok((label, expected, got)) => r.expect(BASE_TYPES, &label, &expected, got),
                Err(e) => r.fail(BASE_TYPES, "a pipelined call", "an answer", e),
            }
        }
    }

    async fn binary(&self, r: &mut Report) {
        let t = &self.test;
        let mut blobs = vec![Blob(Bytes::from((0..=255u8).collect::<Vec<u8>>()))];
        for size in std::iter::once(0).chain((0..=17).map(|shift| 1usize << shift)) {
            let bytes: Vec<u8> = (0..size).map(|i| (i * 7 + size) as u8).collect();
            blobs.push(Blob(Bytes::from(bytes)));
        }
        echo_all(r, BASE_TYPES, "testBinary", &blobs, |v| async move {
            t.test_binary(v.0).await.map(Blob)
        })
        .await;
    }

    async fn uuid(&self, r: &mut Report) {
        let t = &self.test;
        let values = [
            "00112233-4455-6677-8899-aabbccddeeff"
                .parse()
                .expect("a valid uuid"),
            Uuid::NIL,
            Uuid::from_bytes([0xff; 16]),
            random_uuid_v4(),
        ];
        for value in values {
            let label = format!("testUuid({value})");
            match t.test_uuid(value).await {
                Err(Error::Application(e))
                    if !self.uuid && e.kind == ApplicationExceptionKind::UNKNOWN_METHOD =>
                {
                    println!(
                        "{label}: the server does not know testUuid ({e}); --no-uuid allows it"
                    );
                    // The connection must survive the unknown method.
                    r.expect(
                        BASE_TYPES,
                        "testString(\"after testUuid\")",
                        &"after testUuid".to_owned(),
                        t.test_string("after testUuid".to_owned()).await,
                    );
                    return;
                }
                got => r.expect(BASE_TYPES, &label, &value, got),
            }
        }
    }

    async fn containers(&self, r: &mut Report) {
        let t = &self.test;
        let maps = [
            BTreeMap::from([(0, 1), (1, 2), (2, 3), (3, 4), (-1, -2)]),
            BTreeMap::new(),
            BTreeMap::from([(i32::MIN, i32::MAX), (i32::MAX, i32::MIN)]),
        ];
        echo_all(r, CONTAINERS, "testMap", &maps, |v| t.test_map(v)).await;
        let string_maps = [
            BTreeMap::from(
                [("a", "2"), ("b", "blah"), ("some", "thing")]
                    .map(|(k, v)| (k.to_owned(), v.to_owned())),
            ),
            BTreeMap::new(),
            BTreeMap::from(
                [("", ""), ("ключ", "値"), ("😀", "\u{0}")]
                    .map(|(k, v)| (k.to_owned(), v.to_owned())),
            ),
        ];
        echo_all(r, CONTAINERS, "testStringMap", &string_maps, |v| {
            t.test_string_map(v)
        })
        .await;
        let sets = [
            BTreeSet::from([8, 1, 42]),
            (-2..=2).collect(),
            BTreeSet::new(),
        ];
        echo_all(r, CONTAINERS, "testSet", &sets, |v| t.test_set(v)).await;
        let lists = [
            vec![1, 4, 9, -42],
            vec![],
            (-2..=2).collect(),
            vec![3, -1, 2, 2, i32::MIN, 0], // order and duplicates kept
            (0..10_000).rev().collect(),
        ];
        echo_all(r, CONTAINERS, "testList", &lists, |v| t.test_list(v)).await;

        let expected = BTreeMap::from([
            (-4, BTreeMap::from([(-4, -4), (-3, -3), (-2, -2), (-1, -1)])),
            (4, BTreeMap::from([(1, 1), (2, 2), (3, 3), (4, 4)])),
        ]);
        for hello in [1, 42] {
            let label = format!("testMapMap({hello})");
            r.expect(CONTAINERS, &label, &expected, t.test_map_map(hello).await);
        }
    }

    /// What Apache's C++, Java and Rust clients check of `testInsanity`.
    async fn insanity(&self, r: &mut Report) {
        let argument = Insanity {
            user_map: Some(BTreeMap::from([(Numberz::FIVE, 5), (Numberz::EIGHT, 8)])),
            xtructs: Some(vec![xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)]),
        };
        let call = "testInsanity({FIVE: 5, EIGHT: 8}, [Goodbye4, Hello2])";
        let result = match self.test.test_insanity(argument.clone()).await {
            Ok(result) => result,
            Err(e) => return r.error(STRUCTS, call, "a map with keys 1 and 2", &e),
        };
        let mut problems = Vec::new();
        let outer: Vec<i64> = result.keys().copied().collect();
        if outer != [1, 2] {
            problems.push(format!("outer keys {outer:?} instead of [1, 2]"));
        }
        if let Some(first) = result.get(&1) {
            let keys: Vec<Numberz> = first.keys().copied().collect();
            if keys != [Numberz::TWO, Numberz::THREE] {
                problems.push(format!(
                    "result[1] has keys {keys:?} instead of [TWO, THREE]"
                ));
            }
            for key in [Numberz::TWO, Numberz::THREE] {
                match first.get(&key) {
                    Some(copy) if *copy == argument => {}
                    Some(copy) => problems.push(format!(
                        "result[1][{key:?}] is {} instead of the argument",
                        show(copy)
                    )),
                    None => {}
                }
            }
        }
        if let Some(second) = result.get(&2) {
            let keys: Vec<Numberz> = second.keys().copied().collect();
            if keys != [Numberz::SIX] {
                problems.push(format!("result[2] has keys {keys:?} instead of [SIX]"));
            }
            if let Some(six) = second.get(&Numberz::SIX) {
                let empty_map = six.user_map.as_ref().map_or(true, BTreeMap::is_empty);
                let empty_list = six.xtructs.as_ref().map_or(true, Vec::is_empty);
                if !empty_map || !empty_list {
                    problems.push(format!(
                        "result[2][SIX] is {} instead of an empty Insanity",
                        show(six)
                    ));
                }
            }
        }
        if problems.is_empty() {
            r.pass();
        } else {
            r.fail(
                STRUCTS,
                call,
                "{1: {TWO: argument, THREE: argument}, 2: {SIX: {}}}",
                format_args!("{} ({})", show(&result), problems.join("; ")),
            );
        }
    }

    async fn exceptions(&self, r: &mut Report) {
        let t = &self.test;
        let call = "testException(\"Xception\")";
        let expected = Xception {
            error_code: Some(1001),
            message: Some("Xception".to_owned()),
        };
        match t.test_exception("Xception".to_owned()).await {
            Err(TestExceptionError::Err1(e)) if e == expected => r.pass(),
            Err(TestExceptionError::Other(e)) => r.error(EXCEPTIONS, call, show(&expected), &e),
            other => r.fail(EXCEPTIONS, call, show(&expected), show(&other)),
        }

        let call = "testException(\"TException\")";
        match t.test_exception("TException".to_owned()).await {
            Err(TestExceptionError::Other(Error::Application(_))) => r.pass(),
            Err(TestExceptionError::Other(e)) => {
                r.error(EXCEPTIONS, call, "an application exception", &e)
            }
            other => r.fail(EXCEPTIONS, call, "an application exception", show(&other)),
        }
        // The client (and its connection) must survive the application exception.
        let call = "testException(\"success\") after the application exception";
        match t.test_exception("success".to_owned()).await {
            Ok(()) => r.pass(),
            Err(TestExceptionError::Other(e)) => r.error(EXCEPTIONS, call, "Ok(())", &e),
            other => r.fail(EXCEPTIONS, call, "Ok(())", show(&other)),
        }
        for safe in ["Safe", ""] {
            let call = format!("testException({safe:?})");
            match t.test_exception(safe.to_owned()).await {
                Ok(()) => r.pass(),
                Err(TestExceptionError::Other(e)) => r.error(EXCEPTIONS, &call, "Ok(())", &e),
                other => r.fail(EXCEPTIONS, &call, "Ok(())", show(&other)),
            }
        }

        let call = "testMultiException(\"Xception\", \"test 1\")";
        let expected = Xception {
            error_code: Some(1001),
            message: Some("This is an Xception".to_owned()),
        };
        match t
            .test_multi_exception("Xception".to_owned(), "test 1".to_owned())
            .await
        {
            Err(TestMultiExceptionError::Err1(e)) if e == expected => r.pass(),
            Err(TestMultiExceptionError::Other(e)) => {
                r.error(EXCEPTIONS, call, show(&expected), &e)
            }
            other => r.fail(EXCEPTIONS, call, show(&expected), show(&other)),
        }

        // Fields of struct_thing other than string_thing may come back absent or zero.
        let call = "testMultiException(\"Xception2\", \"test 2\")";
        const XCEPTION2: &str =
            "Xception2 { error_code: 2002, struct_thing.string_thing: \"This is an Xception2\" }";
        let is_expected = |e: &Xception2| {
            e.error_code == Some(2002)
                && e.struct_thing
                    .as_ref()
                    .and_then(|s| s.string_thing.as_deref())
                    == Some("This is an Xception2")
        };
        match t
            .test_multi_exception("Xception2".to_owned(), "test 2".to_owned())
            .await
        {
            Err(TestMultiExceptionError::Err2(e)) if is_expected(&e) => r.pass(),
            Err(TestMultiExceptionError::Other(e)) => r.error(EXCEPTIONS, call, XCEPTION2, &e),
            other => r.fail(EXCEPTIONS, call, XCEPTION2, show(&other)),
        }

        let call = "testMultiException(\"success\", \"foobar\")";
        const FOOBAR: &str = "Xtruct { string_thing: \"foobar\" }";
        match t
            .test_multi_exception("success".to_owned(), "foobar".to_owned())
            .await
        {
            Ok(x) if x.string_thing.as_deref() == Some("foobar") => r.pass(),
            Err(TestMultiExceptionError::Other(e)) => r.error(EXCEPTIONS, call, FOOBAR, &e),
            other => r.fail(EXCEPTIONS, call, FOOBAR, show(&other)),
        }
    }

    async fn oneway(&self, r: &mut Report) {
        let t = &self.test;
        let started = Instant::now();
        let sent = t.test_oneway(1).await;
        let took = started.elapsed();
        match sent {
            Err(e) => r.error(BASE_TYPES, "testOneway(1)", "no reply and no error", &e),
            Ok(()) if took > ONEWAY_BOUND => r.fail(
                BASE_TYPES,
                "testOneway(1)",
                format_args!("to return within {ONEWAY_BOUND:?}"),
                format_args!("{took:?}"),
            ),
            Ok(()) => r.pass(),
        }
        r.expect(
            BASE_TYPES,
            "testVoid() after testOneway(1)",
            &(),
            t.test_void().await,
        );
        r.expect(
            BASE_TYPES,
            "testI32(-1) after testOneway",
            &-1,
            t.test_i32(-1).await,
        );
    }
}

// ---- command line -----------------------------------------------------------------------

struct Options {
    host: String,
    port: u16,
    protocol: Protocol,
    multiplexed: bool,
    framing: Framing,
    loops: u32,
    uuid: bool,
}

fn parse(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let flags = mosaic_conformance::flags::parse(args, &["--testloops"], &["--no-uuid"], USAGE)?;
    let mut options = Options {
        host: flags.host.unwrap_or_else(|| "localhost".to_owned()),
        port: flags.port,
        protocol: flags.protocol,
        multiplexed: flags.multiplexed,
        framing: flags.framing,
        loops: 1,
        uuid: true,
    };
    for (key, value) in flags.extra {
        match (key.as_str(), value) {
            ("--testloops", Some(v)) => {
                options.loops = v
                    .parse()
                    .map_err(|_| format!("--testloops: {v:?} is not a count"))?;
            }
            ("--no-uuid", _) => options.uuid = false,
            (other, _) => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let options = match parse(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("thrift-test-client: {e}");
            return ExitCode::from(SETUP);
        }
    };
    let client = Client::builder(format!("{}:{}", options.host, options.port))
        .protocol(options.protocol)
        .framing(options.framing)
        .timeout(CALL_TIMEOUT)
        // One connection for every call, as Apache's C++, Java and Rust clients make them.
        .max_connections(1)
        .build();
    let (test, second) = if options.multiplexed {
        (
            ThriftTestClient::multiplexed(client.clone()),
            Some(SecondServiceClient::multiplexed(client)),
        )
    } else {
        (ThriftTestClient::new(client), None)
    };
    let tests = Tests {
        test,
        second,
        uuid: options.uuid,
    };

    // Set-up: the server must answer at all.
    if let Err(e) = tests.test.test_void().await {
        println!(
            "FAIL set-up: testVoid() on {}:{} failed: {e}",
            options.host, options.port
        );
        let timeout = if matches!(e, Error::Timeout(_)) {
            TIMEOUT
        } else {
            0
        };
        return ExitCode::from(SETUP | timeout);
    }

    let mut report = Report::new();
    let started = Instant::now();
    for _ in 0..options.loops {
        tests.run(&mut report).await;
    }
    println!(
        "{} checks in {:.2?}, {} failed; exit code {}",
        report.checks,
        started.elapsed(),
        report.failures,
        report.code
    );
    ExitCode::from(report.code)
}
