package dev.mosaic.client;

/**
 * How the calls of one service proxy are routed and retried.
 *
 * @param key the consistent-hashing key, or {@code null}
 * @param idempotent whether a call may run twice, so failures after the request was sent may
 *     be retried on another instance too
 */
record CallOptions(String key, boolean idempotent) {
    CallOptions withKey(String newKey) {
        return new CallOptions(newKey, idempotent);
    }

    CallOptions withIdempotent(boolean newIdempotent) {
        return new CallOptions(key, newIdempotent);
    }
}
