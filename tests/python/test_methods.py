"""Every ThriftTest method with the values Apache's Python and C++ clients send.

Source of the values and checks: shared/conformance/README.md ("Method semantics").
Each test runs for every pair (protocol x transport x plain/multiplexed) and makes all
its calls on one connection, as the C++/Java/Rust clients do.
"""

from __future__ import annotations

import math
import struct
from typing import Any

from conftest import ConnectFn
from thrift_stubs import Stubs

I32_MAX = 2**31 - 1
I32_MIN = -(2**31)
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)

# py: 'Python'*20, '', control characters and Japanese, a long multi-script text;
# C++: "Test", long Unicode text, JSON-hostile escapes.
STRINGS = [
    "Python" * 20,
    "",
    '\b\t\n/\\\\\r{}:パイソン"',
    "Afrikaans, Alemannisch, Aragonés, العربية, مصرى, Asturianu, Aymar aru, Azərbaycan, "
    "Башҡорт, Boarisch, Žemaitėška, Беларуская, Български, বাংলা, Brezhoneg, Bosanski, "
    "Català, Нохчийн, Cebuano, ᏣᎳᎩ, Česky, Чӑвашла, Cymraeg, Dansk, Deutsch, ދިވެހިބަސް, "
    "Ελληνικά, Esperanto, Español, Eesti, Euskara, فارسی, Suomi, Føroyskt, Français, "
    "Gaeilge, 贛語, Galego, ગુજરાતી, עברית, हिन्दी, Hrvatski, Magyar, Հայերեն, Íslenska, "
    "Italiano, 日本語, ქართული, Қазақша, ಕನ್ನಡ, 한국어, Latina, Lietuvių, Latviešu, "
    "Македонски, മലയാളം, Монгол, मराठी, Bahasa Melayu, Malti, မြန်မာဘာသာ, Nederlands, "
    "Norsk, ਪੰਜਾਬੀ, Polski, Português, Română, Русский, Slovenčina, Slovenščina, Shqip, "
    "Српски, Svenska, Kiswahili, தமிழ், తెలుగు, ไทย, Tagalog, Türkçe, Українська, اردو, "
    "Tiếng Việt, Volapük, Walon, ייִדיש, Yorùbá, 中文, Bân-lâm-gú, 粵語, 🦀🐍☕",
    "Test",
    'quote " backslash \\ slash / \\/ \b\f\n\r\t \x00 \x01 \x1f \x7f \u2028\u2029 '
    '\\u0041 {"json": [1, 2]} \' <>&',
]

BYTES = [63, -127, 0, -1, 42, -42, 127, -128]
I32S = [-1, 0, 190000013, -190000013, I32_MAX, I32_MIN]
I64S = [
    1,
    -34359738368,
    7000000000000000123,
    -7000000000000000123,
    2**32,
    -(2**32),
    2**32 + 1,
    -(2**32 + 1),
    I64_MAX,
    I64_MIN,
]
DOUBLES = [
    -5.235098235,
    0.0,
    -1.0,
    -0.000341012439638598279,
    2.0**32,
    -(2.0**32),
    2.0**32 + 1,
    -(2.0**32 + 1),
    2.0**53 - 1,
    -(2.0**53 - 1),
    1e307,
    1e-292,
    # Beyond the README's list, still plain doubles that must survive bit for bit.
    -0.0,
    math.inf,
    -math.inf,
    5e-324,
]


def bits(value: float) -> str:
    return struct.pack(">d", value).hex()


def test_void(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    assert client.testVoid() is None, "testVoid() must reply with an empty result"


def test_string(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in STRINGS:
        got = client.testString(value)
        assert got == value, f"testString({value!r}) returned {got!r}"


def test_bool(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in (True, False):
        got = client.testBool(value)
        assert got is value, f"testBool({value}) returned {got!r}"


def test_byte(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in BYTES:
        got = client.testByte(value)
        assert got == value, f"testByte({value}) returned {got!r}"


def test_i32(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in I32S:
        got = client.testI32(value)
        assert got == value, f"testI32({value}) returned {got!r}"


def test_i64(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in I64S:
        got = client.testI64(value)
        assert got == value, f"testI64({value}) returned {got!r}"


def test_double_bit_exact(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in DOUBLES:
        got = client.testDouble(value)
        assert bits(got) == bits(value), (
            f"testDouble({value!r}) returned {got!r}: bits {bits(got)}, expected {bits(value)}"
        )


def test_binary(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    every_byte = bytes(range(256))
    got = client.testBinary(every_byte)
    assert got == every_byte, f"testBinary(bytes 0..255) returned {got!r}"
    # The C++ client: sizes 0, 1, 2, 4, ... 131072.
    for size in [0] + [2**k for k in range(18)]:
        value = bytes((i * 7 + size) & 0xFF for i in range(size))
        got = client.testBinary(value)
        assert got == value, f"testBinary of {size} bytes returned {len(got)} bytes" + (
            "" if len(got) != size else " with different content"
        )


def test_struct(connect: ConnectFn, stubs: Stubs) -> None:
    t = stubs.ttypes
    client = connect().thrift_test()
    full = t.Xtruct(string_thing="Zero", byte_thing=1, i32_thing=-3, i64_thing=-5)
    got = client.testStruct(full)
    assert got == full, f"testStruct({full!r}) returned {got!r}"
    # Echo exactly the fields received: unset ones stay absent, zeros stay present.
    partial = t.Xtruct(string_thing="only a string", i64_thing=0)
    got = client.testStruct(partial)
    assert got == partial, f"testStruct({partial!r}) returned {got!r}"
    empty = t.Xtruct()
    got = client.testStruct(empty)
    assert got == empty, f"testStruct({empty!r}) returned {got!r}"


def test_nest(connect: ConnectFn, stubs: Stubs) -> None:
    t = stubs.ttypes
    client = connect().thrift_test()
    value = t.Xtruct2(
        byte_thing=0,
        struct_thing=t.Xtruct(string_thing="Zero", byte_thing=1, i32_thing=-3, i64_thing=-5),
        i32_thing=0,
    )
    got = client.testNest(value)
    assert got == value, f"testNest({value!r}) returned {got!r} (zeros must stay present)"


def test_map(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in ({0: 1, 1: 2, 2: 3, 3: 4, -1: -2}, {}, {I32_MIN: I32_MAX}):
        got = client.testMap(value)
        assert got == value, f"testMap({value!r}) returned {got!r}"


def test_string_map(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in ({"a": "2", "b": "blah", "some": "thing"}, {}, {"": "", "ключ": "値"}):
        got = client.testStringMap(value)
        assert got == value, f"testStringMap({value!r}) returned {got!r}"


def test_set(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in ({8, 1, 42}, {-2, -1, 0, 1, 2}, set()):
        got = client.testSet(value)
        assert got == value, f"testSet({value!r}) returned {got!r}"


def test_list_keeps_order(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in ([1, 4, 9, -42], [], [-2, -1, 0, 1, 2], [3, 3, 1, 2]):
        got = client.testList(value)
        assert got == value, f"testList({value!r}) returned {got!r}"


def test_enum(connect: ConnectFn, stubs: Stubs) -> None:
    n = stubs.ttypes.Numberz
    client = connect().thrift_test()
    for value in (n.FIVE, n.ONE, n.TWO, n.THREE, n.EIGHT):
        got = client.testEnum(value)
        assert got == value, f"testEnum({value}) returned {got!r}"


def test_typedef(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    for value in (0xFFFFFFFFFFFFFF, 309858235082523):
        got = client.testTypedef(value)
        assert got == value, f"testTypedef({value}) returned {got!r}"


def test_map_map(connect: ConnectFn) -> None:
    client = connect().thrift_test()
    expected = {-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {1: 1, 2: 2, 3: 3, 4: 4}}
    for hello in (42, 1):
        got = client.testMapMap(hello)
        assert got == expected, f"testMapMap({hello}) returned {got!r}, expected {expected!r}"


def test_insanity(connect: ConnectFn, stubs: Stubs) -> None:
    t = stubs.ttypes
    n = t.Numberz
    client = connect().thrift_test()
    argument = t.Insanity(
        userMap={n.FIVE: 5, n.EIGHT: 8},
        xtructs=[
            t.Xtruct(string_thing="Goodbye4", byte_thing=4, i32_thing=4, i64_thing=4),
            t.Xtruct(string_thing="Hello2", byte_thing=2, i32_thing=2, i64_thing=2),
        ],
    )
    got: dict[int, dict[int, Any]] = client.testInsanity(argument)
    assert sorted(got) == [1, 2], f"testInsanity: outer keys {sorted(got)}, expected [1, 2]"
    assert got[1] == {n.TWO: argument, n.THREE: argument}, (
        f"testInsanity: entry 1 is {got[1]!r}, expected TWO and THREE both equal to {argument!r}"
    )
    assert list(got[2]) == [n.SIX], f"testInsanity: entry 2 has keys {list(got[2])}, expected [SIX]"
    six = got[2][n.SIX]
    assert not six.userMap and not six.xtructs, (
        f"testInsanity: entry 2 SIX is {six!r}, expected an empty Insanity"
    )


def test_multi(connect: ConnectFn, stubs: Stubs) -> None:
    t = stubs.ttypes
    client = connect().thrift_test()
    got = client.testMulti(74, 0xFF00FF, 0xFFFFFFFFD0D0, {0: "abc"}, t.Numberz.FIVE, 0xF0F0F0)
    expected = t.Xtruct(
        string_thing="Hello2", byte_thing=74, i32_thing=0xFF00FF, i64_thing=0xFFFFFFFFD0D0
    )
    assert got == expected, f"testMulti returned {got!r}, expected {expected!r}"


def test_calls_reuse_connection(connect: ConnectFn, stubs: Stubs) -> None:
    """Many different calls in a row on one connection, as the C++ and Java clients make."""
    client = connect().thrift_test()
    for round_ in range(20):
        assert client.testI32(round_) == round_, f"round {round_}: testI32 mismatch"
        assert client.testString(str(round_)) == str(round_), f"round {round_}: testString"
        assert client.testVoid() is None, f"round {round_}: testVoid"
        assert client.testList([round_] * round_) == [round_] * round_, f"round {round_}: list"
