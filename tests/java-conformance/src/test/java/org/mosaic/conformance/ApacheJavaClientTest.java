package org.mosaic.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Apache-generated Java clients against Mosaic's Rust server, every wire: Apache's own
 * cross-test client (org.apache.thrift.test.TestClient from Apache Thrift 0.17.0) and
 * ApacheThriftTestClient (src/apache-client/java: every method with the values of
 * shared/conformance/README.md, exceptions, oneway, unknown methods and services, large
 * binaries, SecondService, non-strict binary, Apache's AsyncClient). Both are Apache-generated
 * {@code ThriftTest.Client} code on libthrift 0.17.0, so each runs as its own process on the
 * classpath of the Apache Java server (the tests' own classpath has the libthrift version
 * Mosaic's stubs use), and passes when it exits 0.
 */
class ApacheJavaClientTest {
    private static final long TIMEOUT_SECONDS = 120;
    private static ThriftTestServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = ThriftTestServer.start();
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    static List<Wire> wires() {
        return Wire.all();
    }

    /** Apache's protocol names: multi and multic are binary and compact with TMultiplexedProtocol. */
    static String apacheProtocol(Wire wire) {
        if (wire.multiplexed()) {
            return wire.protocol().equals("compact") ? "multic" : "multi";
        }
        return wire.protocol();
    }

    record Run(int exit, String output) {}

    /** Runs {@code mainClass} of Apache's Java peers to completion (bounded), its output kept in a log. */
    static Run run(String log, String mainClass, String... args) throws IOException, InterruptedException {
        Path logs = Files.createDirectories(ThriftTestServer.apacheJavaHome().resolve("logs"));
        Path file = logs.resolve(log + ".log");
        Process process = new ProcessBuilder(ThriftTestServer.apacheJavaCommand(mainClass, args))
            .redirectErrorStream(true)
            .redirectOutput(file.toFile())
            .start();
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail(mainClass + " did not finish in " + TIMEOUT_SECONDS + " s:\n" + Files.readString(file, StandardCharsets.UTF_8));
        }
        return new Run(process.exitValue(), Files.readString(file, StandardCharsets.UTF_8));
    }

    static String logName(String client, Wire wire) {
        return client + "-" + apacheProtocol(wire) + "-" + wire.transport();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void apachesOwnTestClientPasses(Wire wire) throws Exception {
        Run run = run(logName("TestClient", wire), "org.apache.thrift.test.TestClient",
            "--host=127.0.0.1", "--port=" + server.port(),
            "--protocol=" + apacheProtocol(wire), "--transport=" + wire.transport());
        assertEquals(0, run.exit(), () -> "TestClient's exit status (a bit mask: 1 base types, 2 structs, "
            + "4 containers, 8 exceptions, 16 protocols, 64 unknown):\n" + run.output());
        assertFalse(run.output().contains("FAILURE"), run::output);
        assertTrue(run.output().contains("testClient.testMultiException(\"Xception2\", \"test 2\") =>  {2002, {\"This is an Xception2\"}}"),
            () -> "TestClient reached the exception tests:\n" + run.output());
        assertTrue(run.output().contains("testOneway(3)...Success"), () -> "testOneway returned at once:\n" + run.output());
        if (wire.multiplexed()) {
            assertTrue(run.output().contains("secondtestString(\"Test2\") = \"testString(\"Test2\")\""),
                () -> "SecondService answered:\n" + run.output());
        }
        assertTrue(server.isAlive(), "Mosaic's server is still running");
    }

    private static final Pattern SUMMARY = Pattern.compile("(?m)^(\\d+) passed, 0 failed$");

    @ParameterizedTest(name = "{0}")
    @MethodSource("wires")
    void apacheGeneratedClientPassesEveryCheck(Wire wire) throws Exception {
        Run run = run(logName("ApacheThriftTestClient", wire), "ApacheThriftTestClient",
            "--port=" + server.port(), "--protocol=" + apacheProtocol(wire), "--transport=" + wire.transport());
        assertEquals(0, run.exit(), run::output);
        String libthrift = System.getenv("MOSAIC_APACHE_LIBTHRIFT_VERSION");
        if (libthrift != null) {
            assertTrue(run.output().contains("libthrift " + libthrift + "\n"), () -> "runs on libthrift " + libthrift + ":\n" + run.output());
        }
        Matcher summary = SUMMARY.matcher(run.output());
        assertTrue(summary.find(), run::output);
        // Every wire runs the 34 checks common to all; multiplexed, framed and binary wires add theirs.
        int expected = 34 + (wire.multiplexed() ? 4 : 0) + (wire.transport().equals("framed") ? 2 : 0)
            + (wire.protocol().equals("binary") ? 1 : 0);
        assertEquals(expected, Integer.parseInt(summary.group(1)), () -> "checks that ran:\n" + run.output());
        assertTrue(server.isAlive(), "Mosaic's server is still running");
    }
}
