package org.mosaic.benchclients;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.TException;
import org.apache.thrift.async.AsyncMethodCallback;
import org.apache.thrift.async.TAsyncClientManager;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolFactory;
import org.apache.thrift.transport.TNonblockingSocket;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * Calls per second of generated Java clients of {@code bench.thrift} against one running server.
 *
 * <p>Driven over stdin by {@code bench/clients/bench_clients.py}, one run per line:
 *
 * <pre>
 *   run KIND CALL CONCURRENCY PROTOCOL WARMUP_MS WINDOW_MS
 *   quit
 * </pre>
 *
 * <p>KIND is {@code mosaic-sync} or {@code apache-sync} (CONCURRENCY threads, each with its own
 * connection and blocking {@code Client}), {@code mosaic-async} (one connection, Mosaic's
 * {@code AsyncClient}, CONCURRENCY calls kept in flight: each completed future issues the next
 * call) or {@code apache-async} (CONCURRENCY of Apache's {@code AsyncClient}s on one {@code
 * TAsyncClientManager}, each its own connection with its one call in flight). CALL is {@code
 * ping} or {@code echo1k}; PROTOCOL {@code binary} or {@code compact}, always framed. Each echo
 * reply is compared with what was sent.
 *
 * <p>A run connects, calls for WARMUP_MS, prints {@code start} when the measured window opens,
 * and after WINDOW_MS prints {@code done CALLS NANOS} (calls completed in the window and its
 * length), or {@code error MESSAGE}. Every run ends: callers stop at the window's end and get 10
 * s to finish their last call before the run fails.
 */
public final class ClientBench {
    private static final String HOST = "127.0.0.1";
    private static final int SOCKET_TIMEOUT_MS = 10_000;
    private static final long FINISH_TIMEOUT_MS = 10_000;
    private static final ByteBuffer PAYLOAD = payload(1024);

    private ClientBench() {}

    private static ByteBuffer payload(int size) {
        byte[] bytes = new byte[size];
        for (int i = 0; i < size; i++) {
            bytes[i] = (byte) (i * 31 + 7);
        }
        // A heap buffer with an accessible array: libthrift's writeBinary calls array(), and
        // Mosaic's setters keep the caller's buffer where Apache's copy it (a read-only buffer
        // fails with Mosaic's stubs). Every call sends a duplicate, so nobody moves its position.
        return ByteBuffer.wrap(bytes);
    }

    /** What one run shares with its callers. */
    private static final class Run {
        final boolean echo;
        final LongAdder calls = new LongAdder();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        volatile boolean stop;

        Run(boolean echo) {
            this.echo = echo;
        }

        void check(ByteBuffer reply) {
            if (!PAYLOAD.equals(reply)) {
                throw new IllegalStateException("echo returned " + reply.remaining() + " bytes that differ from the 1024 sent");
            }
        }

        void fail(Throwable e) {
            error.compareAndSet(null, e);
            stop = true;
        }
    }

    /** A run's callers: started, then stopped and closed. */
    private interface Callers extends AutoCloseable {
        /** Waits until every caller has finished its last call; false on timeout. */
        boolean awaitFinished(long timeoutMs) throws InterruptedException;

        @Override
        void close();
    }

    private static TProtocol protocol(String name, TTransport transport) {
        switch (name) {
            case "binary":
                return new TBinaryProtocol(transport);
            case "compact":
                return new TCompactProtocol(transport);
            default:
                throw new IllegalArgumentException("unknown protocol " + name);
        }
    }

    private static TProtocolFactory protocolFactory(String name) {
        switch (name) {
            case "binary":
                return new TBinaryProtocol.Factory();
            case "compact":
                return new TCompactProtocol.Factory();
            default:
                throw new IllegalArgumentException("unknown protocol " + name);
        }
    }

    private static TSocket socket(int port) throws TException {
        TSocket socket = new TSocket(new TConfiguration(), HOST, port, SOCKET_TIMEOUT_MS);
        socket.open();
        return socket;
    }

    /** One blocking call of either client kind. */
    @FunctionalInterface
    private interface SyncCall {
        void call() throws TException;
    }

    private static Callers syncCallers(String kind, Run run, int threads, int port, String proto) throws TException {
        List<TSocket> sockets = new ArrayList<>();
        List<SyncCall> calls = new ArrayList<>();
        try {
            for (int i = 0; i < threads; i++) {
                TSocket socket = socket(port);
                sockets.add(socket);
                TProtocol p = protocol(proto, new TFramedTransport(socket));
                if (kind.equals("mosaic-sync")) {
                    org.mosaic.bench.Bench.Client client = new org.mosaic.bench.Bench.Client(p);
                    calls.add(run.echo ? () -> run.check(client.echo(PAYLOAD.duplicate())) : client::ping);
                } else {
                    org.apache.bench.Bench.Client client = new org.apache.bench.Bench.Client(p);
                    calls.add(run.echo ? () -> run.check(client.echo(PAYLOAD.duplicate())) : client::ping);
                }
            }
        } catch (TException | RuntimeException e) {
            sockets.forEach(TSocket::close);
            throw e;
        }
        CountDownLatch finished = new CountDownLatch(threads);
        for (int i = 0; i < threads; i++) {
            SyncCall call = calls.get(i);
            Thread thread = new Thread(() -> {
                try {
                    while (!run.stop) {
                        call.call();
                        run.calls.increment();
                    }
                } catch (TException | RuntimeException e) {
                    run.fail(e);
                } finally {
                    finished.countDown();
                }
            }, "sync-caller-" + i);
            thread.setDaemon(true);
            thread.start();
        }
        return new Callers() {
            @Override
            public boolean awaitFinished(long timeoutMs) throws InterruptedException {
                return finished.await(timeoutMs, TimeUnit.MILLISECONDS);
            }

            @Override
            public void close() {
                sockets.forEach(TSocket::close);
            }
        };
    }

    /** Mosaic's async client: one connection, {@code inFlight} calls outstanding. */
    private static Callers mosaicAsync(Run run, int inFlight, int port, String proto) throws TException {
        TSocket socket = socket(port);
        org.mosaic.bench.Bench.AsyncClient client = new org.mosaic.bench.Bench.AsyncClient(
            protocol(proto, new TFramedTransport(socket)), protocol(proto, new TFramedTransport(socket)));
        CountDownLatch finished = new CountDownLatch(inFlight);
        for (int i = 0; i < inFlight; i++) {
            issueMosaic(client, run, finished);
        }
        return new Callers() {
            @Override
            public boolean awaitFinished(long timeoutMs) throws InterruptedException {
                return finished.await(timeoutMs, TimeUnit.MILLISECONDS);
            }

            @Override
            public void close() {
                client.close();
            }
        };
    }

    private static void issueMosaic(org.mosaic.bench.Bench.AsyncClient client, Run run, CountDownLatch finished) {
        if (run.stop) {
            finished.countDown();
            return;
        }
        CompletableFuture<?> future = run.echo ? client.echo(PAYLOAD.duplicate()) : client.ping();
        future.whenComplete((reply, error) -> {
            try {
                if (error != null) {
                    throw error;
                }
                if (run.echo) {
                    run.check((ByteBuffer) reply);
                }
            } catch (Throwable e) {
                run.fail(e);
                finished.countDown();
                return;
            }
            run.calls.increment();
            issueMosaic(client, run, finished);
        });
    }

    /** Apache's async clients: {@code clients} connections on one manager, one call in flight each. */
    private static Callers apacheAsync(Run run, int clients, int port, String proto) throws Exception {
        TAsyncClientManager manager = new TAsyncClientManager();
        List<TNonblockingSocket> sockets = new ArrayList<>();
        CountDownLatch finished = new CountDownLatch(clients);
        try {
            List<org.apache.bench.Bench.AsyncClient> all = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                TNonblockingSocket socket = new TNonblockingSocket(HOST, port, SOCKET_TIMEOUT_MS);
                sockets.add(socket);
                all.add(new org.apache.bench.Bench.AsyncClient(protocolFactory(proto), manager, socket));
            }
            for (org.apache.bench.Bench.AsyncClient client : all) {
                issueApache(client, run, finished);
            }
        } catch (Exception e) {
            manager.stop();
            sockets.forEach(TNonblockingSocket::close);
            throw e;
        }
        return new Callers() {
            @Override
            public boolean awaitFinished(long timeoutMs) throws InterruptedException {
                return finished.await(timeoutMs, TimeUnit.MILLISECONDS);
            }

            @Override
            public void close() {
                manager.stop();
                sockets.forEach(TNonblockingSocket::close);
            }
        };
    }

    private static void issueApache(org.apache.bench.Bench.AsyncClient client, Run run, CountDownLatch finished) {
        if (run.stop) {
            finished.countDown();
            return;
        }
        try {
            if (run.echo) {
                client.echo(PAYLOAD.duplicate(), new AsyncMethodCallback<ByteBuffer>() {
                    @Override
                    public void onComplete(ByteBuffer reply) {
                        try {
                            run.check(reply);
                        } catch (RuntimeException e) {
                            onError(e);
                            return;
                        }
                        run.calls.increment();
                        issueApache(client, run, finished);
                    }

                    @Override
                    public void onError(Exception e) {
                        run.fail(e);
                        finished.countDown();
                    }
                });
            } else {
                client.ping(new AsyncMethodCallback<Void>() {
                    @Override
                    public void onComplete(Void reply) {
                        run.calls.increment();
                        issueApache(client, run, finished);
                    }

                    @Override
                    public void onError(Exception e) {
                        run.fail(e);
                        finished.countDown();
                    }
                });
            }
        } catch (TException | RuntimeException e) {
            run.fail(e);
            finished.countDown();
        }
    }

    private static String measure(String[] words, int port, PrintStream out) throws Exception {
        if (words.length != 7) {
            throw new IllegalArgumentException("usage: run KIND CALL CONCURRENCY PROTOCOL WARMUP_MS WINDOW_MS");
        }
        String kind = words[1];
        String call = words[2];
        int concurrency = Integer.parseInt(words[3]);
        String proto = words[4];
        long warmupMs = Long.parseLong(words[5]);
        long windowMs = Long.parseLong(words[6]);
        if (!call.equals("ping") && !call.equals("echo1k")) {
            throw new IllegalArgumentException("unknown call " + call);
        }
        if (concurrency < 1 || concurrency > 1024 || warmupMs < 0 || windowMs < 1 || windowMs > 600_000) {
            throw new IllegalArgumentException("concurrency or times out of range");
        }
        Run run = new Run(call.equals("echo1k"));
        Callers callers;
        switch (kind) {
            case "mosaic-sync":
            case "apache-sync":
                callers = syncCallers(kind, run, concurrency, port, proto);
                break;
            case "mosaic-async":
                callers = mosaicAsync(run, concurrency, port, proto);
                break;
            case "apache-async":
                callers = apacheAsync(run, concurrency, port, proto);
                break;
            default:
                throw new IllegalArgumentException("unknown kind " + kind);
        }
        try (callers) {
            Thread.sleep(warmupMs);
            long calls0 = run.calls.sum();
            long t0 = System.nanoTime();
            out.println("start");
            out.flush();
            Thread.sleep(windowMs);
            long calls1 = run.calls.sum();
            long t1 = System.nanoTime();
            run.stop = true;
            if (!callers.awaitFinished(FINISH_TIMEOUT_MS)) {
                return "error callers did not finish within " + FINISH_TIMEOUT_MS + " ms of the window's end";
            }
            Throwable error = run.error.get();
            if (error != null) {
                return "error " + oneLine(error);
            }
            return "done " + (calls1 - calls0) + " " + (t1 - t0);
        }
    }

    private static String oneLine(Throwable e) {
        String text = e.toString();
        if (e.getCause() != null) {
            text += " (cause: " + e.getCause() + ")";
        }
        return text.replace('\n', ' ');
    }

    /** {@code ClientBench PORT}: runs the lines of stdin against 127.0.0.1:PORT. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: ClientBench PORT");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println("ready " + System.getProperty("java.version"));
        String line;
        while ((line = in.readLine()) != null) {
            String[] words = line.trim().split("\\s+");
            if (words[0].equals("quit")) {
                break;
            }
            String result;
            try {
                result = words[0].equals("run") ? measure(words, port, out) : "error unknown command " + words[0];
            } catch (Exception e) {
                result = "error " + oneLine(e);
            }
            out.println(result);
        }
    }
}
