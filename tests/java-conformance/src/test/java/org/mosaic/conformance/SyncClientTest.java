package org.mosaic.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import thrift.test.SecondService;
import thrift.test.ThriftTest;

/** Mosaic's generated blocking {@code Client} against Mosaic's Rust server, every wire. */
class SyncClientTest {
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

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void everyMethodPasses(Wire wire) throws Exception {
        TSocket socket = wire.connect(server.port());
        try {
            TTransport transport = wire.layer(socket);
            TProtocol protocol = wire.protocol(transport);
            Checks.all(new ThriftTest.Client(protocol, wire.output(protocol, "ThriftTest")));
        } finally {
            socket.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("multiplexedWires")
    void secondServiceAnswers(Wire wire) throws Exception {
        TSocket socket = wire.connect(server.port());
        try {
            TTransport transport = wire.layer(socket);
            TProtocol protocol = wire.protocol(transport);
            SecondService.Client client = new SecondService.Client(protocol, wire.output(protocol, "SecondService"));
            assertEquals("testString(\"foobar\")", client.secondtestString("foobar"), "secondtestString wraps its argument");
        } finally {
            socket.close();
        }
    }
}
