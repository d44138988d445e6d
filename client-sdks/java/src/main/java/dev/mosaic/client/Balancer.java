package dev.mosaic.client;

/**
 * How a client spreads calls over the instances of a service. Every balancer honours the
 * instances' weights, skips instances that are ejected (they failed to connect, or let 3 calls
 * in a row time out) and sends nothing new to an instance of weight 0. With a
 * {@link MosaicClient.Builder#zone(String) zone}, it chooses among the instances of that zone
 * while any of them may take the call, and among all of them otherwise.
 */
public enum Balancer {
    /**
     * Power of two choices (the default): two instances drawn at random by weight, the one
     * with fewer calls outstanding per unit of weight wins. Load follows how fast each
     * instance answers, with no shared state between callers beyond one counter per instance.
     */
    P2C,
    /**
     * Smooth weighted round robin: instances take turns in proportion to their weights,
     * whatever their speed. Predictable, but a slow instance gets its full share.
     */
    ROUND_ROBIN,
    /**
     * Consistent hashing on a key the caller gives ({@link MosaicClient#withKey(String)}):
     * calls with the same key go to the same instance while it is listed and healthy, so it
     * can keep a model or cache warm; when instances come or go only the keys of those move.
     * Calls without a key are balanced as by {@link #P2C}.
     */
    HASH
}
