package dev.mosaic.client;

/**
 * What one instance of a service has seen from this client, for dashboards and tests
 * ({@link MosaicClient#instances()}).
 *
 * @param address {@code host:port}
 * @param weight its current weight (0: no new calls)
 * @param zone the zone the registry lists for it, or {@code null}
 * @param calls attempts started on it, retries included
 * @param errors attempts that failed for want of an answer: connecting, the connection
 *     breaking, a timeout, an unreadable reply or {@code Overloaded} (errors the service
 *     declares and sends are answers, not errors)
 * @param outstanding attempts in progress now
 * @param ejected whether it is sitting out a backoff after failing to connect, or after 3 of
 *     its calls in a row timed out
 */
public record InstanceStats(String address, int weight, String zone, long calls, long errors, int outstanding,
                            boolean ejected) {
}
