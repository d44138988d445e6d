package dev.mosaic.client;

import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * How messages are delimited on the connection. Mosaic's servers detect it per connection;
 * other Thrift servers need the one they were started with.
 */
public enum Framing {
    /** Each message is prefixed by its length ({@code TFramedTransport}). */
    FRAMED {
        @Override
        TTransport over(TTransport socket) throws TTransportException {
            return new TFramedTransport(socket, socket.getConfiguration().getMaxFrameSize());
        }
    },
    /** Messages follow each other unprefixed (a buffered {@code TSocket}). */
    BUFFERED {
        @Override
        TTransport over(TTransport socket) {
            return socket;
        }
    };

    abstract TTransport over(TTransport socket) throws TTransportException;
}
