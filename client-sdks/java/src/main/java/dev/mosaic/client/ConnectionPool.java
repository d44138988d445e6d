package dev.mosaic.client;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * At most {@code maxSize} connections for blocking calls, each carrying one call at a time.
 *
 * <p>A caller takes an idle connection (the most recently used, whose socket is likeliest to
 * be alive) or opens one while fewer than {@code maxSize} exist; otherwise it waits for one
 * to be released, until its deadline. Connections are opened and checked outside the lock,
 * so a slow connect holds up nobody else.
 */
final class ConnectionPool implements AutoCloseable {
    private final Connector connector;
    private final int maxSize;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition released = lock.newCondition();
    private final ArrayDeque<Connection> idle = new ArrayDeque<>();
    /** Idle, in use and being opened. */
    private int open;
    private boolean closed;

    ConnectionPool(Connector connector, int maxSize) {
        this.connector = connector;
        this.maxSize = maxSize;
    }

    /**
     * A connection for one call; give it back with {@link #release}.
     *
     * @throws CallTimeoutException when none is free before {@code deadline}
     * @throws ConnectFailedException when a new connection cannot be opened
     * @throws ClientClosedException when the pool is closed
     */
    Connection acquire(Deadline deadline) throws MosaicException {
        while (true) {
            Connection candidate = takeIdleOrReserve(deadline);
            if (candidate == null) {
                return openReserved(deadline);
            }
            if (!candidate.isStale()) {
                return candidate;
            }
            release(candidate, false);
        }
    }

    /**
     * Returns a connection taken by {@link #acquire}. One that is not {@code reusable} (it saw
     * a transport or protocol error, or a timeout, so its stream may be mid-message) is closed.
     */
    void release(Connection connection, boolean reusable) {
        lock.lock();
        try {
            if (reusable && !closed) {
                idle.addFirst(connection);
                released.signal();
                return;
            }
            open--;
            released.signal();
        } finally {
            lock.unlock();
        }
        connection.close();
    }

    /** The connections open now, idle or in use. */
    int size() {
        lock.lock();
        try {
            return open;
        } finally {
            lock.unlock();
        }
    }

    /** Closes idle connections now and busy ones when they are released; waiters fail. */
    @Override
    public void close() {
        List<Connection> toClose;
        lock.lock();
        try {
            closed = true;
            toClose = new ArrayList<>(idle);
            open -= idle.size();
            idle.clear();
            released.signalAll();
        } finally {
            lock.unlock();
        }
        toClose.forEach(Connection::close);
    }

    @Override
    public String toString() {
        return "pool of up to " + maxSize + " connections to " + connector;
    }

    /** An idle connection, or {@code null} after reserving room for a new one. */
    private Connection takeIdleOrReserve(Deadline deadline) throws MosaicException {
        lock.lock();
        try {
            while (true) {
                if (closed) {
                    throw new ClientClosedException();
                }
                Connection connection = idle.pollFirst();
                if (connection != null) {
                    return connection;
                }
                if (open < maxSize) {
                    open++;
                    return null;
                }
                long nanos = deadline.remainingNanos();
                if (nanos <= 0) {
                    throw new CallTimeoutException("all " + maxSize + " connections to " + connector
                        + " stayed busy for " + deadline.budget());
                }
                try {
                    released.await(nanos, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new MosaicException("interrupted while waiting for a connection", e);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    private Connection openReserved(Deadline deadline) throws MosaicException {
        boolean opened = false;
        try {
            // A waiter woken at its deadline has no call left to make on a new connection.
            if (deadline.expired()) {
                throw new CallTimeoutException("no time left to connect to " + connector + " within "
                    + deadline.budget());
            }
            Connection connection = connector.connect(deadline);
            opened = true;
            return connection;
        } finally {
            if (!opened) {
                lock.lock();
                try {
                    open--;
                    released.signal();
                } finally {
                    lock.unlock();
                }
            }
        }
    }
}
