package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.TApplicationException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import thrift.test.SecondService;
import thrift.test.ThriftTest;
import thrift.test.Xception;

/** {@code client.asyncService(AsyncIface.class, AsyncClient::new)} against thrift-test-server. */
class AsyncCallsTest {
    private static ServerProcess server;

    @BeforeAll
    static void startServer() throws Exception {
        server = ServerProcess.thriftTestServer(0);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    private static ThriftTest.AsyncIface thriftTest(MosaicClient client) {
        return client.asyncService(ThriftTest.AsyncIface.class, ThriftTest.AsyncClient::new);
    }

    /** The cause a future failed with. */
    private static Throwable failure(CompletableFuture<?> future) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> future.get(30, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void manyCallsInFlightOnAFewConnections() throws Exception {
        int connections = 2;
        int calls = 500;
        try (TcpRelay relay = new TcpRelay(server.port());
             MosaicClient client = MosaicClient.builder(relay.address()).asyncConnections(connections).build()) {
            ThriftTest.AsyncIface test = thriftTest(client);
            List<CompletableFuture<String>> futures = new ArrayList<>();
            for (int i = 0; i < calls; i++) {
                futures.add(test.testString("call " + i));
            }
            for (int i = 0; i < calls; i++) {
                assertEquals("call " + i, futures.get(i).get(30, TimeUnit.SECONDS));
            }
            assertEquals(connections, relay.accepted(), "every call went over the async connections");
        }
    }

    @Test
    void futuresFailWithTheServicesExceptions() throws Exception {
        try (MosaicClient client = MosaicClient.builder(server.address()).build()) {
            ThriftTest.AsyncIface test = thriftTest(client);
            Xception x = assertInstanceOf(Xception.class, failure(test.testException("Xception")));
            assertEquals(1001, x.getErrorCode());
            assertInstanceOf(TApplicationException.class, failure(test.testException("TException")));
            SecondService.AsyncIface second = client.asyncService(SecondService.AsyncIface.class, SecondService.AsyncClient::new);
            TApplicationException unknown = assertInstanceOf(TApplicationException.class, failure(second.secondtestString("x")));
            assertEquals(TApplicationException.UNKNOWN_METHOD, unknown.getType());
            assertEquals(7, test.testI32(7).get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aClosedPortFailsTheFutureWithTheAddress() throws Exception {
        String address = "127.0.0.1:" + Ports.closed();
        try (MosaicClient client = MosaicClient.builder(address).retries(1).build()) {
            ConnectFailedException e = assertInstanceOf(ConnectFailedException.class, failure(thriftTest(client).testVoid()));
            assertEquals(address, e.address());
        }
    }

    @Test
    void aHungServerTimesOut() throws Exception {
        Duration timeout = Duration.ofMillis(400);
        try (SilentServer hung = new SilentServer();
             MosaicClient client = MosaicClient.builder(hung.address()).timeout(timeout).build()) {
            long started = System.nanoTime();
            Throwable error = failure(thriftTest(client).testString("anyone?"));
            assertInstanceOf(CallTimeoutException.class, error);
            assertTrue(System.nanoTime() - started < timeout.plusSeconds(3).toNanos());
        }
    }

    @Test
    void callsReconnectAfterTheServerRestarts() throws Exception {
        ServerProcess restartable = ServerProcess.thriftTestServer(0);
        int port = restartable.port();
        try (MosaicClient client = MosaicClient.builder(restartable.address()).asyncConnections(1).retries(0).build()) {
            ThriftTest.AsyncIface test = thriftTest(client);
            assertEquals("before", test.testString("before").get(30, TimeUnit.SECONDS));
            restartable.close();
            restartable = null;
            for (int attempt = 0; attempt < 50 && restartable == null; attempt++) {
                try {
                    restartable = ServerProcess.thriftTestServer(port);
                } catch (java.io.IOException e) {
                    Thread.sleep(100);
                }
            }
            assertTrue(restartable != null, "the server came back on port " + port);
            assertEquals("after", test.testString("after").get(30, TimeUnit.SECONDS));
        } finally {
            if (restartable != null) {
                restartable.close();
            }
        }
    }

    @Test
    void closingTheClientFailsLaterCalls() throws Exception {
        MosaicClient client = MosaicClient.builder(server.address()).build();
        ThriftTest.AsyncIface test = thriftTest(client);
        assertEquals(1, test.testI32(1).get(30, TimeUnit.SECONDS));
        client.close();
        assertInstanceOf(ClientClosedException.class, failure(test.testI32(2)));
    }
}
