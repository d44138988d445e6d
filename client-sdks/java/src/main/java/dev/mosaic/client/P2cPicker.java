package dev.mosaic.client;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Power of two choices: two distinct instances drawn at random by weight, and the one with
 * fewer outstanding calls per unit of weight. When they tie (an idle service) the first draw
 * wins, so idle traffic still splits by weight.
 */
final class P2cPicker implements Picker {
    @Override
    public Backend pick(List<Backend> candidates) {
        int size = candidates.size();
        if (size == 1) {
            return candidates.get(0);
        }
        // Weights are read once: the registry may change them while this pick runs.
        int[] weights = new int[size];
        for (int i = 0; i < size; i++) {
            weights[i] = Math.max(1, candidates.get(i).weight());
        }
        int first = draw(weights, -1);
        int second = draw(weights, first);
        Backend a = candidates.get(first);
        Backend b = candidates.get(second);
        // a.outstanding / a.weight <= b.outstanding / b.weight, without division.
        return (long) a.outstanding() * weights[second] <= (long) b.outstanding() * weights[first] ? a : b;
    }

    /** An index drawn with probability proportional to its weight, never {@code skip}. */
    private static int draw(int[] weights, int skip) {
        long total = 0;
        for (int i = 0; i < weights.length; i++) {
            if (i != skip) {
                total += weights[i];
            }
        }
        long point = ThreadLocalRandom.current().nextLong(total);
        int last = -1;
        for (int i = 0; i < weights.length; i++) {
            if (i == skip) {
                continue;
            }
            last = i;
            point -= weights[i];
            if (point < 0) {
                return i;
            }
        }
        return last;
    }
}
