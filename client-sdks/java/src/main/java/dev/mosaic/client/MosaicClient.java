package dev.mosaic.client;

import dev.mosaic.image.ImageService;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.protocol.TProtocol;

/**
 * A client for Mosaic services (and any Thrift server): thread-safe service interfaces over
 * pools of connections to one or more instances of a service.
 *
 * <pre>{@code
 * // One server, or a fixed list of them (calls are balanced across the list):
 * try (MosaicClient client = MosaicClient.builder("127.0.0.1:9090")
 *         .timeout(Duration.ofSeconds(30))
 *         .build()) {
 *     ImageService.Iface image = client.image();
 *     ImageInfo info = image.info(picture);
 * }
 *
 * // Every instance the registry lists, followed as they come and go:
 * try (MosaicClient client = MosaicClient.discover("image")
 *         .registry("10.0.0.1:7070", "10.0.0.2:7070")
 *         .balancer(Balancer.P2C)
 *         .zone("eu-1")                        // prefer the instances registered there
 *         .tag("gpu", "a100")                  // call only the instances tagged gpu=a100
 *         .build()) {
 *     client.image().info(picture);
 *     client.withKey("resnet50").image().info(picture);   // with Balancer.HASH
 * }
 * }</pre>
 *
 * <p>Each instance has its own pool of at most {@link Builder#poolSize(int) poolSize}
 * connections for blocking calls, each carrying one call at a time; a call waits for a free
 * connection within its timeout. Async calls are pipelined on a few connections per
 * instance of their own. The {@link Balancer} picks an instance for every attempt; an
 * instance that fails to connect, or lets 3 calls in a row time out, is ejected for a while
 * (1 s, doubling to 30 s) and its calls go elsewhere; one slow call alone does not eject it.
 * With a {@link Builder#zone(String) zone}, calls go to the instances registered in it while
 * any of them is healthy, and to the others otherwise. With {@link Builder#tag(String, String)
 * tags}, the client calls only the instances registered with all of them.
 *
 * <p>Errors: exceptions the IDL declares and {@link org.apache.thrift.TApplicationException}
 * reach the caller unchanged; failures of the connection are {@link MosaicException}s:
 * {@link ConnectFailedException}, {@link TransportFailedException}, {@link CallTimeoutException},
 * {@link BadReplyException}, {@link NoInstanceException}, {@link ClientClosedException}.
 *
 * <p>Create one client per service and share it; close it when done.
 */
public final class MosaicClient implements AutoCloseable {
    /** What the registry accepts as a service name. */
    private static final Pattern SERVICE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,128}");
    /** How long one registry long poll waits for a change before it is renewed. */
    private static final Duration WATCH_TIMEOUT = Duration.ofSeconds(30);

    private final ClientConfig config;
    private final InstanceSet instances;
    private final RegistryWatcher watcher;
    private final CallOptions defaults;
    private final List<AsyncChannels<?>> asyncChannels = new ArrayList<>();
    private AsyncChannels<ImageService.AsyncIface> imageChannels;
    private ImageService.Iface image;
    private ImageService.AsyncIface imageAsync;
    private ImageClient imageClient;
    private boolean closed;

    private MosaicClient(ClientConfig config, InstanceSet instances, RegistryWatcher watcher, CallOptions defaults) {
        this.config = config;
        this.instances = instances;
        this.watcher = watcher;
        this.defaults = defaults;
    }

    /**
     * A builder for a client of the server at {@code address}, {@code host:port} (an IPv6 host
     * in brackets).
     */
    public static Builder builder(String address) {
        return builder(List.of(Objects.requireNonNull(address, "address")));
    }

    /**
     * A builder for a client that balances its calls across the servers at {@code addresses}
     * ({@code host:port} each), all of weight 100 unless {@link Builder#weight} says otherwise.
     */
    public static Builder builder(List<String> addresses) {
        if (addresses.isEmpty()) {
            throw new IllegalArgumentException("no addresses");
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (String address : addresses) {
            endpoints.add(Endpoint.parse(Objects.requireNonNull(address, "address")));
        }
        return new Builder(endpoints, null);
    }

    /**
     * A builder for a client of every instance of {@code service} (e.g. {@code "image"}) that
     * the registry lists; name the registry with {@link Builder#registry(String...)}. The
     * client looks the service up once, then follows changes with the registry's long poll
     * on a daemon thread; while no registry answers it keeps the last list it had.
     */
    public static Builder discover(String service) {
        Objects.requireNonNull(service, "service");
        if (!SERVICE_NAME.matcher(service).matches()) {
            throw new IllegalArgumentException("a service name is 1 to 128 of [A-Za-z0-9._-], got \"" + service + "\"");
        }
        return new Builder(List.of(), service);
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
        return service(iface, clientFactory, defaults);
    }

    <I> I service(Class<I> iface, Function<? super TProtocol, ? extends I> clientFactory, CallOptions options) {
        Objects.requireNonNull(clientFactory, "clientFactory");
        return proxy(iface, new BlockingInvoker<>(iface, clientFactory, instances, config, options));
    }

    /**
     * A thread-safe {@code asyncIface} whose calls are pipelined on
     * {@link Builder#asyncConnections(int) asyncConnections} connections of its own per
     * instance, through the generated async client {@code clientFactory} makes, e.g.
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
        return proxy(asyncIface, new AsyncInvoker<>(asyncIface, newAsyncChannels(clientFactory), instances, config, defaults));
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
            imageAsync = imageAsync(defaults);
        }
        return imageAsync;
    }

    /** The image service's async proxy with {@code options}, on the connections every such proxy shares. */
    synchronized ImageService.AsyncIface imageAsync(CallOptions options) {
        if (imageChannels == null) {
            imageChannels = newAsyncChannels(ImageService.AsyncClient::new);
        }
        return proxy(ImageService.AsyncIface.class,
            new AsyncInvoker<>(ImageService.AsyncIface.class, imageChannels, instances, config, options));
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
     * The services with calls routed by {@code key}: calls with the same key go to the same
     * instance while it is listed and healthy (e.g. the one that has a model loaded).
     * Needs {@link Balancer#HASH}.
     *
     * @throws IllegalStateException when the client was built with another balancer
     */
    public ClientView withKey(String key) {
        return new ClientView(this, defaults).withKey(key);
    }

    /**
     * The services with calls marked idempotent: a call whose connection failed after the
     * request was sent is retried too (on another instance when there is one).
     */
    public ClientView idempotent() {
        return new ClientView(this, defaults).idempotent();
    }

    /** How this client balances its calls. */
    public Balancer balancer() {
        return instances.balancer();
    }

    /** The zone whose instances this client prefers, or {@code null} for none. */
    public String zone() {
        return instances.zone();
    }

    /**
     * The tags every instance this client calls carries ({@link Builder#tag}), sorted by key;
     * empty for none.
     */
    public Map<String, String> tags() {
        return instances.tags();
    }

    /** The instances listed now, with what this client has seen of each. */
    public List<InstanceStats> instances() {
        return instances.backends().stream().map(Backend::stats).toList();
    }

    /**
     * Stops following the registry, and closes every connection: idle ones now, those busy
     * with a blocking call when the call ends. Async calls in flight fail; later calls throw
     * (or fail with) {@link ClientClosedException}.
     */
    @Override
    public void close() {
        List<AsyncChannels<?>> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayList<>(asyncChannels);
            asyncChannels.clear();
        }
        if (watcher != null) {
            watcher.close();
        }
        instances.close();
        toClose.forEach(AsyncChannels::close);
    }

    /** Whether a registry watch thread runs (for tests of {@link #close()}). */
    boolean watching() {
        return watcher != null && watcher.isRunning();
    }

    /** The blocking connections open now to every instance, idle or in use. */
    public int openConnections() {
        return instances.backends().stream().mapToInt(backend -> backend.pool().size()).sum();
    }

    @Override
    public String toString() {
        return "MosaicClient(" + instances + ")";
    }

    private <A> AsyncChannels<A> newAsyncChannels(AsyncClientFactory<? extends A> clientFactory) {
        AsyncChannels<A> channels = new AsyncChannels<>(clientFactory, config.asyncConnections());
        synchronized (this) {
            if (closed) {
                channels.close();
            } else {
                asyncChannels.add(channels);
            }
        }
        return channels;
    }

    private static <T> T proxy(Class<T> iface, java.lang.reflect.InvocationHandler handler) {
        if (!iface.isInterface()) {
            throw new IllegalArgumentException(iface.getName() + " is not an interface");
        }
        return iface.cast(Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, handler));
    }

    /** Settings of a {@link MosaicClient}; every one has a default. */
    public static final class Builder {
        private final List<Endpoint> addresses;
        private final String service;
        private final Map<Endpoint, Integer> weights = new LinkedHashMap<>();
        private List<Endpoint> registries = List.of();
        private Balancer balancer = Balancer.P2C;
        private String zone;
        private final Map<String, String> tags = new TreeMap<>();
        private boolean idempotent;
        private Duration timeout = Duration.ofSeconds(30);
        private Duration connectTimeout = Duration.ofSeconds(5);
        private int poolSize = 8;
        private int retries = 2;
        private Protocol protocol = Protocol.BINARY;
        private Framing framing = Framing.FRAMED;
        private int asyncConnections = 2;
        private int maxMessageSize = TConfiguration.DEFAULT_MAX_MESSAGE_SIZE;

        Builder(List<Endpoint> addresses, String service) {
            this.addresses = List.copyOf(addresses);
            this.service = service;
        }

        /**
         * The registries to ask for the service's instances ({@code host:port} each), tried in
         * turn when one cannot be reached. Only for {@link MosaicClient#discover}.
         */
        public Builder registry(String... addresses) {
            if (service == null) {
                throw new IllegalStateException("registry(...) is for MosaicClient.discover(service)");
            }
            if (addresses.length == 0) {
                throw new IllegalArgumentException("no registry addresses");
            }
            List<Endpoint> parsed = new ArrayList<>();
            for (String address : addresses) {
                parsed.add(Endpoint.parse(Objects.requireNonNull(address, "address")));
            }
            this.registries = List.copyOf(parsed);
            return this;
        }

        /** How calls are spread over the instances. Default {@link Balancer#P2C}. */
        public Builder balancer(Balancer balancer) {
            this.balancer = Objects.requireNonNull(balancer, "balancer");
            return this;
        }

        /**
         * The zone to prefer, e.g. {@code "eu-1"}, the one this client runs in. Each attempt of
         * a call goes to an instance registered with that zone ({@code mosaic serve image
         * --zone eu-1}) that takes calls (weight above 0), is not ejected and was not tried by
         * this call yet, chosen by the {@link #balancer} as among all; only when there is no
         * such instance is it chosen among all of them, exactly as without a zone. So calls go
         * to the zone's instances while any of them is healthy, and to the others otherwise.
         * Only the registry lists zones: the addresses of {@link MosaicClient#builder(List)}
         * have none, and there this changes nothing. Default: none.
         */
        public Builder zone(String zone) {
            Objects.requireNonNull(zone, "zone");
            if (zone.isEmpty()) {
                throw new IllegalArgumentException("zone must not be empty");
            }
            this.zone = zone;
            return this;
        }

        /**
         * Calls only the instances registered with the tag {@code key} = {@code value}
         * ({@code mosaic serve image --tag gpu=a100}, the registry's {@code Instance.tags}),
         * e.g. {@code tag("gpu", "a100")}. Repeatable: an instance must carry every tag given,
         * each key with exactly its value (a second tag with the same key replaces the first).
         * The others are left out of every list the registry sends, as if it did not list them:
         * this is a filter, not a preference, so there is no fallback to them; an instance
         * that registers later with the tags joins, one without them never does. When none
         * has them, calls fail with {@link NoInstanceException}, whose message names the
         * tags. Only registered instances have tags: with the addresses of
         * {@link MosaicClient#builder(List)}, {@link #build()} throws. Default: none.
         *
         * @throws NullPointerException when {@code key} or {@code value} is null
         * @throws IllegalArgumentException when {@code key} is empty
         */
        public Builder tag(String key, String value) {
            Objects.requireNonNull(key, "tag key");
            Objects.requireNonNull(value, "tag value");
            if (key.isEmpty()) {
                throw new IllegalArgumentException("a tag key must not be empty");
            }
            tags.put(key, value);
            return this;
        }

        /**
         * The weight (0 to 10000; default 100) of one of the addresses given to
         * {@link MosaicClient#builder(List)}: its relative share of calls, 0 for none. With
         * {@link MosaicClient#discover} the registry says each instance's weight.
         */
        public Builder weight(String address, int weight) {
            Endpoint endpoint = Endpoint.parse(Objects.requireNonNull(address, "address"));
            if (!addresses.contains(endpoint)) {
                throw new IllegalArgumentException(address + " is not one of the client's addresses " + addresses);
            }
            if (weight < 0 || weight > 10_000) {
                throw new IllegalArgumentException("weight must be 0 to 10000, got " + weight);
            }
            weights.put(endpoint, weight);
            return this;
        }

        /**
         * Whether every call of the client may run twice, so that a call whose connection
         * failed after the request was sent is retried as well (see also
         * {@link MosaicClient#idempotent()} for some calls only). Default false.
         */
        public Builder idempotent(boolean idempotent) {
            this.idempotent = idempotent;
            return this;
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

        /** The most connections blocking calls use at once, per instance. Default 8. */
        public Builder poolSize(int poolSize) {
            this.poolSize = atLeast(1, poolSize, "poolSize");
            return this;
        }

        /**
         * How many times a call is retried, on another instance when there is one, when its
         * request certainly did not reach a handler (connection refused, a pooled connection
         * found closed, the server answered {@code Overloaded}), or, for idempotent calls,
         * when the connection failed after the request was sent. Default 2.
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

        /** How many multiplexed connections each async service spreads its calls over, per instance. Default 2. */
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

        /**
         * The client. It connects lazily: building never fails for an unreachable server or
         * registry. With {@link MosaicClient#discover}, the first calls wait (within their
         * timeout) for the first list, and fail with {@link NoInstanceException} when no
         * registry answered.
         *
         * @throws IllegalStateException when {@code discover} has no {@link #registry}, or a
         *     client of fixed addresses has {@link #tag tags}
         */
        public MosaicClient build() {
            ClientConfig config = new ClientConfig(timeout, connectTimeout, poolSize, retries, protocol, framing,
                asyncConnections, maxMessageSize);
            CallOptions defaults = new CallOptions(null, idempotent);
            if (service == null) {
                if (!tags.isEmpty()) {
                    throw new IllegalStateException("tags " + tags + " select among the instances a registry lists"
                        + " and need MosaicClient.discover(service).registry(address...): the addresses of"
                        + " MosaicClient.builder(...) have no tags");
                }
                InstanceSet instances = new InstanceSet(addresses.size() == 1 ? addresses.get(0).toString() : addresses.toString(),
                    config, balancer, zone);
                List<ServiceInstance> listed = new ArrayList<>();
                for (Endpoint address : addresses) {
                    listed.add(new ServiceInstance(address, weights.getOrDefault(address, 100), null));
                }
                instances.update(listed);
                return new MosaicClient(config, instances, null, defaults);
            }
            if (registries.isEmpty()) {
                throw new IllegalStateException("MosaicClient.discover(\"" + service + "\") needs registry(address...)");
            }
            InstanceSet instances = new InstanceSet(service + " (registry " + String.join(", ",
                registries.stream().map(Endpoint::toString).toList()) + ")", config, balancer, zone, tags);
            RegistryWatcher watcher = new RegistryWatcher(service, registries, instances, config, WATCH_TIMEOUT);
            watcher.start();
            return new MosaicClient(config, instances, watcher, defaults);
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
