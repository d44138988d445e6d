import apache.thrift.test.Insanity;
import apache.thrift.test.Numberz;
import apache.thrift.test.SecondService;
import apache.thrift.test.ThriftTest;
import apache.thrift.test.Xception;
import apache.thrift.test.Xception2;
import apache.thrift.test.Xtruct;
import apache.thrift.test.Xtruct2;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.TApplicationException;
import org.apache.thrift.TBase;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.TException;
import org.apache.thrift.async.AsyncMethodCallback;
import org.apache.thrift.async.TAsyncClientManager;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TMessage;
import org.apache.thrift.protocol.TMessageType;
import org.apache.thrift.protocol.TMultiplexedProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolFactory;
import org.apache.thrift.transport.TNonblockingSocket;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * Apache-generated Java clients on Apache's libthrift 0.17.0 (the code Debian's thrift-compiler
 * 0.17 writes for tests/conformance/idl/v0.16/ThriftTest.thrift, in the package
 * apache.thrift.test) calling a ThriftTest server: every method with the values and checks of
 * shared/conformance/README.md, exceptions, oneway calls, unknown methods and services, large
 * binaries, SecondService when multiplexed, the non-strict binary protocol, and Apache's
 * generated {@code AsyncClient} on framed wires. Where Apache's own cross-test client
 * (org.apache.thrift.test.TestClient) checks one value, this checks the whole table.
 *
 * <pre>java ApacheThriftTestClient --port=N --protocol=binary|compact|multi|multic --transport=buffered|framed</pre>
 *
 * Prints the libthrift version it runs on, then one line per check ({@code ok NAME} or
 * {@code FAIL NAME: why}); exits 0 when every check passed, 1 when one failed, 2 on bad arguments.
 */
public final class ApacheThriftTestClient {
    private final int port;
    private final boolean compact;
    private final boolean framed;
    private final boolean multiplexed;
    private int failures;
    private int passed;

    private ApacheThriftTestClient(int port, String protocol, String transport) {
        this.port = port;
        this.compact = protocol.equals("compact") || protocol.equals("multic");
        this.multiplexed = protocol.startsWith("multi");
        this.framed = transport.equals("framed");
    }

    public static void main(String[] args) throws Exception {
        int port = -1;
        String protocol = "binary";
        String transport = "buffered";
        for (String arg : args) {
            if (arg.startsWith("--port=")) {
                port = Integer.parseInt(arg.substring("--port=".length()));
            } else if (arg.startsWith("--protocol=")) {
                protocol = arg.substring("--protocol=".length());
            } else if (arg.startsWith("--transport=")) {
                transport = arg.substring("--transport=".length());
            } else {
                port = -1;
                break;
            }
        }
        if (port <= 0 || !List.of("binary", "compact", "multi", "multic").contains(protocol)
                || !List.of("buffered", "framed").contains(transport)) {
            System.err.println("usage: ApacheThriftTestClient --port=N --protocol=binary|compact|multi|multic --transport=buffered|framed");
            System.exit(2);
        }
        System.out.println("libthrift " + TBase.class.getPackage().getImplementationVersion());
        ApacheThriftTestClient run = new ApacheThriftTestClient(port, protocol, transport);
        run.all();
        System.out.println(run.passed + " passed, " + run.failures + " failed");
        System.out.flush();
        System.exit(run.failures == 0 ? 0 : 1);
    }

    // ---- checks -----------------------------------------------------------------------

    interface Check {
        void run() throws Exception;
    }

    private void check(String name, Check check) {
        try {
            check.run();
            passed++;
            System.out.println("ok   " + name);
        } catch (Throwable t) {
            failures++;
            System.out.println("FAIL " + name + ": " + t);
            t.printStackTrace(System.out);
        }
    }

    static void expect(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static void expectEquals(Object expected, Object actual, String what) {
        if (!Objects.equals(expected, actual)) {
            throw new AssertionError(what + ": expected <" + expected + "> but got <" + actual + ">");
        }
    }

    static <T extends Throwable> T expectThrows(Class<T> type, Check call, String what) {
        try {
            call.run();
        } catch (Throwable t) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
            throw new AssertionError(what + ": expected " + type.getSimpleName() + " but got " + t, t);
        }
        throw new AssertionError(what + ": expected " + type.getSimpleName() + " but the call returned");
    }

    static Xtruct xtruct(String s, int b, int i, long l) {
        return new Xtruct(s, (byte) b, i, l);
    }

    static byte[] pattern(int size, int seed) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 31 + seed + (i >>> 8));
        }
        return bytes;
    }

    static byte[] bytes(ByteBuffer buffer) {
        ByteBuffer view = buffer.duplicate();
        byte[] out = new byte[view.remaining()];
        view.get(out);
        return out;
    }

    // ---- connections ------------------------------------------------------------------

    /** One connection with Apache's blocking transports and protocols, as Apache's users open it. */
    final class Connection implements AutoCloseable {
        final TSocket socket;
        final TTransport transport;
        final TProtocol protocol;

        Connection(boolean strictBinary, TConfiguration config) throws TException {
            socket = new TSocket(config, "127.0.0.1", port, 30_000);
            socket.open();
            transport = framed ? new TFramedTransport(socket, config.getMaxFrameSize()) : socket;
            protocol = compact ? new TCompactProtocol(transport) : new TBinaryProtocol(transport, strictBinary, strictBinary);
        }

        /** The protocol calls to {@code service} are written with. */
        TProtocol output(String service) {
            return multiplexed ? new TMultiplexedProtocol(protocol, service) : protocol;
        }

        ThriftTest.Client thriftTest() {
            return new ThriftTest.Client(output("ThriftTest"));
        }

        SecondService.Client secondService() {
            return new SecondService.Client(output("SecondService"));
        }

        @Override
        public void close() {
            transport.close();
        }
    }

    Connection connect() throws TException {
        return new Connection(true, new TConfiguration());
    }

    // ---- the run ----------------------------------------------------------------------

    void all() throws Exception {
        try (Connection connection = connect()) {
            everyMethod(connection.thriftTest());
        }
        check("a connection opened and closed without a byte is harmless", () -> {
            for (int i = 0; i < 3; i++) {
                new TSocket(new TConfiguration(), "127.0.0.1", port, 30_000).open();
            }
            try (Connection connection = connect()) {
                expectEquals("after probes", connection.thriftTest().testString("after probes"), "testString");
            }
        });
        check("a new connection for every call, 24 times", () -> {
            for (int i = 0; i < 24; i++) {
                try (Connection connection = connect()) {
                    expectEquals("call " + i, connection.thriftTest().testString("call " + i), "testString");
                }
            }
        });
        try (Connection connection = connect()) {
            largeValues(connection.thriftTest());
        }
        check("testBinary, 20 MiB (beyond libthrift's default 16 MB frames), then a small call", () -> {
            // libthrift's defaults stop at 16,384,000-byte frames; Mosaic's server takes 96 MiB.
            TConfiguration large = new TConfiguration(64 << 20, 64 << 20, TConfiguration.DEFAULT_RECURSION_DEPTH);
            try (Connection connection = new Connection(true, large)) {
                ThriftTest.Client client = connection.thriftTest();
                byte[] sent = pattern(20 << 20, 11);
                expect(Arrays.equals(sent, bytes(client.testBinary(ByteBuffer.wrap(sent)))), "echoed byte for byte");
                expectEquals(-1, client.testI32(-1), "testI32 after it");
            }
        });
        try (Connection connection = connect()) {
            unknownMethods(connection);
        }
        if (multiplexed) {
            try (Connection connection = connect()) {
                secondService(connection);
            }
        }
        if (!compact) {
            check("non-strict binary (no version in the header): calls, exceptions, oneway", () -> {
                try (Connection connection = new Connection(false, new TConfiguration())) {
                    ThriftTest.Client client = connection.thriftTest();
                    expectEquals("non-strict", client.testString("non-strict"), "testString");
                    expectEquals(xtruct("Zero", 1, -3, -5), client.testStruct(xtruct("Zero", 1, -3, -5)), "testStruct");
                    expectEquals(1001, expectThrows(Xception.class, () -> client.testException("Xception"), "Xception").errorCode,
                        "Xception.errorCode");
                    client.testOneway(0);
                    expectEquals(-1, client.testI32(-1), "testI32 after a oneway call");
                }
            });
        }
        if (framed) {
            asyncClient();
        }
    }

    /** Every ThriftTest method on one connection, in the order Apache's clients call them. */
    void everyMethod(ThriftTest.Client client) {
        check("testVoid", client::testVoid);
        check("testString", () -> {
            for (String s : List.of("Test", "Python".repeat(20), "", "\b\t\n/\\\\\r{}:\u30d1\u30a4\u30bd\u30f3",
                    "\"quotes\" \\ backslash \u0000 nul \u00e9\u4e2d\ud83e\udd80 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u05e2\u05d1\u05e8\u05d9\u05ea",
                    "[{\"json\": \"hostile\\u0000\"}]\u2028\u2029\ufeff")) {
                expectEquals(s, client.testString(s), "testString echoes the string byte for byte");
            }
        });
        check("testBool", () -> {
            expectEquals(true, client.testBool(true), "testBool(true)");
            expectEquals(false, client.testBool(false), "testBool(false)");
        });
        check("testByte", () -> {
            for (byte b : new byte[] {1, 63, -127, 0, -1, 42, -42, 127, -128}) {
                expectEquals(b, client.testByte(b), "testByte(" + b + ")");
            }
        });
        check("testI32", () -> {
            for (int i : new int[] {-1, 0, 190000013, -190000013, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                expectEquals(i, client.testI32(i), "testI32(" + i + ")");
            }
        });
        check("testI64", () -> {
            for (long l : new long[] {1, -34359738368L, 7000000000000000123L, -7000000000000000123L, 1L << 32, -(1L << 32),
                    (1L << 32) + 1, -(1L << 32) - 1, Long.MAX_VALUE, Long.MIN_VALUE}) {
                expectEquals(l, client.testI64(l), "testI64(" + l + ")");
            }
        });
        check("testDouble (bit-exact)", () -> {
            for (double d : new double[] {-5.235098235, -5.325098235, 0, -0.0, -1, -0.000341012439638598279, 4294967296.0,
                    -4294967296.0, 4294967297.0, -4294967297.0, 9007199254740991.0, -9007199254740991.0, 1e307, 1e-292,
                    Double.MIN_VALUE, Double.MAX_VALUE, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                expectEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits(client.testDouble(d)), "testDouble(" + d + ")");
            }
            expect(Double.isNaN(client.testDouble(Double.NaN)), "testDouble(NaN) is NaN");
        });
        check("testBinary, bytes -128..127", () -> {
            byte[] all = new byte[256];
            for (int i = 0; i < all.length; i++) {
                all[i] = (byte) (i - 128);
            }
            expectEquals(ByteBuffer.wrap(all), client.testBinary(ByteBuffer.wrap(all)), "testBinary");
        });
        check("testBinary, sizes 0, 1, 2, 4 ... 131072", () -> {
            for (int size = 0; size <= 131072; size = size == 0 ? 1 : size * 2) {
                byte[] sent = pattern(size, size);
                expect(Arrays.equals(sent, bytes(client.testBinary(ByteBuffer.wrap(sent)))), "testBinary of " + size + " bytes");
            }
        });
        check("testStruct", () -> {
            Xtruct zero = xtruct("Zero", 1, -3, -5);
            Xtruct back = client.testStruct(zero);
            expectEquals(zero, back, "testStruct echoes all four fields");
            expect(back.isSetString_thing() && back.isSetByte_thing() && back.isSetI32_thing() && back.isSetI64_thing(),
                "all four fields come back set");
        });
        check("testNest", () -> {
            Xtruct2 nest = new Xtruct2((byte) 0, xtruct("Zero", 1, -3, -5), 0);
            Xtruct2 back = client.testNest(nest);
            expectEquals(nest, back, "testNest");
            expect(back.isSetByte_thing() && back.isSetI32_thing(), "fields sent as zero come back set");
            Xtruct2 five = new Xtruct2((byte) 1, xtruct("Zero", 1, -3, -5), 5);
            expectEquals(five, client.testNest(five), "testNest({1, {\"Zero\", 1, -3, -5}, 5})");
        });
        check("testMap", () -> {
            Map<Integer, Integer> map = new LinkedHashMap<>(Map.of(0, 1, 1, 2, 2, 3, 3, 4, -1, -2));
            expectEquals(map, client.testMap(map), "testMap");
            Map<Integer, Integer> tens = new HashMap<>();
            for (int i = 0; i < 5; i++) {
                tens.put(i, i - 10);
            }
            expectEquals(tens, client.testMap(tens), "testMap({i: i - 10})");
            expectEquals(Map.of(), client.testMap(Map.of()), "testMap({})");
        });
        check("testStringMap", () -> {
            Map<String, String> smap = Map.of("a", "2", "b", "blah", "some", "thing", "", "empty key", "\u4e2d", "\u00e9");
            expectEquals(smap, client.testStringMap(smap), "testStringMap");
        });
        check("testSet", () -> {
            Set<Integer> set = new LinkedHashSet<>(List.of(8, 1, 42));
            expectEquals(set, client.testSet(set), "testSet({8, 1, 42})");
            Set<Integer> small = Set.of(-2, -1, 0, 1, 2);
            expectEquals(small, client.testSet(small), "testSet({-2..2})");
            expectEquals(Set.of(), client.testSet(Set.of()), "testSet({})");
        });
        check("testList", () -> {
            expectEquals(List.of(1, 4, 9, -42), client.testList(List.of(1, 4, 9, -42)), "testList keeps order");
            expectEquals(List.of(-2, -1, 0, 1, 2), client.testList(List.of(-2, -1, 0, 1, 2)), "testList([-2..2])");
            expectEquals(List.of(), client.testList(List.of()), "testList([])");
        });
        check("testEnum", () -> {
            for (Numberz n : Numberz.values()) {
                expectEquals(n, client.testEnum(n), "testEnum(" + n + ")");
            }
        });
        check("testTypedef", () -> {
            expectEquals(0xffffffffffffffL, client.testTypedef(0xffffffffffffffL), "testTypedef(0xffffffffffffff)");
            expectEquals(309858235082523L, client.testTypedef(309858235082523L), "testTypedef(309858235082523)");
        });
        check("testMapMap", () -> {
            Map<Integer, Map<Integer, Integer>> want =
                Map.of(-4, Map.of(-4, -4, -3, -3, -2, -2, -1, -1), 4, Map.of(1, 1, 2, 2, 3, 3, 4, 4));
            expectEquals(want, client.testMapMap(42), "testMapMap(42)");
            expectEquals(want, client.testMapMap(1), "testMapMap(1)");
        });
        check("testInsanity", () -> {
            Map<Numberz, Long> userMap = new HashMap<>();
            userMap.put(Numberz.FIVE, 5L);
            userMap.put(Numberz.EIGHT, 8L);
            Insanity insanity = new Insanity(userMap, List.of(xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)));
            Map<Long, Map<Numberz, Insanity>> crazy = client.testInsanity(insanity);
            expectEquals(Set.of(1L, 2L), crazy.keySet(), "testInsanity: outer keys");
            expectEquals(Set.of(Numberz.TWO, Numberz.THREE), crazy.get(1L).keySet(), "testInsanity: keys under 1");
            expectEquals(insanity, crazy.get(1L).get(Numberz.TWO), "testInsanity: 1 -> TWO is the argument");
            expectEquals(insanity, crazy.get(1L).get(Numberz.THREE), "testInsanity: 1 -> THREE is the argument");
            expectEquals(Set.of(Numberz.SIX), crazy.get(2L).keySet(), "testInsanity: keys under 2");
            Insanity six = crazy.get(2L).get(Numberz.SIX);
            expect(six.getUserMapSize() == 0 && six.getXtructsSize() == 0, "testInsanity: SIX is empty, got " + six);
        });
        check("testMulti", () -> {
            Map<Short, String> arg3 = new HashMap<>();
            arg3.put((short) 0, "abc");
            Xtruct multi = client.testMulti((byte) 74, 0xff00ff, 0xffffffffd0d0L, arg3, Numberz.FIVE, 0xf0f0f0L);
            expectEquals(xtruct("Hello2", 74, 0xff00ff, 0xffffffffd0d0L), multi, "testMulti");
        });
        check("testException", () -> {
            client.testException("Safe");
            Xception x = expectThrows(Xception.class, () -> client.testException("Xception"), "testException(\"Xception\")");
            expectEquals(1001, x.errorCode, "Xception.errorCode");
            expectEquals("Xception", x.message, "Xception.message");
            TApplicationException undeclared = expectThrows(TApplicationException.class,
                () -> client.testException("TException"), "testException(\"TException\")");
            expect(undeclared.getMessage() != null && !undeclared.getMessage().isEmpty(),
                "the TApplicationException says why (type " + undeclared.getType() + ")");
            client.testException("success");
            expectEquals("after TException", client.testString("after TException"), "the connection works after it");
        });
        check("testMultiException", () -> {
            Xception x = expectThrows(Xception.class, () -> client.testMultiException("Xception", "test 1"), "err1");
            expectEquals(1001, x.errorCode, "err1.errorCode");
            expectEquals("This is an Xception", x.message, "err1.message");
            Xception2 x2 = expectThrows(Xception2.class, () -> client.testMultiException("Xception2", "test 2"), "err2");
            expectEquals(2002, x2.errorCode, "err2.errorCode");
            expectEquals("This is an Xception2", x2.struct_thing.string_thing, "err2.struct_thing.string_thing");
            expectEquals("foobar", client.testMultiException("success", "foobar").string_thing, "no exception");
            expectEquals("test 3", client.testMultiException("success", "test 3").string_thing, "no exception");
        });
        check("testOneway returns at once and the connection keeps working", () -> {
            long started = System.nanoTime();
            client.testOneway(1);
            long millis = (System.nanoTime() - started) / 1_000_000;
            expect(millis < 1000, "testOneway(1) took " + millis + " ms");
            expectEquals(-1, client.testI32(-1), "testI32(-1) after testOneway");
            client.testVoid();
            started = System.nanoTime();
            for (int i = 0; i < 5; i++) {
                client.testOneway(3);
            }
            millis = (System.nanoTime() - started) / 1_000_000;
            expect(millis < 1000, "five testOneway(3) took " + millis + " ms");
            started = System.nanoTime();
            expectEquals("after five oneways", client.testString("after five oneways"), "testString after them");
            millis = (System.nanoTime() - started) / 1_000_000;
            expect(millis < 2000, "the call after five sleeping oneways took " + millis + " ms");
        });
    }

    void largeValues(ThriftTest.Client client) {
        for (int size : new int[] {1 << 20, 12 << 20}) {
            check("testBinary, " + (size >> 20) + " MiB", () -> {
                byte[] sent = pattern(size, 7);
                expect(Arrays.equals(sent, bytes(client.testBinary(ByteBuffer.wrap(sent)))), "echoed byte for byte");
            });
        }
        check("testString, 1 MiB of multi-byte text", () -> {
            String s = "\u00e9\u4e2d\ud83e\udd80 abc ".repeat(1 << 17);
            expect(s.getBytes(StandardCharsets.UTF_8).length > (1 << 20), "the string is over 1 MiB");
            expect(s.equals(client.testString(s)), "echoed byte for byte");
        });
        check("testList and testMap, 100000 elements", () -> {
            List<Integer> list = new ArrayList<>();
            Map<Integer, Integer> map = new HashMap<>();
            for (int i = 0; i < 100_000; i++) {
                list.add(i * 7 - 350_000);
                map.put(i, -i);
            }
            expectEquals(list, client.testList(list), "testList");
            expectEquals(map, client.testMap(map), "testMap");
        });
        check("small calls after the large ones", () -> expectEquals(-1, client.testI32(-1), "testI32"));
    }

    /** Sends {@code name} (prefixed by the output protocol if multiplexed) with {@code args}; returns the reply header. */
    static TMessage rawCall(TProtocol out, TProtocol in, String name, int seqid, TBase<?, ?> args) throws TException {
        out.writeMessageBegin(new TMessage(name, TMessageType.CALL, seqid));
        args.write(out);
        out.writeMessageEnd();
        out.getTransport().flush();
        return in.readMessageBegin();
    }

    /** Reads the TApplicationException after {@code reply}'s header. */
    static TApplicationException readException(TProtocol in, TMessage reply, String name, int seqid) throws TException {
        expectEquals(TMessageType.EXCEPTION, reply.type, "message type of the reply to " + name);
        expectEquals(seqid, reply.seqid, "seqid of the reply to " + name);
        TApplicationException x = TApplicationException.readFrom(in);
        in.readMessageEnd();
        return x;
    }

    void unknownMethods(Connection connection) {
        TProtocol in = connection.protocol;
        TProtocol out = connection.output("ThriftTest");
        ThriftTest.Client client = new ThriftTest.Client(in, out);
        check("an unknown method answers TApplicationException UNKNOWN_METHOD, and the connection stays", () -> {
            TMessage reply = rawCall(out, in, "noSuchMethod", 41, new ThriftTest.testVoid_args());
            expectEquals("noSuchMethod", reply.name, "the reply names the bare method");
            TApplicationException x = readException(in, reply, "noSuchMethod", 41);
            expectEquals(TApplicationException.UNKNOWN_METHOD, x.getType(), "type of " + x);
            expectEquals("still here", client.testString("still here"), "testString on the same connection");
        });
        check("a SecondService method under ThriftTest's name is unknown", () -> {
            TMessage reply = rawCall(out, in, "secondtestString", 42, new SecondService.secondtestString_args("x"));
            TApplicationException x = readException(in, reply, "secondtestString", 42);
            expectEquals(TApplicationException.UNKNOWN_METHOD, x.getType(), "type of " + x);
            expectEquals(7, client.testI32(7), "testI32 on the same connection");
        });
        check("a reply echoes the bare method name and the call's seqid", () -> {
            for (int seqid : new int[] {0, 0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
                TMessage reply = rawCall(out, in, "testI32", seqid, new ThriftTest.testI32_args(seqid));
                expectEquals(new TMessage("testI32", TMessageType.REPLY, seqid), reply, "reply header");
                ThriftTest.testI32_result result = new ThriftTest.testI32_result();
                result.read(in);
                in.readMessageEnd();
                expectEquals(seqid, result.success, "testI32 result");
            }
        });
        if (multiplexed) {
            check("an unknown service name answers TApplicationException, and the connection stays", () -> {
                TProtocol nowhere = new TMultiplexedProtocol(connection.protocol, "NoSuchService");
                TMessage reply = rawCall(nowhere, in, "testVoid", 43, new ThriftTest.testVoid_args());
                TApplicationException x = readException(in, reply, "NoSuchService:testVoid", 43);
                expect(x.getMessage() != null, "the exception says why");
                expectEquals("still here", client.testString("still here"), "testString on the same connection");
            });
            check("unprefixed names still reach ThriftTest on a multiplexed connection", () -> {
                ThriftTest.Client plain = new ThriftTest.Client(connection.protocol);
                expectEquals("plain", plain.testString("plain"), "unprefixed testString");
                expectEquals("prefixed", client.testString("prefixed"), "prefixed testString");
            });
        }
    }

    void secondService(Connection connection) {
        ThriftTest.Client thriftTest = connection.thriftTest();
        SecondService.Client second = connection.secondService();
        check("SecondService.secondtestString, interleaved with ThriftTest on one connection", () -> {
            expectEquals("testString(\"Test2\")", second.secondtestString("Test2"), "secondtestString(\"Test2\")");
            expectEquals("Test", thriftTest.testString("Test"), "ThriftTest.testString");
            expectEquals("testString(\"foobar\")", second.secondtestString("foobar"), "secondtestString(\"foobar\")");
            expectEquals("testString(\"\")", second.secondtestString(""), "secondtestString(\"\")");
            thriftTest.testOneway(1);
            expectEquals("testString(\"after oneway\")", second.secondtestString("after oneway"), "after a oneway call");
        });
        check("a ThriftTest method under SecondService's name is unknown", () -> {
            TProtocol out = connection.output("SecondService");
            TMessage reply = rawCall(out, connection.protocol, "testVoid", 44, new ThriftTest.testVoid_args());
            TApplicationException x = readException(connection.protocol, reply, "SecondService:testVoid", 44);
            expectEquals(TApplicationException.UNKNOWN_METHOD, x.getType(), "type of " + x);
            expectEquals("testString(\"ok\")", second.secondtestString("ok"), "the connection stays");
        });
    }

    // ---- Apache's generated AsyncClient (always framed) --------------------------------

    interface AsyncCall<T> {
        void start(AsyncMethodCallback<T> callback) throws TException;
    }

    /** Starts one call of Apache's AsyncClient and waits (at most 30 s) for its callback. */
    static <T> T await(AsyncCall<T> call) throws Exception {
        CompletableFuture<T> future = new CompletableFuture<>();
        call.start(new AsyncMethodCallback<T>() {
            @Override
            public void onComplete(T response) {
                future.complete(response);
            }

            @Override
            public void onError(Exception exception) {
                future.completeExceptionally(exception);
            }
        });
        try {
            return future.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
    }

    /**
     * Apache's AsyncClient puts itself in an error state after any exception a call ends with,
     * declared ones included ("Client has an error!"), so each exception gets a client of its own.
     */
    void asyncClient() throws Exception {
        TAsyncClientManager manager = new TAsyncClientManager();
        List<TNonblockingSocket> sockets = new ArrayList<>();
        TProtocolFactory base = compact ? new TCompactProtocol.Factory() : new TBinaryProtocol.Factory();
        TProtocolFactory factory = multiplexed
            ? transport -> new TMultiplexedProtocol(base.getProtocol(transport), "ThriftTest")
            : base;
        AsyncClients clients = () -> {
            TNonblockingSocket socket = new TNonblockingSocket("127.0.0.1", port, 30_000);
            sockets.add(socket);
            ThriftTest.AsyncClient client = new ThriftTest.AsyncClient(factory, manager, socket);
            client.setTimeout(30_000);
            return client;
        };
        try {
            check("Apache's AsyncClient: values, 1 MiB binary, oneway", () -> {
                ThriftTest.AsyncClient client = clients.open();
                expectEquals("async", await((AsyncMethodCallback<String> cb) -> client.testString("async", cb)), "testString");
                expectEquals(xtruct("Zero", 1, -3, -5),
                    await((AsyncMethodCallback<Xtruct> cb) -> client.testStruct(xtruct("Zero", 1, -3, -5), cb)), "testStruct");
                byte[] big = pattern(1 << 20, 3);
                expect(Arrays.equals(big, bytes(await((AsyncMethodCallback<ByteBuffer> cb) -> client.testBinary(ByteBuffer.wrap(big), cb)))),
                    "testBinary, 1 MiB");
                expectEquals("foobar",
                    await((AsyncMethodCallback<Xtruct> cb) -> client.testMultiException("success", "foobar", cb)).string_thing,
                    "testMultiException without an exception");
                await((AsyncMethodCallback<Void> cb) -> client.testOneway(1, cb));
                expectEquals(-1, await((AsyncMethodCallback<Integer> cb) -> client.testI32(-1, cb)), "testI32 after a oneway call");
            });
            check("Apache's AsyncClient: declared and undeclared exceptions", () -> {
                ThriftTest.AsyncClient first = clients.open();
                Xception x = expectThrows(Xception.class,
                    () -> await((AsyncMethodCallback<Void> cb) -> first.testException("Xception", cb)), "testException(\"Xception\")");
                expectEquals(1001, x.errorCode, "Xception.errorCode");
                ThriftTest.AsyncClient second = clients.open();
                Xception2 x2 = expectThrows(Xception2.class,
                    () -> await((AsyncMethodCallback<Xtruct> cb) -> second.testMultiException("Xception2", "x", cb)), "testMultiException");
                expectEquals(2002, x2.errorCode, "Xception2.errorCode");
                ThriftTest.AsyncClient third = clients.open();
                expectThrows(TApplicationException.class,
                    () -> await((AsyncMethodCallback<Void> cb) -> third.testException("TException", cb)), "testException(\"TException\")");
            });
        } finally {
            sockets.forEach(TNonblockingSocket::close);
            manager.stop();
        }
    }

    interface AsyncClients {
        ThriftTest.AsyncClient open() throws Exception;
    }
}
