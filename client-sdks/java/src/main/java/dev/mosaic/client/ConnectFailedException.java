package dev.mosaic.client;

/**
 * No connection could be opened to {@link #address()} (refused, unreachable, unresolvable, or
 * not accepted within the connect timeout). The request was never sent, so the client retries
 * it, up to the configured number of retries within the call's timeout, before throwing this.
 */
public class ConnectFailedException extends TransportFailedException {
    private static final long serialVersionUID = 1L;

    /** A failure to connect to {@code address} ({@code host:port}). */
    public ConnectFailedException(String address, Throwable cause) {
        super("cannot connect to " + address + ": " + describe(cause), address, false, cause);
    }

    private static String describe(Throwable cause) {
        String message = cause.getMessage();
        return message == null || message.isEmpty() ? cause.getClass().getSimpleName() : message;
    }
}
