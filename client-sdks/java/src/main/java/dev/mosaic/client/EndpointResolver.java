package dev.mosaic.client;

import java.util.List;

/**
 * Where a connector's connections go; asked before every new connection. Each instance a
 * client balances over has its own connector with that one address; which instance a call
 * goes to is the {@link InstanceSet}'s choice.
 */
interface EndpointResolver {
    /** The endpoints to connect to; never empty. */
    List<Endpoint> endpoints() throws MosaicException;
}
