package dev.mosaic.client;

import org.apache.thrift.TConfiguration;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;

/**
 * A transport that notes, per thread, whether the request being written was flushed whole.
 *
 * <p>Generated clients write a call and flush it on the calling thread (the async client too),
 * so a failure seen before {@link #requestSent()} turns true left the server with at most part
 * of a request, which it cannot have run: such a call is safe to retry on another connection.
 * Everything else is passed through to the transport below.
 */
final class SendTracker extends TTransport {
    private static final ThreadLocal<boolean[]> SENT = ThreadLocal.withInitial(() -> new boolean[1]);

    private final TTransport inner;

    SendTracker(TTransport inner) {
        this.inner = inner;
    }

    /** Marks the start of a request on this thread. */
    static void beginRequest() {
        SENT.get()[0] = false;
    }

    /** Whether this thread's request since {@link #beginRequest()} was flushed whole. */
    static boolean requestSent() {
        return SENT.get()[0];
    }

    @Override
    public void flush() throws TTransportException {
        inner.flush();
        SENT.get()[0] = true;
    }

    @Override
    public boolean peek() {
        return inner.peek();
    }

    @Override
    public boolean isOpen() {
        return inner.isOpen();
    }

    @Override
    public void open() throws TTransportException {
        inner.open();
    }

    @Override
    public void close() {
        inner.close();
    }

    @Override
    public int read(byte[] buf, int off, int len) throws TTransportException {
        return inner.read(buf, off, len);
    }

    @Override
    public int readAll(byte[] buf, int off, int len) throws TTransportException {
        return inner.readAll(buf, off, len);
    }

    @Override
    public void write(byte[] buf, int off, int len) throws TTransportException {
        inner.write(buf, off, len);
    }

    @Override
    public byte[] getBuffer() {
        return inner.getBuffer();
    }

    @Override
    public int getBufferPosition() {
        return inner.getBufferPosition();
    }

    @Override
    public int getBytesRemainingInBuffer() {
        return inner.getBytesRemainingInBuffer();
    }

    @Override
    public void consumeBuffer(int len) {
        inner.consumeBuffer(len);
    }

    @Override
    public TConfiguration getConfiguration() {
        return inner.getConfiguration();
    }

    @Override
    public void updateKnownMessageSize(long size) throws TTransportException {
        inner.updateKnownMessageSize(size);
    }

    @Override
    public void checkReadBytesAvailable(long numBytes) throws TTransportException {
        inner.checkReadBytesAvailable(numBytes);
    }

    @Override
    public void resetMessageSizeAndConsumedBytes(long newSize) throws TTransportException {
        inner.resetMessageSizeAndConsumedBytes(newSize);
    }
}
