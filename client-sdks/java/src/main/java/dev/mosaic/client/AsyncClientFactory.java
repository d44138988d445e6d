package dev.mosaic.client;

import java.time.Duration;
import org.apache.thrift.protocol.TProtocol;

/**
 * Makes a generated pipelined async client over one connection: the generated
 * {@code AsyncClient}'s constructor, as in {@code ImageService.AsyncClient::new}.
 *
 * @param <A> the service's {@code AsyncIface}
 */
@FunctionalInterface
public interface AsyncClientFactory<A> {
    /**
     * A client on one connection.
     *
     * @param input the protocol it reads replies with
     * @param output the protocol it writes calls with (a separate stack over the same socket)
     * @param timeout how long a call may wait for its reply
     * @return the generated async client
     */
    A create(TProtocol input, TProtocol output, Duration timeout);
}
