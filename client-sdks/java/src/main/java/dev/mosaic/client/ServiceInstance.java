package dev.mosaic.client;

/**
 * One instance of a service as its source lists it: a static address, or the registry's
 * {@code Instance}.
 *
 * @param weight its relative share of calls; 0 takes no new calls
 * @param zone where it runs, or {@code null}
 */
record ServiceInstance(Endpoint endpoint, int weight, String zone) {
    ServiceInstance {
        if (weight < 0) {
            throw new IllegalArgumentException("negative weight " + weight + " for " + endpoint);
        }
    }
}
