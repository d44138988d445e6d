package dev.mosaic.client;

import java.time.Duration;

/** The instant a call must be done by; every wait of the call is bounded by what is left. */
final class Deadline {
    private final long endNanos;
    private final Duration budget;

    private Deadline(long endNanos, Duration budget) {
        this.endNanos = endNanos;
        this.budget = budget;
    }

    static Deadline after(Duration budget) {
        return new Deadline(System.nanoTime() + budget.toNanos(), budget);
    }

    /** What the call was given in all. */
    Duration budget() {
        return budget;
    }

    long remainingNanos() {
        return endNanos - System.nanoTime();
    }

    boolean expired() {
        return remainingNanos() <= 0;
    }

    /** What is left in whole milliseconds, at least 1 (0 means "forever" to sockets). */
    int remainingMillis() {
        long millis = (remainingNanos() + 999_999) / 1_000_000;
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, millis));
    }
}
