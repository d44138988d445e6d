package org.mosaic.conformance;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Mosaic's Rust {@code thrift-test-server} on a port of its own: the path comes from
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
        Process process = new ProcessBuilder(binary.toString(), "--port=0")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (line == null || !line.startsWith("listening on 127.0.0.1:")) {
            process.destroyForcibly();
            throw new IllegalStateException("thrift-test-server printed " + line + " instead of its address");
        }
        int port = Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).trim());
        return new ThriftTestServer(process, port);
    }

    int port() {
        return port;
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
