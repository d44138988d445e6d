package dev.mosaic.client;

import java.util.Map;

/**
 * One instance of a service as its source lists it: a static address, or the registry's
 * {@code Instance}.
 *
 * @param weight its relative share of calls; 0 takes no new calls
 * @param zone where it runs, or {@code null}
 * @param tags its labels ({@code mosaic serve image --tag gpu=a100}); none for a static address
 */
record ServiceInstance(Endpoint endpoint, int weight, String zone, Map<String, String> tags) {
    ServiceInstance {
        if (weight < 0) {
            throw new IllegalArgumentException("negative weight " + weight + " for " + endpoint);
        }
        tags = tags == null ? Map.of() : Map.copyOf(tags);
    }

    /** An instance without tags. */
    ServiceInstance(Endpoint endpoint, int weight, String zone) {
        this(endpoint, weight, zone, Map.of());
    }

    /** Whether it carries every one of {@code wanted}: each key, with exactly that value. */
    boolean hasTags(Map<String, String> wanted) {
        for (Map.Entry<String, String> tag : wanted.entrySet()) {
            if (!tag.getValue().equals(tags.get(tag.getKey()))) {
                return false;
            }
        }
        return true;
    }
}
