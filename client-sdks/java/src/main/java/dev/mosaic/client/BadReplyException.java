package dev.mosaic.client;

/**
 * The server's reply could not be decoded, or was larger than
 * {@link MosaicClient.Builder#maxMessageSize(int) maxMessageSize}. Often the client and the
 * server disagree on the {@link Protocol} or {@link Framing} (Mosaic's own servers detect both
 * per connection), or the address is not a Thrift server at all. The server may have run the
 * call.
 */
public class BadReplyException extends MosaicException {
    private static final long serialVersionUID = 1L;

    /** An undecodable reply, as {@code cause} found. */
    public BadReplyException(String message, Throwable cause) {
        super(message, cause);
    }
}
