package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.TApplicationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import thrift.test.SecondService;
import thrift.test.ThriftTest;
import thrift.test.Xception;
import thrift.test.Xception2;
import thrift.test.Xtruct;

/**
 * The generic factory, {@code client.service(Iface.class, Client::new)}, on the ThriftTest
 * stubs against Mosaic's thrift-test-server: results, errors and the pool's bound.
 */
class BlockingCallsTest {
    private static ServerProcess server;

    @BeforeAll
    static void startServer() throws Exception {
        server = ServerProcess.thriftTestServer(0);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    static List<Object[]> wires() {
        List<Object[]> wires = new ArrayList<>();
        for (Protocol protocol : Protocol.values()) {
            for (Framing framing : Framing.values()) {
                wires.add(new Object[] {protocol, framing});
            }
        }
        return wires;
    }

    private static MosaicClient.Builder builder(String address) {
        return MosaicClient.builder(address).timeout(Duration.ofSeconds(10));
    }

    @ParameterizedTest(name = "{0}/{1}")
    @MethodSource("wires")
    void callsReturnWhatTheServerSends(Protocol protocol, Framing framing) throws Exception {
        try (MosaicClient client = builder(server.address()).protocol(protocol).framing(framing).build()) {
            ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
            test.testVoid();
            assertEquals("héllo", test.testString("héllo"));
            assertEquals(-7, test.testI32(-7));
            assertEquals(1L << 40, test.testI64(1L << 40));
            byte[] bytes = {0, 1, 2, (byte) 0xff};
            ByteBuffer echoed = test.testBinary(ByteBuffer.wrap(bytes));
            byte[] back = new byte[echoed.remaining()];
            echoed.get(back);
            assertArrayEquals(bytes, back);
            Xtruct xtruct = Xtruct.newBuilder().setString_thing("s").setByte_thing((byte) 1).setI32_thing(2).setI64_thing(3).build();
            assertEquals(xtruct, test.testStruct(xtruct));
            assertEquals(Map.of(1, 2, 3, 4), test.testMap(Map.of(1, 2, 3, 4)));
            assertEquals(1, client.openConnections(), "sequential calls share one connection");
        }
    }

    @Test
    void manyThreadsShareAtMostPoolSizeConnections() throws Exception {
        int poolSize = 3;
        int threads = 8;
        int callsPerThread = 150;
        try (TcpRelay relay = new TcpRelay(server.port());
             MosaicClient client = builder(relay.address()).poolSize(poolSize).build()) {
            ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
            ExecutorService executor = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Integer>> results = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    results.add(executor.submit(() -> {
                        int correct = 0;
                        for (int i = 0; i < callsPerThread; i++) {
                            String text = "thread " + thread + " call " + i;
                            if (text.equals(test.testString(text)) && test.testI32(thread * 1000 + i) == thread * 1000 + i) {
                                correct++;
                            }
                            assertTrue(client.openConnections() <= poolSize, "connections open: " + client.openConnections());
                        }
                        return correct;
                    }));
                }
                for (Future<Integer> result : results) {
                    assertEquals(callsPerThread, result.get(60, TimeUnit.SECONDS));
                }
            } finally {
                executor.shutdownNow();
            }
            assertTrue(relay.maxOpen() <= poolSize, "at most " + poolSize + " at once, saw " + relay.maxOpen());
            assertTrue(relay.accepted() <= poolSize, "healthy connections are reused, opened " + relay.accepted());
        }
    }

    @ParameterizedTest(name = "{0}/{1}")
    @MethodSource("wires")
    void messagesLargerThanLibthriftsDefaultFrame(Protocol protocol, Framing framing) throws Exception {
        try (MosaicClient client = builder(server.address()).protocol(protocol).framing(framing).build()) {
            ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
            byte[] bytes = new byte[20 * 1024 * 1024];
            for (int i = 0; i < bytes.length; i += 4096) {
                bytes[i] = (byte) (i >>> 12);
            }
            ByteBuffer echoed = test.testBinary(ByteBuffer.wrap(bytes));
            assertEquals(ByteBuffer.wrap(bytes), echoed);
        }
    }

    @Test
    void declaredExceptionsReachTheCallerUnchanged() throws Exception {
        try (MosaicClient client = builder(server.address()).build()) {
            ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
            Xception x = assertThrows(Xception.class, () -> test.testException("Xception"));
            assertEquals(1001, x.getErrorCode());
            assertEquals("Xception", x.getMessage());
            Xception2 x2 = assertThrows(Xception2.class, () -> test.testMultiException("Xception2", "x"));
            assertEquals(2002, x2.getErrorCode());
            test.testException("Safe");
            assertEquals(1, client.openConnections(), "a declared exception leaves the connection usable");
        }
    }

    @Test
    void applicationExceptionsReachTheCallerUnchanged() throws Exception {
        try (MosaicClient client = builder(server.address()).build()) {
            ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
            assertThrows(TApplicationException.class, () -> test.testException("TException"));
            // Unmultiplexed, the server's ThriftTest does not know SecondService's method.
            SecondService.Iface second = client.service(SecondService.Iface.class, SecondService.Client::new);
            TApplicationException unknown = assertThrows(TApplicationException.class, () -> second.secondtestString("x"));
            assertEquals(TApplicationException.UNKNOWN_METHOD, unknown.getType());
            assertEquals("still here", test.testString("still here"));
            assertEquals(1, client.openConnections(), "the server's TApplicationException leaves the connection usable");
        }
    }

    @Test
    void onewayCallsDoNotWaitForTheServer() throws Exception {
        try (MosaicClient client = builder(server.address()).build()) {
            ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
            long started = System.nanoTime();
            test.testOneway(1);
            assertTrue(System.nanoTime() - started < TimeUnit.MILLISECONDS.toNanos(900), "testOneway returned at once");
            assertEquals("after oneway", test.testString("after oneway"));
        }
    }

    @Test
    void callsAfterCloseFail() throws Exception {
        MosaicClient client = builder(server.address()).build();
        ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
        assertEquals("open", test.testString("open"));
        client.close();
        assertThrows(ClientClosedException.class, () -> test.testString("closed"));
        assertEquals(0, client.openConnections());
    }

    @Test
    void proxiesBehaveAsObjects() {
        try (MosaicClient client = builder(server.address()).build()) {
            ThriftTest.Iface test = client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
            assertEquals(test, test);
            assertTrue(test.toString().contains("ThriftTest") && test.toString().contains(server.address()), test.toString());
            assertEquals(System.identityHashCode(test), test.hashCode());
        }
    }
}
