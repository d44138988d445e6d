package dev.mosaic.client;

/**
 * No instance of the service can take the call: the registry lists none (or only instances
 * of weight 0), or no list could be had from any registry yet. Nothing was sent.
 */
public class NoInstanceException extends MosaicException {
    private static final long serialVersionUID = 1L;

    /** The failure described by {@code message}, caused by {@code cause} (may be {@code null}). */
    public NoInstanceException(String message, Throwable cause) {
        super(message, cause);
    }
}
