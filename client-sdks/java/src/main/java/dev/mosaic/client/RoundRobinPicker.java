package dev.mosaic.client;

import java.util.List;

/**
 * Smooth weighted round robin (as nginx does it): each pick adds every candidate's weight to
 * its running total and takes the largest, which then gives back the sum. Weights 3:1 give
 * A A B A, spread out rather than A A A B, and equal weights take plain turns.
 */
final class RoundRobinPicker implements Picker {
    @Override
    public synchronized Backend pick(List<Backend> candidates) {
        Backend best = null;
        long total = 0;
        for (Backend backend : candidates) {
            int weight = Math.max(1, backend.weight());
            backend.roundRobinCurrent += weight;
            total += weight;
            if (best == null || backend.roundRobinCurrent > best.roundRobinCurrent) {
                best = backend;
            }
        }
        best.roundRobinCurrent -= total;
        return best;
    }
}
