package dev.mosaic.client;

/** The {@link MosaicClient} was closed; it makes no more calls. */
public class ClientClosedException extends MosaicException {
    private static final long serialVersionUID = 1L;

    /** A call made after (or cut short by) {@link MosaicClient#close()}. */
    public ClientClosedException() {
        super("the client is closed");
    }
}
