package dev.mosaic.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
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

    /**
     * Of the connections accepted, those the client has closed: read to their end now
     * (whatever request they carried first), each waited on for at most {@code 100 ms}.
     */
    int closedByClient() throws IOException {
        int closed = 0;
        byte[] buffer = new byte[4096];
        for (Socket socket : accepted) {
            socket.setSoTimeout(100);
            try {
                while (socket.getInputStream().read(buffer) >= 0) {
                    // The request, unanswered.
                }
                closed++;
            } catch (SocketTimeoutException e) {
                // Still open.
            } catch (SocketException e) {
                closed++; // Reset by the client.
            }
        }
        return closed;
    }

    @Override
    public void close() throws IOException {
        listener.close();
        for (Socket socket : accepted) {
            socket.close();
        }
    }
}
