package dev.mosaic.client;

import dev.mosaic.image.ImageService;
import java.util.Objects;
import java.util.function.Function;
import org.apache.thrift.protocol.TProtocol;

/**
 * A {@link MosaicClient}'s services with options for the calls made through them: a
 * consistent-hashing key ({@link #withKey}) and idempotency ({@link #idempotent()}). Views
 * share the client's connections and are cheap: make one per key, or keep them.
 *
 * <pre>{@code
 * ImageService.Iface resnet = client.withKey("resnet50").image();   // sticks to one instance
 * ImageService.Iface retried = client.idempotent().image();         // safe to run twice
 * }</pre>
 */
public final class ClientView {
    private final MosaicClient client;
    private final CallOptions options;

    ClientView(MosaicClient client, CallOptions options) {
        this.client = client;
        this.options = options;
    }

    /**
     * This view with calls routed by {@code key}: the same key reaches the same instance
     * while it is listed and healthy. Needs a client built with {@link Balancer#HASH}.
     *
     * @throws IllegalStateException when the client balances otherwise
     */
    public ClientView withKey(String key) {
        Objects.requireNonNull(key, "key");
        if (client.balancer() != Balancer.HASH) {
            throw new IllegalStateException("keys route calls only with Balancer.HASH; this client uses " + client.balancer());
        }
        return new ClientView(client, options.withKey(key));
    }

    /**
     * This view with calls that may run twice: a call whose connection fails after the
     * request was sent is retried too (on another instance when there is one), not only one
     * that never reached the server.
     */
    public ClientView idempotent() {
        return new ClientView(client, options.withIdempotent(true));
    }

    /** The image service, blocking, with this view's options. */
    public ImageService.Iface image() {
        return service(ImageService.Iface.class, ImageService.Client::new);
    }

    /** The image service, pipelined, with this view's options, on the client's async connections. */
    public ImageService.AsyncIface imageAsync() {
        return client.imageAsync(options);
    }

    /** The image service's typed conveniences ({@link ImageClient}) with this view's options. */
    public ImageClient imageClient() {
        return new ImageClient(image(), imageAsync());
    }

    /** Any service, blocking, with this view's options; see {@link MosaicClient#service}. */
    public <I> I service(Class<I> iface, Function<? super TProtocol, ? extends I> clientFactory) {
        return client.service(iface, clientFactory, options);
    }

    @Override
    public String toString() {
        return "ClientView(" + client + ", key=" + options.key() + ", idempotent=" + options.idempotent() + ")";
    }
}
