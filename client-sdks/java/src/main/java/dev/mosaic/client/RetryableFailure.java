package dev.mosaic.client;

/**
 * An attempt failed in a way that lets the call go to another instance: the request never
 * reached a handler (connecting failed, the connection broke before it was sent, the server
 * answered Overloaded), or the call is idempotent. Carries the error the caller sees if no
 * attempt is left. Never leaves the invokers.
 */
final class RetryableFailure extends Exception {
    private static final long serialVersionUID = 1L;

    private final Throwable error;

    RetryableFailure(Throwable error) {
        super(null, null, false, false);
        this.error = error;
    }

    Throwable error() {
        return error;
    }
}
