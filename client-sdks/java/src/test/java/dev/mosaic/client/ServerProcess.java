package dev.mosaic.client;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A real server process that prints {@code listening on 127.0.0.1:PORT} as its first line:
 * Mosaic's {@code thrift-test-server} or {@code mosaic serve image}. Its stderr goes to a log
 * under target/server-logs.
 */
final class ServerProcess implements AutoCloseable {
    private static final String READY = "listening on 127.0.0.1:";

    private final Process process;
    private final int port;

    private ServerProcess(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Mosaic's thrift-test-server on {@code port} (0: one the system picks). */
    static ServerProcess thriftTestServer(int port) throws IOException {
        return start(List.of(Binaries.thriftTestServer().toString(), "--port=" + port));
    }

    /** {@code mosaic serve image} on a port the system picks, with {@code options} (e.g. {@code --max-pixels 1000}). */
    static ServerProcess imageServer(Path mosaic, String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of(mosaic.toString(), "serve", "image", "--port", "0"));
        command.addAll(List.of(options));
        return start(command);
    }

    /** {@code mosaic registry} on a port the system picks. */
    static ServerProcess registry(Path mosaic) throws IOException {
        return start(List.of(mosaic.toString(), "registry", "--port", "0"));
    }

    /**
     * {@code mosaic serve image} on a port the system picks, registered with the registry at
     * {@code registry} under a lease of {@code ttlMillis}, with more {@code options}.
     */
    static ServerProcess registeredImageServer(Path mosaic, String registry, int ttlMillis, String... options) throws IOException {
        List<String> command = new ArrayList<>(List.of(mosaic.toString(), "serve", "image", "--port", "0",
            "--registry", registry, "--ttl-ms", Integer.toString(ttlMillis)));
        command.addAll(List.of(options));
        return start(command);
    }

    /** Starts {@code command} and waits (at most 30 seconds) for the line naming its port. */
    static ServerProcess start(List<String> command) throws IOException {
        Path logs = Path.of("target", "server-logs");
        Files.createDirectories(logs);
        Path log = logs.resolve(Path.of(command.get(0)).getFileName() + ".log");
        Process process = new ProcessBuilder(new ArrayList<>(command))
            .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
            .start();
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        String line;
        try {
            line = CompletableFuture.supplyAsync(() -> readLine(out)).get(30, TimeUnit.SECONDS);
        } catch (InterruptedException | ExecutionException | TimeoutException e) {
            process.destroyForcibly();
            throw new IOException(command + " did not say where it listens (see " + log + ")", e);
        }
        if (line == null || !line.startsWith(READY)) {
            process.destroyForcibly();
            throw new IOException(command + " printed " + line + " instead of its address (see " + log + ")");
        }
        // Keep reading, so that a chatty server never blocks on a full pipe.
        Thread drain = new Thread(() -> {
            while (readLine(out) != null) {
                // discard
            }
        }, "server-stdout");
        drain.setDaemon(true);
        drain.start();
        return new ServerProcess(process, Integer.parseInt(line.substring(READY.length()).trim()));
    }

    int port() {
        return port;
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    /** Kills the server with SIGKILL (no deregistering, no draining) and waits until it is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** Stops the server and waits (at most 10 seconds) until it is gone. */
    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while stopping the server", e);
        }
    }

    private static String readLine(BufferedReader reader) {
        try {
            return reader.readLine();
        } catch (IOException e) {
            return null;
        }
    }
}
