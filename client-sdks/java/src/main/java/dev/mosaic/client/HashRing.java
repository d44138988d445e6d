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
 *
 * <p>Points and key hashes are computed as Mosaic's Rust runtime computes them
 * ({@code runtime/src/client/balance.rs}), so a key reaches the same instance from Java and
 * from Rust clients that see the same list.
 */
final class HashRing {
    /** Points for the default weight of 100 (rounded up for other weights). */
    private static final long POINTS_PER_100 = 160;
    private static final long MAX_POINTS = 4000;

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
            long base = hash(backend.endpoint().toString());
            for (int point = 0; point < points(backend); point++) {
                keys[i] = mix(base ^ mix(point + 1));
                byIndex[i] = backend;
                order[i] = i;
                i++;
            }
        }
        // By point, then by position in the list, as the runtime sorts (point, index) pairs.
        Arrays.sort(order, (x, y) -> {
            int byPoint = Long.compareUnsigned(keys[x], keys[y]);
            return byPoint != 0 ? byPoint : Integer.compare(backends.indexOf(byIndex[x]), backends.indexOf(byIndex[y]));
        });
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

    /** ceil(weight * 160 / 100), at least 1 and at most 4000. */
    private static int points(Backend backend) {
        long points = (backend.weight() * POINTS_PER_100 + 99) / 100;
        return (int) Math.max(1, Math.min(MAX_POINTS, points));
    }

    /** 64-bit FNV-1a over the UTF-8 bytes, then SplitMix64's finaliser so near keys land far apart. */
    static long hash(String text) {
        long h = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
