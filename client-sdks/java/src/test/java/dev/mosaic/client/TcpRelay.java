package dev.mosaic.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP relay in front of a real server that counts the connections a client opens through
 * it: how many in all, and how many at once at most. One thread per direction per connection.
 * It can hold the server's replies back for a while ({@link #holdReplies}), making a healthy
 * server slow on demand.
 */
final class TcpRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final boolean forwardHalfClose;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Object gate = new Object();
    // Guarded by gate.
    private boolean holding;
    private boolean closed;

    TcpRelay(int targetPort) throws IOException {
        this(targetPort, true);
    }

    /**
     * A relay to {@code targetPort}. Without {@code forwardHalfClose}, a client that shuts down
     * its sending side is not passed on: the server keeps its connection open and silent, as
     * some proxies do.
     */
    TcpRelay(int targetPort, boolean forwardHalfClose) throws IOException {
        this.targetPort = targetPort;
        this.forwardHalfClose = forwardHalfClose;
        this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        daemon(this::acceptLoop, "relay-accept");
    }

    String address() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** Connections accepted since the start. */
    int accepted() {
        return accepted.get();
    }

    /** The most connections that were open at the same time. */
    int maxOpen() {
        return maxOpen.get();
    }

    /**
     * From now on, bytes the server sends are held until {@link #releaseReplies}: a call made
     * meanwhile reaches the server, which answers, but the answer does not reach the client.
     */
    void holdReplies() {
        synchronized (gate) {
            holding = true;
        }
    }

    /** Lets the server's bytes through again, those held included. */
    void releaseReplies() {
        synchronized (gate) {
            holding = false;
            gate.notifyAll();
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (gate) {
            closed = true;
            gate.notifyAll();
        }
        listener.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            Socket server;
            try {
                client = listener.accept();
                server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
            } catch (IOException e) {
                return;
            }
            accepted.incrementAndGet();
            maxOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
            sockets.add(client);
            sockets.add(server);
            AtomicInteger directions = new AtomicInteger(2);
            Runnable done = () -> {
                if (directions.decrementAndGet() == 0) {
                    open.decrementAndGet();
                    closeQuietly(client);
                    closeQuietly(server);
                    sockets.remove(client);
                    sockets.remove(server);
                }
            };
            daemon(() -> pump(client, server, forwardHalfClose, () -> {}, done), "relay-up");
            daemon(() -> pump(server, client, true, this::awaitRelease, done), "relay-down");
        }
    }

    /**
     * Copies {@code from} to {@code to} until either ends, then half-closes {@code to} if asked;
     * {@code beforeWrite} may hold each chunk back.
     */
    private static void pump(Socket from, Socket to, boolean halfClose, Runnable beforeWrite, Runnable done) {
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
                beforeWrite.run();
                out.write(buffer, 0, n);
            }
            if (halfClose) {
                to.shutdownOutput();
                done.run();
            }
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
            done.run();
        }
    }

    /** Waits while replies are held (and the relay is open). */
    private void awaitRelease() {
        synchronized (gate) {
            while (holding && !closed) {
                try {
                    gate.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static void closeQuietly(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // Already gone.
        }
    }

    private static void daemon(Runnable task, String name) {
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        thread.start();
    }
}
