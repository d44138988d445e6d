package dev.mosaic.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A hung server: it accepts connections and never answers (nor reads), as a server stuck in
 * a handler or behind a stalled network would.
 */
final class SilentServer implements AutoCloseable {
    private final ServerSocket listener;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();

    SilentServer() throws IOException {
        listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread thread = new Thread(() -> {
            while (!listener.isClosed()) {
                try {
                    accepted.add(listener.accept());
                } catch (IOException e) {
                    return;
                }
            }
        }, "silent-accept");
        thread.setDaemon(true);
        thread.start();
    }

    String address() {
        return "127.0.0.1:" + listener.getLocalPort();
    }

    /** Connections accepted since the start. */
    int accepted() {
        return accepted.size();
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : accepted) {
            socket.close();
        }
    }
}
