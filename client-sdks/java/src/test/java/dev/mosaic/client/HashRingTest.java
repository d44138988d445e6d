package dev.mosaic.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ring alone: weights set the share of keys, and only a removed instance's keys move. */
class HashRingTest {
    private static final ClientConfig CONFIG = new ClientConfig(Duration.ofSeconds(1), Duration.ofSeconds(1), 1, 0,
        Protocol.BINARY, Framing.FRAMED, 1, 1 << 20);

    private static Backend backend(int port, int weight) {
        return new Backend(new ServiceInstance(new Endpoint("127.0.0.1", port), weight, null), CONFIG);
    }

    @Test
    void removingAnInstanceMovesOnlyItsKeys() {
        Backend a = backend(1001, 100);
        Backend b = backend(1002, 100);
        Backend c = backend(1003, 100);
        HashRing all = new HashRing(List.of(a, b, c));
        HashRing withoutB = new HashRing(List.of(a, c));
        Map<Backend, Integer> owned = new HashMap<>();
        for (int key = 0; key < 3000; key++) {
            Backend before = all.pick("key-" + key, x -> true);
            Backend after = withoutB.pick("key-" + key, x -> true);
            owned.merge(before, 1, Integer::sum);
            if (before != b) {
                assertEquals(before, after, "key-" + key + " moved although its owner stayed");
            }
            // Skipping an ejected owner gives the same answer as removing it.
            assertEquals(after, all.pick("key-" + key, x -> x != b));
        }
        for (Backend backend : List.of(a, b, c)) {
            int share = owned.getOrDefault(backend, 0);
            assertTrue(share > 600 && share < 1400, backend + " owns " + share + " of 3000 keys");
        }
    }

    /** The values Mosaic's Rust runtime computes (runtime/src/client/balance.rs), so both place keys alike. */
    @Test
    void hashesMatchTheRustRuntime() {
        assertEquals(0x72eccf8123a05068L, HashRing.hash("resnet50"));
        assertEquals(0xf52a15e9a9b5e89bL, HashRing.hash(""));
        long base = HashRing.hash("127.0.0.1:9090");
        assertEquals(0x172e0be8f3227e33L, HashRing.mix(base ^ HashRing.mix(1)));
        assertEquals(0xa9cc262e11ddc080L, HashRing.mix(base ^ HashRing.mix(160)));
    }

    @Test
    void weightsSetTheShareOfKeys() {
        Backend heavy = backend(1001, 300);
        Backend light = backend(1002, 100);
        HashRing ring = new HashRing(List.of(heavy, light));
        int toHeavy = 0;
        for (int key = 0; key < 4000; key++) {
            if (ring.pick("k" + key, x -> true) == heavy) {
                toHeavy++;
            }
        }
        assertTrue(toHeavy > 2600 && toHeavy < 3400, "the 3x instance owns " + toHeavy + " of 4000 keys");
    }
}
