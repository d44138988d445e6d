package dev.mosaic.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransportException;

/**
 * One TCP connection to a server, with the protocol stack the client's configuration asks for.
 *
 * <p>The socket comes from a {@link SocketChannel} (used in blocking mode, as libthrift's
 * {@link TSocket} expects) so that {@link #isStale()} can look at it without blocking.
 */
final class Connection implements AutoCloseable {
    private final Endpoint endpoint;
    private final SocketChannel channel;
    private final TSocket socket;
    private final ClientConfig config;
    private TProtocol protocol;

    private Connection(Endpoint endpoint, SocketChannel channel, TSocket socket, ClientConfig config) {
        this.endpoint = endpoint;
        this.channel = channel;
        this.socket = socket;
        this.config = config;
    }

    /**
     * Connects to {@code endpoint}, waiting at most {@code connectTimeoutMillis}.
     *
     * @throws ConnectFailedException when the connection cannot be opened
     */
    static Connection open(Endpoint endpoint, ClientConfig config, int connectTimeoutMillis) throws ConnectFailedException {
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open();
            channel.socket().connect(new InetSocketAddress(endpoint.host(), endpoint.port()), connectTimeoutMillis);
            TSocket socket = new TSocket(channel.socket());
            // libthrift's defaults cap frames far below its own message limit; images need both.
            socket.setMaxMessageSize(config.maxMessageSize());
            socket.setMaxFrameSize(config.maxMessageSize());
            return new Connection(endpoint, channel, socket, config);
        } catch (IOException | TTransportException | RuntimeException e) {
            closeQuietly(channel);
            throw new ConnectFailedException(endpoint.toString(), e);
        }
    }

    Endpoint endpoint() {
        return endpoint;
    }

    /** The protocol blocking clients read and write with, one call at a time. */
    TProtocol protocol() throws TTransportException {
        if (protocol == null) {
            protocol = newProtocol();
        }
        return protocol;
    }

    /**
     * A new protocol stack over this connection's socket. An async client needs two, one
     * per direction, since libthrift's framed transports hold one buffer per direction and
     * are not safe for a reader and a writer at once.
     */
    TProtocol newProtocol() throws TTransportException {
        return config.protocol().over(new SendTracker(config.framing().over(socket)));
    }

    /** Bounds every wait for the server's bytes by {@code millis}. */
    void setReadTimeout(int millis) throws SocketException {
        socket.getSocket().setSoTimeout(millis);
    }

    /** The TCP socket under the protocol stack. */
    java.net.Socket socket() {
        return socket.getSocket();
    }

    boolean isOpen() {
        return channel.isOpen() && socket.isOpen();
    }

    /**
     * Whether an idle connection can no longer carry a call: the server closed it (a restart,
     * an idle timeout) or sent bytes nobody asked for. Checked before a pooled connection is
     * reused, so that a request is not written into a connection that is already gone.
     * Only for connections no thread is reading from: switching the channel to non-blocking
     * mode waits for a blocked read to end.
     */
    boolean isStale() {
        if (!isOpen()) {
            return true;
        }
        try {
            channel.configureBlocking(false);
            try {
                return channel.read(ByteBuffer.allocate(1)) != 0;
            } finally {
                channel.configureBlocking(true);
            }
        } catch (IOException | RuntimeException e) {
            return true;
        }
    }

    @Override
    public void close() {
        socket.close();
        closeQuietly(channel);
    }

    private static void closeQuietly(SocketChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Nothing left to release.
            }
        }
    }

    @Override
    public String toString() {
        return "Connection(" + endpoint + ")";
    }
}
