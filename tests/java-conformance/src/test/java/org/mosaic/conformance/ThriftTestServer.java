package org.mosaic.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A ThriftTest server process: Mosaic's Rust {@code thrift-test-server} or the Apache Java
 * reference server. Mosaic's Rust {@code thrift-test-server} runs on a port of its own: the path comes from
 * {@code MOSAIC_THRIFT_TEST_SERVER} (default {@code target/debug/thrift-test-server} under the
 * repo root), the port from its {@code listening on 127.0.0.1:PORT} line. One server answers
 * every protocol, transport and multiplexed name, detected per connection.
 */
final class ThriftTestServer implements AutoCloseable {
    private final Process process;
    private final int port;

    private ThriftTestServer(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    static Path repoRoot() {
        String root = System.getenv("MOSAIC_ROOT");
        return root != null ? Path.of(root).toAbsolutePath().normalize() : Path.of("../..").toAbsolutePath().normalize();
    }

    static ThriftTestServer start() throws IOException {
        String configured = System.getenv("MOSAIC_THRIFT_TEST_SERVER");
        Path binary = configured != null && !configured.isEmpty()
            ? Path.of(configured)
            : repoRoot().resolve("target/debug/thrift-test-server");
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " is not built (cargo build -p mosaic-conformance --bins)");
        }
        return start(List.of(binary.toString(), "--port=0"));
    }

    /**
     * The Apache Java reference server that the build compiled into
     * {@code MOSAIC_APACHE_JAVA_SERVER} (target/apache-server), for one protocol and transport.
     */
    static ThriftTestServer startApacheJava(String protocol, String transport) throws IOException {
        return start(apacheJavaCommand("ApacheThriftTestServer", "--protocol=" + protocol, "--transport=" + transport));
    }

    /**
     * Where the build put Apache's Java peers: {@code MOSAIC_APACHE_JAVA_SERVER}
     * (target/apache-server), with {@code classes/} (Apache-generated ThriftTest, the server,
     * Apache's TestClient and ApacheThriftTestClient) and {@code lib/} (libthrift 0.17.0 and
     * what it needs).
     */
    static Path apacheJavaHome() {
        String dir = System.getenv("MOSAIC_APACHE_JAVA_SERVER");
        return dir != null ? Path.of(dir) : Path.of("target/apache-server");
    }

    /** A command that runs {@code mainClass} of Apache's Java peers, on their own classpath. */
    static List<String> apacheJavaCommand(String mainClass, String... args) {
        Path home = apacheJavaHome();
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classpath = home.resolve("classes") + java.io.File.pathSeparator + home.resolve("lib") + "/*";
        List<String> command = new java.util.ArrayList<>(List.of(javaBin, "-cp", classpath, mainClass));
        command.addAll(List.of(args));
        return command;
    }

    /** Starts {@code command} and reads the port from its first line. */
    static ThriftTestServer start(List<String> command) throws IOException {
        Process process = new ProcessBuilder(command)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("listening on 127.0.0.1:")) {
            process.destroyForcibly();
            throw new IllegalStateException(command.get(0) + " printed " + line + " instead of its address");
        }
        int port = Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim());
        return new ThriftTestServer(process, port);
    }

    int port() {
        return port;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
