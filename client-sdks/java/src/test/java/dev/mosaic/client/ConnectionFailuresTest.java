package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import thrift.test.ThriftTest;

/** Hung servers, closed ports and restarted servers, seen through the blocking factory. */
class ConnectionFailuresTest {
    private static final Duration SLACK = Duration.ofSeconds(3);

    private static ThriftTest.Iface thriftTest(MosaicClient client) {
        return client.service(ThriftTest.Iface.class, ThriftTest.Client::new);
    }

    @Test
    void aHungServerTimesOutAndItsConnectionIsDiscarded() throws Exception {
        Duration timeout = Duration.ofMillis(400);
        try (SilentServer hung = new SilentServer();
             MosaicClient client = MosaicClient.builder(hung.address()).timeout(timeout).poolSize(1).build()) {
            ThriftTest.Iface test = thriftTest(client);
            for (int call = 1; call <= 2; call++) {
                long started = System.nanoTime();
                CallTimeoutException e = assertThrows(CallTimeoutException.class, () -> test.testString("anyone?"));
                long elapsed = System.nanoTime() - started;
                assertTrue(elapsed >= timeout.toNanos() / 2, "waited " + elapsed / 1_000_000 + " ms");
                assertTrue(elapsed < timeout.plus(SLACK).toNanos(), "waited " + elapsed / 1_000_000 + " ms");
                assertTrue(e.getMessage().contains(hung.address()), e.getMessage());
                // The pool's only slot is free again: the stuck connection was closed, not kept.
                assertEquals(0, client.openConnections());
                assertEquals(call, hung.accepted());
            }
        }
    }

    @Test
    void aHungServerDoesNotHoldUpOtherCallers() throws Exception {
        Duration timeout = Duration.ofMillis(1500);
        int callers = 4;
        try (SilentServer hung = new SilentServer();
             MosaicClient client = MosaicClient.builder(hung.address()).timeout(timeout).poolSize(2).build()) {
            ThriftTest.Iface test = thriftTest(client);
            ExecutorService executor = Executors.newFixedThreadPool(callers);
            try {
                long started = System.nanoTime();
                List<Future<Throwable>> outcomes = new ArrayList<>();
                for (int i = 0; i < callers; i++) {
                    outcomes.add(executor.submit(() -> {
                        try {
                            test.testI32(1);
                            return null;
                        } catch (Exception e) {
                            return e;
                        }
                    }));
                }
                for (int poll = 0; poll < 100 && hung.accepted() < 2; poll++) {
                    Thread.sleep(10);
                }
                // Two calls hold the pool's two connections; the other two wait for one.
                assertEquals(2, hung.accepted());
                assertEquals(2, client.openConnections());
                for (Future<Throwable> outcome : outcomes) {
                    Throwable error = outcome.get(30, TimeUnit.SECONDS);
                    assertTrue(error instanceof CallTimeoutException, String.valueOf(error));
                }
                // Every caller, waiting or not, was done within its own timeout.
                assertTrue(System.nanoTime() - started < timeout.plus(SLACK).toNanos());
                // The connections that carried timed-out calls were closed. (A waiter that got
                // a slot just before its deadline may have pooled a fresh, unused one.)
                int closed = hung.closedByClient();
                assertTrue(closed >= 2, closed + " of " + hung.accepted() + " connections closed");
                assertEquals(hung.accepted() - closed, client.openConnections());
            } finally {
                executor.shutdownNow();
            }
        }
    }

    @Test
    void aClosedPortFailsWithTheAddress() throws Exception {
        int port = Ports.closed();
        String address = "127.0.0.1:" + port;
        try (MosaicClient client = MosaicClient.builder(address).retries(2).timeout(Duration.ofSeconds(5)).build()) {
            ThriftTest.Iface test = thriftTest(client);
            long started = System.nanoTime();
            ConnectFailedException e = assertThrows(ConnectFailedException.class, () -> test.testVoid());
            assertTrue(System.nanoTime() - started < SLACK.toNanos(), "connection refused is not waited out");
            assertEquals(address, e.address());
            assertFalse(e.requestSent());
            assertTrue(e.getMessage().contains(address), e.getMessage());
            assertEquals(0, client.openConnections());
        }
    }

    @Test
    void aServerOfAnotherProtocolIsABadReply() throws Exception {
        for (Protocol protocol : Protocol.values()) {
            for (Framing framing : Framing.values()) {
                try (GreetingServer greeter = new GreetingServer();
                     MosaicClient client = MosaicClient.builder(greeter.address()).protocol(protocol).framing(framing)
                         .timeout(Duration.ofSeconds(2)).build()) {
                    BadReplyException e = assertThrows(BadReplyException.class,
                        () -> thriftTest(client).testString("hello?"), protocol + "/" + framing);
                    assertTrue(e.getMessage().contains(greeter.address()), e.getMessage());
                    assertEquals(0, client.openConnections(), "the connection was closed");
                }
            }
        }
    }

    @Test
    void pooledCallsSurviveAServerRestartOnTheSamePort() throws Exception {
        ServerProcess server = ServerProcess.thriftTestServer(0);
        int port = server.port();
        // No retries: reusing a pooled connection the server closed must not need one.
        try (MosaicClient client = MosaicClient.builder(server.address()).poolSize(4).retries(0)
                 .timeout(Duration.ofSeconds(10)).build()) {
            ThriftTest.Iface test = thriftTest(client);
            fillPool(test, 4);
            assertTrue(client.openConnections() > 1, "several pooled connections: " + client.openConnections());

            server.close();
            ConnectFailedException down = assertThrows(ConnectFailedException.class, () -> test.testI32(1));
            assertEquals("127.0.0.1:" + port, down.address());

            server = restart(port);
            for (int i = 0; i < 10; i++) {
                assertEquals(i, test.testI32(i));
            }
            fillPool(test, 4);
        } finally {
            server.close();
        }
    }

    /** Runs {@code callers} calls at once, so that the pool holds several connections. */
    private static void fillPool(ThriftTest.Iface test, int callers) throws Exception {
        ExecutorService executor = Executors.newFixedThreadPool(callers);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < callers * 4; i++) {
                String text = "call " + i;
                results.add(executor.submit(() -> test.testString(text)));
            }
            for (int i = 0; i < results.size(); i++) {
                assertEquals("call " + i, results.get(i).get(30, TimeUnit.SECONDS));
            }
        } finally {
            executor.shutdownNow();
        }
    }

    /** Starts thrift-test-server on {@code port}, which may take a moment to be free again. */
    private static ServerProcess restart(int port) throws Exception {
        IOException last = null;
        for (int attempt = 0; attempt < 50; attempt++) {
            try {
                return ServerProcess.thriftTestServer(port);
            } catch (IOException e) {
                last = e;
                Thread.sleep(100);
            }
        }
        throw last;
    }
}
