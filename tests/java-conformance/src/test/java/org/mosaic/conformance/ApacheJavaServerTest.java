package org.mosaic.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import thrift.test.SecondService;
import thrift.test.ThriftTest;

/**
 * Mosaic's generated blocking and async clients against the Apache Java reference server
 * (Apache-generated code on libthrift, one server process per protocol and transport), every
 * wire. Apache's server processes one call at a time per connection, so the async client's
 * calls queue there; its replies still match their calls.
 */
class ApacheJavaServerTest {
    private static final Map<String, ThriftTestServer> SERVERS = new HashMap<>();

    static synchronized int port(Wire wire) throws Exception {
        String key = wire.protocol() + "/" + wire.transport();
        ThriftTestServer server = SERVERS.get(key);
        if (server == null) {
            server = ThriftTestServer.startApacheJava(wire.protocol(), wire.transport());
            SERVERS.put(key, server);
        }
        return server.port();
    }

    @AfterAll
    static synchronized void stopServers() {
        SERVERS.values().forEach(ThriftTestServer::close);
        SERVERS.clear();
    }

    static List<Wire> wires() {
        return Wire.all();
    }

    static List<Wire> multiplexedWires() {
        return Wire.all().stream().filter(Wire::multiplexed).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void syncClientPassesEveryMethod(Wire wire) throws Exception {
        TSocket socket = wire.connect(port(wire));
        try {
            TProtocol protocol = wire.protocol(wire.layer(socket));
            Checks.all(new ThriftTest.Client(protocol, wire.output(protocol, "ThriftTest")), Checks.Peer.APACHE_JAVA);
        } finally {
            socket.close();
        }
    }

    static ThriftTest.AsyncClient asyncClient(Wire wire) throws Exception {
        TSocket socket = wire.connect(port(wire));
        return new ThriftTest.AsyncClient(
            wire.protocol(wire.layer(socket)),
            wire.output(wire.protocol(wire.layer(socket)), "ThriftTest"),
            Duration.ofSeconds(30));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void asyncClientPassesEveryMethod(Wire wire) throws Exception {
        try (ThriftTest.AsyncClient client = asyncClient(wire)) {
            Checks.all(AsyncClientTest.blocking(client), Checks.Peer.APACHE_JAVA);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void sixtyFourCallsInFlightOnOneConnection(Wire wire) throws Exception {
        try (ThriftTest.AsyncClient client = asyncClient(wire)) {
            List<CompletableFuture<String>> calls = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                calls.add(client.testString("call " + i));
            }
            for (int i = 0; i < 64; i++) {
                assertEquals("call " + i, calls.get(i).get(30, TimeUnit.SECONDS), "reply " + i + " matches its call");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("multiplexedWires")
    void secondServiceAnswers(Wire wire) throws Exception {
        TSocket socket = wire.connect(port(wire));
        try {
            TProtocol protocol = wire.protocol(wire.layer(socket));
            SecondService.Client client = new SecondService.Client(protocol, wire.output(protocol, "SecondService"));
            assertEquals("testString(\"foobar\")", client.secondtestString("foobar"), "secondtestString wraps its argument");
        } finally {
            socket.close();
        }
    }
}
