package dev.mosaic.client;

import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.transport.TTransport;

/**
 * The Thrift protocol a client speaks. Mosaic's servers detect it per connection; other
 * Thrift servers need the one they were started with.
 */
public enum Protocol {
    /** {@code TBinaryProtocol} (strict): Thrift's default. */
    BINARY {
        @Override
        org.apache.thrift.protocol.TProtocol over(TTransport transport) {
            return new TBinaryProtocol(transport);
        }
    },
    /** {@code TCompactProtocol}: smaller integers and field headers. */
    COMPACT {
        @Override
        org.apache.thrift.protocol.TProtocol over(TTransport transport) {
            return new TCompactProtocol(transport);
        }
    };

    abstract org.apache.thrift.protocol.TProtocol over(TTransport transport);
}
