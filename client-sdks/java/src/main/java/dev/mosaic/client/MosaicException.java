package dev.mosaic.client;

import org.apache.thrift.TException;

/**
 * Base of every error a {@link MosaicClient} raises on its own account, as opposed to errors
 * the server sends: exceptions the IDL declares and {@link org.apache.thrift.TApplicationException}
 * reach the caller unchanged.
 *
 * <p>It extends {@link TException}, so it passes through every generated {@code Iface} method
 * and code that catches {@code TException} keeps working.
 */
public class MosaicException extends TException {
    private static final long serialVersionUID = 1L;

    /** An error described by {@code message}. */
    public MosaicException(String message) {
        super(message);
    }

    /** An error described by {@code message}, caused by {@code cause}. */
    public MosaicException(String message, Throwable cause) {
        super(message, cause);
    }
}
