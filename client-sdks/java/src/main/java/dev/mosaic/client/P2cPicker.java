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
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        Backend first = drawByWeight(candidates, null);
        Backend second = drawByWeight(candidates, first);
        // first.outstanding / first.weight <= second.outstanding / second.weight, without division.
        long a = (long) first.outstanding() * second.weight();
        long b = (long) second.outstanding() * first.weight();
        return a <= b ? first : second;
    }

    private static Backend drawByWeight(List<Backend> candidates, Backend skip) {
        long total = 0;
        for (Backend backend : candidates) {
            if (backend != skip) {
                total += backend.weight();
            }
        }
        long point = ThreadLocalRandom.current().nextLong(total);
        for (Backend backend : candidates) {
            if (backend == skip) {
                continue;
            }
            point -= backend.weight();
            if (point < 0) {
                return backend;
            }
        }
        throw new IllegalStateException("weights changed while drawing");
    }
}
