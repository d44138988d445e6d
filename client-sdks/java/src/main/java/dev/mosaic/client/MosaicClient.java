package dev.mosaic.client;

import dev.mosaic.image.ImageService;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.protocol.TProtocol;

/**
 * A client for Mosaic services (and any Thrift server): thread-safe service interfaces over a
 * pool of connections.
 *
 * <pre>{@code
 * try (MosaicClient client = MosaicClient.builder("127.0.0.1:9090")
 *         .timeout(Duration.ofSeconds(30))
 *         .build()) {
 *     ImageService.Iface image = client.image();
 *     ImageInfo info = image.info(picture);
 * }
 * }</pre>
 *
 * <p>Blocking calls share one pool of at most {@link Builder#poolSize(int) poolSize}
 * connections, each carrying one call at a time; a call waits for a free connection within its
 * timeout. Async calls are pipelined on a few connections of their own.
 *
 * <p>Errors: exceptions the IDL declares and {@link org.apache.thrift.TApplicationException}
 * reach the caller unchanged; failures of the connection are {@link MosaicException}s:
 * {@link ConnectFailedException}, {@link TransportFailedException}, {@link CallTimeoutException},
 * {@link BadReplyException}, {@link ClientClosedException}.
 *
 * <p>Create one client per server (or set of servers) and share it; close it when done.
 */
public final class MosaicClient implements AutoCloseable {
    private final ClientConfig config;
    private final Connector connector;
    private final ConnectionPool pool;
    private final List<AsyncInvoker<?>> asyncInvokers = new ArrayList<>();
    private ImageService.Iface image;
    private ImageService.AsyncIface imageAsync;
    private ImageClient imageClient;
    private boolean closed;

    private MosaicClient(ClientConfig config, EndpointResolver resolver) {
        this.config = config;
        this.connector = new Connector(resolver, config);
        this.pool = new ConnectionPool(connector, config.poolSize());
    }

    /**
     * A builder for a client of the server at {@code address}, {@code host:port} (an IPv6 host
     * in brackets).
     */
    public static Builder builder(String address) {
        return new Builder(new StaticEndpoints(List.of(Endpoint.parse(Objects.requireNonNull(address, "address")))));
    }

    /**
     * A thread-safe {@code iface} whose calls run on this client's pooled connections, through
     * the generated blocking client {@code clientFactory} makes, e.g.
     * {@code client.service(ImageService.Iface.class, ImageService.Client::new)}. Works for
     * any service Mosaic's Java back end (or Apache's) generates.
     *
     * @param iface the service's {@code Iface}
     * @param clientFactory the generated {@code Client}'s constructor
     */
    public <I> I service(Class<I> iface, Function<? super TProtocol, ? extends I> clientFactory) {
        Objects.requireNonNull(clientFactory, "clientFactory");
        return proxy(iface, new BlockingInvoker<>(iface, clientFactory, pool, config));
    }

    /**
     * A thread-safe {@code asyncIface} whose calls are pipelined on
     * {@link Builder#asyncConnections(int) asyncConnections} connections of its own, through the
     * generated async client {@code clientFactory} makes, e.g.
     * {@code client.asyncService(ImageService.AsyncIface.class, ImageService.AsyncClient::new)}.
     * Each call creates new connections: call it once per service and keep the result.
     *
     * <p>Futures fail with the errors blocking calls throw. Connecting (on first use, or after a
     * connection failed) happens on the calling thread, within the connect timeout.
     *
     * @param asyncIface the service's {@code AsyncIface}
     * @param clientFactory the generated {@code AsyncClient}'s constructor
     */
    public <A> A asyncService(Class<A> asyncIface, AsyncClientFactory<? extends A> clientFactory) {
        Objects.requireNonNull(clientFactory, "clientFactory");
        List<AsyncChannel<A>> channels = new ArrayList<>();
        for (int i = 0; i < config.asyncConnections(); i++) {
            channels.add(new AsyncChannel<>(connector, clientFactory));
        }
        AsyncInvoker<A> invoker = new AsyncInvoker<>(asyncIface, channels, config);
        synchronized (this) {
            if (closed) {
                invoker.close();
            } else {
                asyncInvokers.add(invoker);
            }
        }
        return proxy(asyncIface, invoker);
    }

    /** The image service ({@code idl/image.thrift}), blocking; the same object every time. */
    public synchronized ImageService.Iface image() {
        if (image == null) {
            image = service(ImageService.Iface.class, ImageService.Client::new);
        }
        return image;
    }

    /** The image service with pipelined {@code CompletableFuture} calls; the same object every time. */
    public synchronized ImageService.AsyncIface imageAsync() {
        if (imageAsync == null) {
            imageAsync = asyncService(ImageService.AsyncIface.class, ImageService.AsyncClient::new);
        }
        return imageAsync;
    }

    /**
     * The image service with typed conveniences ({@code BufferedImage}s, batches with bounded
     * concurrency), over {@link #image()} and {@link #imageAsync()}; the same object every time.
     */
    public synchronized ImageClient imageClient() {
        if (imageClient == null) {
            imageClient = new ImageClient(image(), imageAsync());
        }
        return imageClient;
    }

    /**
     * Closes every connection: idle ones now, those busy with a blocking call when the call
     * ends. Async calls in flight fail; later calls throw (or fail with)
     * {@link ClientClosedException}.
     */
    @Override
    public void close() {
        List<AsyncInvoker<?>> invokers;
        synchronized (this) {
            closed = true;
            invokers = new ArrayList<>(asyncInvokers);
            asyncInvokers.clear();
        }
        pool.close();
        invokers.forEach(AsyncInvoker::close);
    }

    /** The blocking connections open now, idle or in use. */
    public int openConnections() {
        return pool.size();
    }

    @Override
    public String toString() {
        return "MosaicClient(" + connector + ")";
    }

    private static <T> T proxy(Class<T> iface, java.lang.reflect.InvocationHandler handler) {
        if (!iface.isInterface()) {
            throw new IllegalArgumentException(iface.getName() + " is not an interface");
        }
        return iface.cast(Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, handler));
    }

    /** Settings of a {@link MosaicClient}; every one has a default. */
    public static final class Builder {
        private final EndpointResolver resolver;
        private Duration timeout = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private int poolSize = 8;
        private int retries = 2;
        private Protocol protocol = Protocol.BINARY;
        private Framing framing = Framing.FRAMED;
        private int asyncConnections = 2;
        private int maxMessageSize = TConfiguration.DEFAULT_MAX_MESSAGE_SIZE;

        Builder(EndpointResolver resolver) {
            this.resolver = resolver;
        }

        /**
         * How long a call may take: waiting for a free connection, connecting and retrying all
         * count against it, and what is left bounds the wait for the server's reply (the
         * socket's read timeout; for async calls, the future's). Default 30 seconds.
         */
        public Builder timeout(Duration timeout) {
            this.timeout = positive(timeout, "timeout");
            return this;
        }

        /** How long opening one connection may take (within the call's timeout). Default 5 seconds. */
        public Builder connectTimeout(Duration connectTimeout) {
            this.connectTimeout = positive(connectTimeout, "connectTimeout");
            return this;
        }

        /** The most connections blocking calls use at once. Default 8. */
        public Builder poolSize(int poolSize) {
            this.poolSize = atLeast(1, poolSize, "poolSize");
            return this;
        }

        /**
         * How many times a call is retried when its request certainly did not reach the server
         * (connection refused, or a pooled connection found closed). Default 2.
         */
        public Builder retries(int retries) {
            this.retries = atLeast(0, retries, "retries");
            return this;
        }

        /** The Thrift protocol. Default {@link Protocol#BINARY}. */
        public Builder protocol(Protocol protocol) {
            this.protocol = Objects.requireNonNull(protocol, "protocol");
            return this;
        }

        /** How messages are delimited. Default {@link Framing#FRAMED}. */
        public Builder framing(Framing framing) {
            this.framing = Objects.requireNonNull(framing, "framing");
            return this;
        }

        /** How many multiplexed connections each async service spreads its calls over. Default 2. */
        public Builder asyncConnections(int asyncConnections) {
            this.asyncConnections = atLeast(1, asyncConnections, "asyncConnections");
            return this;
        }

        /**
         * The largest message (and frame) the client reads, in bytes. Default libthrift's
         * {@link TConfiguration#DEFAULT_MAX_MESSAGE_SIZE} (100 MB).
         */
        public Builder maxMessageSize(int maxMessageSize) {
            this.maxMessageSize = atLeast(1024, maxMessageSize, "maxMessageSize");
            return this;
        }

        /** The client. It connects lazily: building never fails for an unreachable server. */
        public MosaicClient build() {
            ClientConfig config = new ClientConfig(timeout, connectTimeout, poolSize, retries, protocol, framing,
                asyncConnections, maxMessageSize);
            return new MosaicClient(config, resolver);
        }

        private static Duration positive(Duration value, String name) {
            Objects.requireNonNull(value, name);
            if (value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(name + " must be positive, got " + value);
            }
            return value;
        }

        private static int atLeast(int min, int value, String name) {
            if (value < min) {
                throw new IllegalArgumentException(name + " must be at least " + min + ", got " + value);
            }
            return value;
        }
    }
}
