package dev.mosaic.client;

/**
 * The call did not complete within its timeout: while waiting for a free connection,
 * connecting, or waiting for the reply. The server may or may not have run the call.
 */
public class CallTimeoutException extends MosaicException {
    private static final long serialVersionUID = 1L;

    /** A timeout described by {@code message}. */
    public CallTimeoutException(String message) {
        super(message);
    }

    /** A timeout described by {@code message}, detected as {@code cause}. */
    public CallTimeoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
