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
     * A client that reads replies with {@code input}, writes calls with {@code output} (two
     * protocol stacks over one socket) and fails calls not answered within {@code timeout}.
     */
    A create(TProtocol input, TProtocol output, Duration timeout);
}
