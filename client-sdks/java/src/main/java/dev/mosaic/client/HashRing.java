package dev.mosaic.client;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;

/**
 * A consistent-hash ring over instances: each has points in proportion to its weight, placed
 * by hashing its address (not the registry's id, which changes when it re-registers), and a
 * key belongs to the first point at or after its own hash. Adding or removing an instance
 * moves only the keys of its points.
 */
final class HashRing {
    /** Points per unit of weight: 50 for the default weight of 100. */
    private static final double POINTS_PER_WEIGHT = 0.5;
    private static final int MAX_POINTS = 5000;

    private final long[] hashes;
    private final Backend[] owners;

    HashRing(List<Backend> backends) {
        int total = 0;
        for (Backend backend : backends) {
            total += points(backend);
        }
        long[] keys = new long[total];
        Backend[] byIndex = new Backend[total];
        Integer[] order = new Integer[total];
        int i = 0;
        for (Backend backend : backends) {
            for (int point = 0; point < points(backend); point++) {
                keys[i] = hash(backend.endpoint() + "#" + point);
                byIndex[i] = backend;
                order[i] = i;
                i++;
            }
        }
        Arrays.sort(order, (x, y) -> Long.compareUnsigned(keys[x], keys[y]));
        hashes = new long[total];
        owners = new Backend[total];
        for (int k = 0; k < total; k++) {
            hashes[k] = keys[order[k]];
            owners[k] = byIndex[order[k]];
        }
    }

    /**
     * The owner of {@code key}, or, when {@code usable} refuses it, the next usable instance
     * clockwise; {@code null} when none is.
     */
    Backend pick(String key, Predicate<Backend> usable) {
        if (hashes.length == 0) {
            return null;
        }
        int start = firstAtOrAfter(hash(key));
        for (int k = 0; k < hashes.length; k++) {
            Backend owner = owners[(start + k) % hashes.length];
            if (usable.test(owner)) {
                return owner;
            }
        }
        return null;
    }

    private int firstAtOrAfter(long hash) {
        int low = 0;
        int high = hashes.length;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (Long.compareUnsigned(hashes[mid], hash) < 0) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low == hashes.length ? 0 : low;
    }

    private static int points(Backend backend) {
        return (int) Math.max(1, Math.min(MAX_POINTS, Math.round(backend.weight() * POINTS_PER_WEIGHT)));
    }

    /** 64-bit FNV-1a over the UTF-8 bytes, then MurmurHash3's finaliser to spread close inputs. */
    static long hash(String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
