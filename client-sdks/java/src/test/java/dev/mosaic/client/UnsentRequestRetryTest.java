package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import thrift.test.ThriftTest;

/**
 * A pooled connection that looks alive while idle but cannot be written to: the call is
 * retried on a new connection, since the request never left. The connection's sending side is
 * shut down behind a relay that does not pass that on, so the server (and the idle check) see
 * a quiet, open connection.
 */
class UnsentRequestRetryTest {
    private static ServerProcess server;

    @BeforeAll
    static void startServer() throws Exception {
        server = ServerProcess.thriftTestServer(0);
    }

    @AfterAll
    static void stopServer() throws Exception {
        server.close();
    }

    /** A blocking ThriftTest over {@code pool}, as {@link MosaicClient#service} builds it. */
    private static ThriftTest.Iface thriftTest(ConnectionPool pool, ClientConfig config) {
        return ThriftTest.Iface.class.cast(Proxy.newProxyInstance(ThriftTest.Iface.class.getClassLoader(),
            new Class<?>[] {ThriftTest.Iface.class},
            new BlockingInvoker<>(ThriftTest.Iface.class, ThriftTest.Client::new, pool, config)));
    }

    private static ClientConfig config(int retries) {
        return new ClientConfig(Duration.ofSeconds(10), Duration.ofSeconds(5), 1, retries, Protocol.BINARY,
            Framing.FRAMED, 1, 1 << 20);
    }

    /** Leaves the pool's one idle connection unable to send. */
    private static void breakSendingSide(ConnectionPool pool) throws Exception {
        Connection idle = pool.acquire(Deadline.after(Duration.ofSeconds(5)));
        idle.socket().shutdownOutput();
        pool.release(idle, true);
    }

    @Test
    void anUnsentRequestIsRetriedOnANewConnection() throws Exception {
        ClientConfig config = config(1);
        try (TcpRelay relay = new TcpRelay(server.port(), false);
             ConnectionPool pool = new ConnectionPool(new Connector(new StaticEndpoints(List.of(Endpoint.parse(relay.address()))), config), 1)) {
            ThriftTest.Iface test = thriftTest(pool, config);
            assertEquals("first", test.testString("first"));
            breakSendingSide(pool);
            assertEquals("second", test.testString("second"));
            assertEquals(2, relay.accepted(), "the broken connection was replaced");
            assertEquals(1, pool.size());
        }
    }

    @Test
    void withoutRetriesTheFailureSaysTheRequestWasNotSent() throws Exception {
        ClientConfig config = config(0);
        try (TcpRelay relay = new TcpRelay(server.port(), false);
             ConnectionPool pool = new ConnectionPool(new Connector(new StaticEndpoints(List.of(Endpoint.parse(relay.address()))), config), 1)) {
            ThriftTest.Iface test = thriftTest(pool, config);
            assertEquals("first", test.testString("first"));
            breakSendingSide(pool);
            TransportFailedException e = assertThrows(TransportFailedException.class, () -> test.testString("second"));
            assertFalse(e.requestSent(), e.getMessage());
            assertEquals(relay.address(), e.address());
            assertEquals(0, pool.size(), "the broken connection was closed");
            assertEquals("third", test.testString("third"));
        }
    }

    @Test
    void anUnsentAsyncRequestIsRetriedOnANewConnection() throws Exception {
        ClientConfig config = config(1);
        try (TcpRelay relay = new TcpRelay(server.port(), false)) {
            AsyncChannel<ThriftTest.AsyncIface> channel = new AsyncChannel<>(
                new Connector(new StaticEndpoints(List.of(Endpoint.parse(relay.address()))), config), ThriftTest.AsyncClient::new);
            AsyncInvoker<ThriftTest.AsyncIface> invoker = new AsyncInvoker<>(ThriftTest.AsyncIface.class, List.of(channel), config);
            ThriftTest.AsyncIface test = ThriftTest.AsyncIface.class.cast(Proxy.newProxyInstance(
                ThriftTest.AsyncIface.class.getClassLoader(), new Class<?>[] {ThriftTest.AsyncIface.class}, invoker));
            try {
                assertEquals("first", test.testString("first").get(30, TimeUnit.SECONDS));
                channel.session(Deadline.after(Duration.ofSeconds(5))).connection().socket().shutdownOutput();
                assertEquals("second", test.testString("second").get(30, TimeUnit.SECONDS));
                assertEquals(2, relay.accepted(), "the broken connection was replaced");

                channel.session(Deadline.after(Duration.ofSeconds(5))).connection().socket().shutdownOutput();
                AsyncInvoker<ThriftTest.AsyncIface> noRetries = new AsyncInvoker<>(ThriftTest.AsyncIface.class, List.of(channel), config(0));
                ThriftTest.AsyncIface once = ThriftTest.AsyncIface.class.cast(Proxy.newProxyInstance(
                    ThriftTest.AsyncIface.class.getClassLoader(), new Class<?>[] {ThriftTest.AsyncIface.class}, noRetries));
                ExecutionException e = assertThrows(ExecutionException.class, () -> once.testString("third").get(30, TimeUnit.SECONDS));
                TransportFailedException failed = assertInstanceOf(TransportFailedException.class, e.getCause());
                assertFalse(failed.requestSent(), failed.getMessage());
            } finally {
                invoker.close();
            }
        }
    }
}
