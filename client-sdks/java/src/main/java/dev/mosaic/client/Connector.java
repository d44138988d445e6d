package dev.mosaic.client;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** Opens connections, taking the resolver's endpoints in turn. */
final class Connector {
    private final EndpointResolver resolver;
    private final ClientConfig config;
    private final AtomicInteger next = new AtomicInteger();

    Connector(EndpointResolver resolver, ClientConfig config) {
        this.resolver = resolver;
        this.config = config;
    }

    /**
     * A new connection to the next endpoint, within the connect timeout and what is left of
     * {@code deadline}.
     *
     * @throws CallTimeoutException when the deadline has passed already
     * @throws ConnectFailedException when the endpoint cannot be reached
     */
    Connection connect(Deadline deadline) throws MosaicException {
        List<Endpoint> endpoints = resolver.endpoints();
        Endpoint endpoint = endpoints.get(Math.floorMod(next.getAndIncrement(), endpoints.size()));
        if (deadline.expired()) {
            throw new CallTimeoutException("no time left to connect to " + endpoint + " within " + deadline.budget());
        }
        int connectMillis = (int) Math.min(config.connectTimeout().toMillis(), deadline.remainingMillis());
        return Connection.open(endpoint, config, Math.max(1, connectMillis));
    }

    ClientConfig config() {
        return config;
    }

    @Override
    public String toString() {
        return resolver.toString();
    }
}
