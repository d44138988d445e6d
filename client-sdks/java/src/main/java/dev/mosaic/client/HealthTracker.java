package dev.mosaic.client;

import java.util.concurrent.TimeUnit;

/**
 * Passive health of one instance: a failure to connect or a timeout ejects it for a backoff
 * (1 s, doubling with each ejection in a row up to 30 s), after which it is tried again; an
 * answer ends the streak. Failures seen while already ejected (calls that were in flight when
 * it went down) do not lengthen the backoff, so one crash costs one step, not one per call.
 */
final class HealthTracker {
    static final long FIRST_NANOS = TimeUnit.SECONDS.toNanos(1);
    static final long MAX_NANOS = TimeUnit.SECONDS.toNanos(30);

    private volatile long ejectedUntil;
    private volatile boolean ejected;
    private int streak;

    /** Whether the instance sits out its backoff at {@code now} ({@link System#nanoTime()}). */
    boolean isEjected(long now) {
        return ejected && now - ejectedUntil < 0;
    }

    /** The instance could not be reached, or did not answer in time. */
    synchronized void failed(long now) {
        if (isEjected(now)) {
            return;
        }
        long backoff = Math.min(MAX_NANOS, FIRST_NANOS << Math.min(5, streak));
        streak++;
        ejectedUntil = now + backoff;
        ejected = true;
    }

    /** The instance answered. */
    synchronized void answered() {
        streak = 0;
        ejected = false;
    }
}
