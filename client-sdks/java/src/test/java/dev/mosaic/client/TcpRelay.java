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
 */
final class TcpRelay implements AutoCloseable {
    private final ServerSocket listener;
    private final int targetPort;
    private final boolean forwardHalfClose;
    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger maxOpen = new AtomicInteger();
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();

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

    @Override
    public void close() throws IOException {
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
            daemon(() -> pump(client, server, forwardHalfClose, done), "relay-up");
            daemon(() -> pump(server, client, true, done), "relay-down");
        }
    }

    /** Copies {@code from} to {@code to} until either ends, then half-closes {@code to} if asked. */
    private static void pump(Socket from, Socket to, boolean halfClose, Runnable done) {
        byte[] buffer = new byte[64 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            for (int n; (n = in.read(buffer)) >= 0; ) {
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
