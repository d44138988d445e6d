package org.mosaic.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.transport.TSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import thrift.test.SecondService;
import thrift.test.ThriftTest;
import thrift.test.Xtruct;

/** Mosaic's generated pipelined {@code AsyncClient} against Mosaic's Rust server, every wire. */
class AsyncClientTest {
    private static ThriftTestServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = ThriftTestServer.start();
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    static List<Wire> wires() {
        return Wire.all();
    }

    /** SecondService is reached by its multiplexed name; plain names go to ThriftTest. */
    static List<Wire> multiplexedWires() {
        return Wire.all().stream().filter(Wire::multiplexed).toList();
    }

    /** An async client on its own connection: separate transports and protocols per direction. */
    static ThriftTest.AsyncClient connect(Wire wire, Duration timeout) throws Exception {
        TSocket socket = wire.connect(server.port());
        return new ThriftTest.AsyncClient(
            wire.protocol(wire.layer(socket)),
            wire.output(wire.protocol(wire.layer(socket)), "ThriftTest"),
            timeout);
    }

    /** The async client seen through the blocking interface, so that {@link Checks} runs on it. */
    static ThriftTest.Iface blocking(ThriftTest.AsyncClient async) {
        return (ThriftTest.Iface) Proxy.newProxyInstance(
            ThriftTest.Iface.class.getClassLoader(),
            new Class<?>[] {ThriftTest.Iface.class},
            (proxy, method, args) -> {
                Method target = ThriftTest.AsyncClient.class.getMethod(method.getName(), method.getParameterTypes());
                CompletableFuture<?> future;
                try {
                    future = (CompletableFuture<?>) target.invoke(async, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
                try {
                    return future.get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw e.getCause();
                }
            });
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void everyMethodPasses(Wire wire) throws Exception {
        try (ThriftTest.AsyncClient client = connect(wire, Duration.ofSeconds(30))) {
            Checks.all(blocking(client));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void sixtyFourCallsInFlightOnOneConnection(Wire wire) throws Exception {
        try (ThriftTest.AsyncClient client = connect(wire, Duration.ofSeconds(30))) {
            List<CompletableFuture<Xtruct>> structs = new ArrayList<>();
            List<CompletableFuture<String>> strings = new ArrayList<>();
            int maxInFlight = 0;
            for (int i = 0; i < 32; i++) {
                structs.add(client.testStruct(Checks.xtruct("call " + i, i, i * 1000, -i)));
                strings.add(client.testString("s" + i));
                maxInFlight = Math.max(maxInFlight, client.inFlight());
            }
            for (int i = 0; i < 32; i++) {
                assertEquals(Checks.xtruct("call " + i, i, i * 1000, -i), structs.get(i).get(30, TimeUnit.SECONDS),
                    "reply " + i + " matches its call");
                assertEquals("s" + i, strings.get(i).get(30, TimeUnit.SECONDS), "reply s" + i + " matches its call");
            }
            assertTrue(maxInFlight >= 1, "calls were in flight together: " + maxInFlight);
            assertEquals(0, client.inFlight(), "no call is left waiting");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void manyThreadsShareOneClient(Wire wire) throws Exception {
        try (ThriftTest.AsyncClient client = connect(wire, Duration.ofSeconds(30))) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < 8; t++) {
                int base = t * 1000;
                Thread thread = new Thread(() -> {
                    try {
                        List<CompletableFuture<Integer>> calls = new ArrayList<>();
                        for (int i = 0; i < 64; i++) {
                            calls.add(client.testI32(base + i));
                        }
                        for (int i = 0; i < 64; i++) {
                            assertEquals(base + i, calls.get(i).get(30, TimeUnit.SECONDS), "testI32 from a thread");
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join();
            }
            assertEquals(List.of(), failures, "every thread got its own replies");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("multiplexedWires")
    void secondServiceAnswers(Wire wire) throws Exception {
        TSocket socket = wire.connect(server.port());
        try (SecondService.AsyncClient client = new SecondService.AsyncClient(
                wire.protocol(wire.layer(socket)), wire.output(wire.protocol(wire.layer(socket)), "SecondService"))) {
            assertEquals("testString(\"foobar\")", client.secondtestString("foobar").get(30, TimeUnit.SECONDS),
                "secondtestString wraps its argument");
        }
    }

    @Test
    void callsFailOnceTheClientIsClosed() throws Exception {
        ThriftTest.AsyncClient client = connect(new Wire("binary", "framed", false), Duration.ZERO);
        assertEquals(5, client.testI32(5).get(30, TimeUnit.SECONDS), "the client works before close");
        client.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> client.testI32(6).get(30, TimeUnit.SECONDS),
            "a call after close fails");
        assertTrue(e.getCause() instanceof org.apache.thrift.transport.TTransportException, "with a transport error: " + e.getCause());
    }

    @Test
    void cancellingAFutureForgetsItsCall() throws Exception {
        try (ThriftTest.AsyncClient client = connect(new Wire("compact", "buffered", false), Duration.ZERO)) {
            CompletableFuture<String> cancelled = client.testString("never mind");
            cancelled.cancel(true);
            assertEquals("next", client.testString("next").get(30, TimeUnit.SECONDS), "later calls still work");
            assertEquals(0, client.inFlight(), "the cancelled call is not waiting");
        }
    }
}
