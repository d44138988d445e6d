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

    /** The one instance at {@code address}, as {@link MosaicClient#builder(String)} lists it. */
    private static InstanceSet single(String address, ClientConfig config) {
        InstanceSet instances = new InstanceSet(address, config, Balancer.P2C, null);
        instances.update(List.of(new ServiceInstance(Endpoint.parse(address), 100, null)));
        return instances;
    }

    /** A blocking ThriftTest over {@code instances}, as {@link MosaicClient#service} builds it. */
    private static ThriftTest.Iface thriftTest(InstanceSet instances, ClientConfig config) {
        return ThriftTest.Iface.class.cast(Proxy.newProxyInstance(ThriftTest.Iface.class.getClassLoader(),
            new Class<?>[] {ThriftTest.Iface.class},
            new BlockingInvoker<>(ThriftTest.Iface.class, ThriftTest.Client::new, instances, config, new CallOptions(null, false))));
    }

    private static ThriftTest.AsyncIface asyncThriftTest(AsyncChannels<ThriftTest.AsyncIface> channels, InstanceSet instances,
                                                         ClientConfig config) {
        return ThriftTest.AsyncIface.class.cast(Proxy.newProxyInstance(ThriftTest.AsyncIface.class.getClassLoader(),
            new Class<?>[] {ThriftTest.AsyncIface.class},
            new AsyncInvoker<>(ThriftTest.AsyncIface.class, channels, instances, config, new CallOptions(null, false))));
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
             InstanceSet instances = single(relay.address(), config)) {
            ConnectionPool pool = instances.backends().get(0).pool();
            ThriftTest.Iface test = thriftTest(instances, config);
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
             InstanceSet instances = single(relay.address(), config)) {
            ConnectionPool pool = instances.backends().get(0).pool();
            ThriftTest.Iface test = thriftTest(instances, config);
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
        try (TcpRelay relay = new TcpRelay(server.port(), false);
             InstanceSet instances = single(relay.address(), config);
             AsyncChannels<ThriftTest.AsyncIface> channels = new AsyncChannels<>(ThriftTest.AsyncClient::new, 1)) {
            AsyncChannel<ThriftTest.AsyncIface> channel = channels.channel(instances.backends().get(0));
            ThriftTest.AsyncIface test = asyncThriftTest(channels, instances, config);
            assertEquals("first", test.testString("first").get(30, TimeUnit.SECONDS));
            channel.session(Deadline.after(Duration.ofSeconds(5))).connection().socket().shutdownOutput();
            assertEquals("second", test.testString("second").get(30, TimeUnit.SECONDS));
            assertEquals(2, relay.accepted(), "the broken connection was replaced");

            channel.session(Deadline.after(Duration.ofSeconds(5))).connection().socket().shutdownOutput();
            ThriftTest.AsyncIface once = asyncThriftTest(channels, instances, config(0));
            ExecutionException e = assertThrows(ExecutionException.class, () -> once.testString("third").get(30, TimeUnit.SECONDS));
            TransportFailedException failed = assertInstanceOf(TransportFailedException.class, e.getCause());
            assertFalse(failed.requestSent(), failed.getMessage());
        }
    }
}
