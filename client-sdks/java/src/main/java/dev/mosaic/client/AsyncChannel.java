package dev.mosaic.client;

import org.apache.thrift.transport.TTransportException;

/**
 * One multiplexed connection and the generated async client on it, reconnected on demand
 * after it fails. Many calls share it at once; the async client matches replies to calls.
 */
final class AsyncChannel<A> {
    /** A client and the connection it runs on. */
    record Session<A>(A client, Connection connection) {}

    private final Connector connector;
    private final AsyncClientFactory<? extends A> factory;
    private Session<A> session;
    private boolean closed;

    AsyncChannel(Connector connector, AsyncClientFactory<? extends A> factory) {
        this.connector = connector;
        this.factory = factory;
    }

    /**
     * The current session, or a new one when there is none or its connection has closed.
     * Connecting happens on the caller's thread, bounded by the connect timeout and
     * {@code deadline}.
     */
    synchronized Session<A> session(Deadline deadline) throws MosaicException {
        if (closed) {
            throw new ClientClosedException();
        }
        if (session != null && session.connection().isOpen()) {
            return session;
        }
        discardLocked();
        Connection connection = connector.connect(deadline);
        try {
            A client = factory.create(connection.newProtocol(), connection.newProtocol(), connector.config().timeout());
            session = new Session<>(client, connection);
            return session;
        } catch (TTransportException | RuntimeException e) {
            connection.close();
            throw new TransportFailedException("cannot set up a connection to " + connection.endpoint() + ": " + e.getMessage(),
                connection.endpoint().toString(), false, e);
        }
    }

    /** Drops {@code failed} if it is still current, so that the next call reconnects. */
    synchronized void discard(Session<A> failed) {
        if (session == failed) {
            discardLocked();
        }
    }

    /** Fails the calls in flight and refuses new ones. */
    synchronized void close() {
        closed = true;
        discardLocked();
    }

    private void discardLocked() {
        Session<A> dropped = session;
        if (dropped == null) {
            return;
        }
        // Cleared first: closing the client fails its calls, and their callbacks may discard
        // this session again on this thread.
        session = null;
        if (dropped.client() instanceof AutoCloseable) {
            try {
                ((AutoCloseable) dropped.client()).close();
            } catch (Exception ignored) {
                // The connection is closed below either way.
            }
        }
        dropped.connection().close();
    }
}
