package org.mosaic.conformance;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.thrift.TApplicationException;
import thrift.test.Insanity;
import thrift.test.Numberz;
import thrift.test.ThriftTest;
import thrift.test.Xception;
import thrift.test.Xception2;
import thrift.test.Xtruct;
import thrift.test.Xtruct2;

/**
 * Every ThriftTest method, with the values and checks of shared/conformance/README.md (what
 * Apache's Python, C++, Java and Rust cross-test clients send and check), on one connection.
 */
final class Checks {
    private Checks() {}

    static Xtruct xtruct(String s, int b, int i, long l) {
        return Xtruct.newBuilder().setString_thing(s).setByte_thing((byte) b).setI32_thing(i).setI64_thing(l).build();
    }

    /** What a server offers beyond the v0.16 IDL that Apache's 0.17 compiler reads. */
    record Peer(boolean uuid, boolean unknownEnumValues) {
        /** Mosaic's Rust server: the current IDL, enums that keep unknown values. */
        static final Peer MOSAIC = new Peer(true, true);
        /** Apache's Java server: no uuid at all, and its Java enums turn unknown values into null. */
        static final Peer APACHE_JAVA = new Peer(false, false);
    }

    static void all(ThriftTest.Iface client) throws Exception {
        all(client, Peer.MOSAIC);
    }

    static void all(ThriftTest.Iface client, Peer peer) throws Exception {
        client.testVoid();

        for (String s : List.of("Python".repeat(20), "", "\b\t\n/\\\\\r{}:\u30d1\u30a4\u30bd\u30f3", "Test",
                "\"quotes\" \\ backslash \u0000 nul \u00e9\u4e2d\ud83e\udd80")) {
            assertEquals(s, client.testString(s), "testString echoes the string byte for byte");
        }
        assertTrue(client.testBool(true), "testBool(true)");
        assertFalse(client.testBool(false), "testBool(false)");
        for (byte b : new byte[] {63, -127, 0, -1, 42, -42, 127, -128}) {
            assertEquals(b, client.testByte(b), "testByte");
        }
        for (int i : new int[] {-1, 0, 190000013, -190000013, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            assertEquals(i, client.testI32(i), "testI32");
        }
        for (long l : new long[] {1, -34359738368L, 7000000000000000123L, -7000000000000000123L, 1L << 32,
                Long.MAX_VALUE, Long.MIN_VALUE}) {
            assertEquals(l, client.testI64(l), "testI64");
        }
        for (double d : new double[] {-5.235098235, 0, -1, -0.000341012439638598279, 4294967296.0,
                -4294967297.0, 9007199254740991.0, 1e307, 1e-292, -0.0}) {
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits(client.testDouble(d)),
                "testDouble is bit-exact for " + d);
        }
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        assertEquals(ByteBuffer.wrap(all), client.testBinary(ByteBuffer.wrap(all)), "testBinary, bytes 0..255");
        byte[] big = new byte[131072];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        ByteBuffer echoed = client.testBinary(ByteBuffer.wrap(big));
        byte[] back = new byte[echoed.remaining()];
        echoed.get(back);
        assertArrayEquals(big, back, "testBinary, 128 KiB");
        // Buffers without an accessible array (read-only views, direct buffers) are sent too.
        ByteBuffer direct = ByteBuffer.allocateDirect(all.length).put(all).flip();
        for (ByteBuffer arg : List.of(ByteBuffer.wrap(all).asReadOnlyBuffer(), direct)) {
            assertEquals(ByteBuffer.wrap(all), client.testBinary(arg), "testBinary of a " + arg.getClass().getSimpleName());
        }
        if (peer.uuid()) {
            for (UUID u : List.of(UUID.fromString("00112233-4455-6677-8899-aabbccddeeff"), UUID.randomUUID(), new UUID(0, 0))) {
                assertEquals(u, client.testUuid(u), "testUuid");
            }
        }
        // A server on libthrift 0.17 cannot even skip a uuid argument (type 16): it drops the
        // connection, so testUuid is not called there.

        Xtruct zero = xtruct("Zero", 1, -3, -5);
        assertEquals(zero, client.testStruct(zero), "testStruct echoes all four fields");
        Xtruct2 nest = Xtruct2.newBuilder().setByte_thing((byte) 0).setStruct_thing(zero).setI32_thing(0).build();
        Xtruct2 nestBack = client.testNest(nest);
        assertEquals(nest, nestBack, "testNest keeps fields that are zero");
        assertTrue(nestBack.isSetI32_thing(), "a zero that was sent comes back set");

        Map<Integer, Integer> map = new LinkedHashMap<>(Map.of(0, 1, 1, 2, 2, 3, 3, 4, -1, -2));
        assertEquals(map, client.testMap(map), "testMap");
        Map<String, String> smap = Map.of("a", "2", "b", "blah", "some", "thing");
        assertEquals(smap, client.testStringMap(smap), "testStringMap");
        Set<Integer> set = new LinkedHashSet<>(List.of(8, 1, 42));
        assertEquals(set, client.testSet(set), "testSet");
        assertEquals(List.of(1, 4, 9, -42), client.testList(List.of(1, 4, 9, -42)), "testList keeps order");
        assertEquals(List.of(), client.testList(List.of()), "testList, empty");
        for (Numberz n : Numberz.values()) {
            assertEquals(n, client.testEnum(n), "testEnum");
        }
        if (peer.unknownEnumValues()) {
            Numberz unknown = Numberz.findByValue(7);
            assertEquals(unknown, client.testEnum(unknown), "a value Numberz does not name round-trips");
            assertFalse(client.testEnum(unknown).isKnown(), "and stays unknown");
        }
        assertEquals(0xffffffffffffffL, client.testTypedef(0xffffffffffffffL), "testTypedef");

        Map<Integer, Map<Integer, Integer>> mapMap = client.testMapMap(42);
        assertEquals(Map.of(-4, Map.of(-4, -4, -3, -3, -2, -2, -1, -1), 4, Map.of(1, 1, 2, 2, 3, 3, 4, 4)), mapMap,
            "testMapMap");

        Insanity insanity = Insanity.newBuilder()
            .setUserMap(Map.of(Numberz.FIVE, 5L, Numberz.EIGHT, 8L))
            .setXtructs(List.of(xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)))
            .build();
        Map<Long, Map<Numberz, Insanity>> crazy = client.testInsanity(insanity);
        assertEquals(2, crazy.size(), "testInsanity: two outer keys");
        assertEquals(insanity, crazy.get(1L).get(Numberz.TWO), "testInsanity: 1 -> TWO is the argument");
        assertEquals(insanity, crazy.get(1L).get(Numberz.THREE), "testInsanity: 1 -> THREE is the argument");
        Insanity six = crazy.get(2L).get(Numberz.SIX);
        assertTrue(!six.isSetUserMap() || six.getUserMap().isEmpty(), "testInsanity: SIX has no userMap");
        assertTrue(!six.isSetXtructs() || six.getXtructs().isEmpty(), "testInsanity: SIX has no xtructs");

        Xtruct multi = client.testMulti((byte) 74, 0xff00ff, 0xffffffffd0d0L, Map.of((short) 0, "abc"), Numberz.FIVE, 0xf0f0f0L);
        assertEquals(xtruct("Hello2", 74, 0xff00ff, 0xffffffffd0d0L), multi, "testMulti");

        client.testException("Safe");
        Xception x = assertThrows(Xception.class, () -> client.testException("Xception"), "declared exception");
        assertEquals(1001, x.getErrorCode(), "Xception.errorCode");
        assertEquals("Xception", x.getMessage(), "Xception.message");
        assertThrows(TApplicationException.class, () -> client.testException("TException"),
            "an undeclared error is a TApplicationException");
        client.testException("success");

        Xception mx = assertThrows(Xception.class, () -> client.testMultiException("Xception", "x"), "err1");
        assertEquals(1001, mx.getErrorCode(), "err1.errorCode");
        assertEquals("This is an Xception", mx.getMessage(), "err1.message");
        Xception2 mx2 = assertThrows(Xception2.class, () -> client.testMultiException("Xception2", "x"), "err2");
        assertEquals(2002, mx2.getErrorCode(), "err2.errorCode");
        assertEquals("This is an Xception2", mx2.getStruct_thing().getString_thing(), "err2.struct_thing");
        assertEquals("foobar", client.testMultiException("success", "foobar").getString_thing(), "no exception");

        long started = System.nanoTime();
        client.testOneway(1);
        long millis = (System.nanoTime() - started) / 1_000_000;
        assertTrue(millis < 1000, "testOneway does not wait for the server's sleep: " + millis + " ms");
        assertEquals(-1, client.testI32(-1), "the connection works after a oneway call");
    }
}
