package dev.mosaic.client;

import java.time.Duration;

/** What a {@link MosaicClient.Builder} settled on. */
record ClientConfig(
    Duration timeout,
    Duration connectTimeout,
    int poolSize,
    int retries,
    Protocol protocol,
    Framing framing,
    int asyncConnections,
    int maxMessageSize) {
}
