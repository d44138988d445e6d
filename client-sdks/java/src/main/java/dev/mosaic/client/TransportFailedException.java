package dev.mosaic.client;

/**
 * The connection to {@link #address()} failed during a call: reset, closed by the server, or
 * broken while writing.
 *
 * <p>When the request had been sent the server may have run the call, so the client does not
 * retry it; {@link #requestSent()} says which case this is.
 */
public class TransportFailedException extends MosaicException {
    private static final long serialVersionUID = 1L;

    private final String address;
    private final boolean requestSent;

    /** A failure of the connection to {@code address} ({@code host:port}). */
    public TransportFailedException(String message, String address, boolean requestSent, Throwable cause) {
        super(message, cause);
        this.address = address;
        this.requestSent = requestSent;
    }

    /** The server's address, {@code host:port}. */
    public String address() {
        return address;
    }

    /** Whether the whole request had been written when the connection failed. */
    public boolean requestSent() {
        return requestSent;
    }
}
