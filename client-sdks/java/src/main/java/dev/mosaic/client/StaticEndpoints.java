package dev.mosaic.client;

import java.util.List;

/** A fixed list of endpoints, as the builder was given them. */
final class StaticEndpoints implements EndpointResolver {
    private final List<Endpoint> endpoints;

    StaticEndpoints(List<Endpoint> endpoints) {
        if (endpoints.isEmpty()) {
            throw new IllegalArgumentException("no endpoints");
        }
        this.endpoints = List.copyOf(endpoints);
    }

    @Override
    public List<Endpoint> endpoints() {
        return endpoints;
    }

    @Override
    public String toString() {
        return endpoints.toString();
    }
}
