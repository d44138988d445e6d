package dev.mosaic.client;

import java.util.List;

/**
 * Where a client's connections go. The client asks before every new connection, so a
 * resolver may change its answer over time (a registry-backed one will).
 */
interface EndpointResolver {
    /** The endpoints to connect to; never empty. */
    List<Endpoint> endpoints() throws MosaicException;
}
